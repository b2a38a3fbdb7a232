package dev.agentwire.server.cluster;

import dev.agentwire.core.Backfill;
import dev.agentwire.core.EventDraft;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The records Redis stores and forwards without parsing, and the channel messages around them: what a node
 * encodes is what another node decodes, field by field, and every key of a user's stream lands in one slot.
 */
class StreamCodecTest
{
    private static final String PREFIX = "aw:";

    @Test
    void shouldDecodeAChannelEventIntoTheDraftItWasEncodedFrom()
    {
        final EventDraft sent = new EventDraft().toRoom("crew").type("tool_executing").runId("r-1")
            .threadId("t:1").eventId("e{1}").toolCallId("c1").binary(false).payload("{\"x\":\"é\"}");
        final byte[] record = StreamCodec.record(sent, 1_700_000_000_123L);
        final byte[] message = channelMessage(42, 7, record);

        final EventDraft received = new EventDraft();
        assertTrue(StreamCodec.readChannelEvent("ann", message, received));
        assertTrue(received.isToRoom());
        assertEquals("crew", received.target());
        assertEquals("tool_executing", received.type());
        assertEquals("r-1", received.runId());
        assertEquals("t:1", received.threadId());
        assertEquals("e{1}", received.eventId());
        assertEquals(1_700_000_000_123L, received.timestampMs());
        assertArrayEquals("{\"x\":\"é\"}".getBytes(StandardCharsets.UTF_8), received.payloadBytes());
        assertEquals(1, received.recipientCount());
        final long[] number = new long[2];
        StreamCodec.readEventNumber(message, message.length, number);
        assertEquals(42, number[0]);
        assertEquals(7, number[1]);
        assertArrayEquals(record, StreamCodec.recordOf(message, message.length));
    }

    @Test
    void shouldReadAMessageOnlyUpToItsLengthInAReusedArray()
    {
        // The feed thread copies each message into one array it reuses: what lies past a message is an older one's.
        final EventDraft sent = new EventDraft().toUser("cy").type("app.note").payload("{}");
        final byte[] message = channelMessage(5, 9, StreamCodec.record(sent, 1));
        final byte[] reused = new byte[message.length + 64];
        java.util.Arrays.fill(reused, (byte)':');
        System.arraycopy(message, 0, reused, 0, message.length);
        final EventDraft received = new EventDraft();
        final long[] number = new long[2];
        final int recordAt = StreamCodec.readEventNumber(reused, message.length, number);
        StreamCodec.readEvent("cy", reused, message.length, recordAt, number[0], number[1], received, null);
        assertArrayEquals("{}".getBytes(StandardCharsets.UTF_8), received.payloadBytes());
        assertArrayEquals(StreamCodec.record(sent, 1), StreamCodec.recordOf(reused, message.length));

        final byte[] head = "h9:12".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, reused, 0, head.length);
        assertArrayEquals(new long[]{9, 12}, StreamCodec.readHead(reused, head.length));
        final byte[] truncated = "n1733400000000:0:12".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(truncated, 0, reused, 0, truncated.length);
        assertThrows(IllegalArgumentException.class,
            () -> StreamCodec.readEventNumber(reused, truncated.length, number),
            "no separator within the message, whatever follows it");
    }

    @Test
    void shouldKeepAbsentStringsAbsentAndAddressAUserEventToTheChannelsUser()
    {
        final EventDraft sent = new EventDraft().toUser("bob").type("app.note").binary(true)
            .payload(new byte[]{0, 1, (byte)0xFF}, 0, 3);
        final EventDraft received = new EventDraft();
        assertTrue(StreamCodec.readChannelEvent("bob", channelMessage(1, 1, StreamCodec.record(sent, 5)), received));
        assertTrue(received.isToUser());
        assertEquals("bob", received.target());
        assertNull(received.runId());
        assertNull(received.threadId());
        assertNull(received.eventId());
        assertTrue(received.isBinary());
        assertArrayEquals(new byte[]{0, 1, (byte)0xFF}, received.payloadBytes());
    }

    @Test
    void shouldEncodeARecordByteForByteAsItsLayoutStates()
    {
        // The layout in StreamCodec's header, written here the plain way: other nodes of an older build read it.
        final String type = "tool_executing";
        final String run = "r-ü";
        final String thread = "t-\uD83D\uDE00";
        final String id = "e-\uD800";
        final EventDraft sent = new EventDraft().toRoom("crew").type(type).runId(run).threadId(thread).eventId(id)
            .binary(true).payload(new byte[]{7, 8}, 0, 2);
        final java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        expected.write(1);
        expected.writeBytes(java.nio.ByteBuffer.allocate(8).putLong(1_700_000_000_123L).array());
        for (final String field : new String[]{type, run, thread, id, "crew"})
        {
            final byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
            expected.write(bytes.length >> 8);
            expected.write(bytes.length & 0xFF);
            expected.writeBytes(bytes);
        }
        expected.writeBytes(new byte[]{7, 8});
        assertArrayEquals(expected.toByteArray(), StreamCodec.record(sent, 1_700_000_000_123L));

        final EventDraft absent = new EventDraft().toBroadcast().type("app.note").payload("");
        assertArrayEquals(new byte[]{2, 0, 0, 0, 0, 0, 0, 0, 9, 0, 8, 'a', 'p', 'p', '.', 'n', 'o', 't', 'e', -1, -1,
            -1, -1, -1, -1, -1, -1}, StreamCodec.record(absent, 9), "absent strings as 0xFFFF, an empty payload");
    }

    @Test
    void shouldTakeARecordsNamesFromTheFeedsTableAndDecodeTheRestAsSent()
    {
        final AsciiNames names = new AsciiNames(16);
        final EventDraft sent = new EventDraft().toRoom("crëw").type("app.note").runId("run-1").eventId("e-1")
            .payload("{}");
        final byte[] message = channelMessage(3, 4, StreamCodec.record(sent, 1));
        final long[] number = new long[2];
        final int recordAt = StreamCodec.readEventNumber(message, message.length, number);
        final EventDraft first = new EventDraft();
        final EventDraft second = new EventDraft();
        StreamCodec.readEvent("ann", message, message.length, recordAt, 3, 4, first, names);
        StreamCodec.readEvent("ann", message, message.length, recordAt, 3, 4, second, names);
        assertEquals("app.note", second.type());
        assertEquals("run-1", second.runId());
        assertEquals("e-1", second.eventId());
        assertEquals("crëw", second.target());
        assertTrue(first.type() == second.type(), "the type's String is the one kept");
        assertTrue(first.runId() == second.runId(), "the run's String is the one kept");
    }

    @Test
    void shouldRefuseARecordCutShortEvenWhenItsArrayGoesOn()
    {
        final byte[] message = channelMessage(1, 1, StreamCodec.record(
            new EventDraft().toUser("u").type("app.note").runId("run").payload("{}"), 1));
        final long[] number = new long[2];
        final int recordAt = StreamCodec.readEventNumber(message, message.length, number);
        for (final int cut : new int[]{recordAt + 3, recordAt + 12, recordAt + 16})
        {
            // What lies past the cut is the rest of the record (a reused array): never read as if it were the record.
            assertThrows(IllegalArgumentException.class, () -> StreamCodec.readEvent("u", message, cut, recordAt, 1,
                1, new EventDraft(), null), "cut at " + (cut - recordAt));
        }
    }

    @Test
    void shouldRefuseAMalformedChannelMessageWithAClearError()
    {
        final EventDraft draft = new EventDraft();
        assertThrows(IllegalArgumentException.class, () -> StreamCodec.readChannelEvent("u",
            "n1733400000000:0:12x:3:".getBytes(StandardCharsets.US_ASCII), draft), "an epoch that is not a number");
        assertThrows(IllegalArgumentException.class, () -> StreamCodec.readChannelEvent("u",
            "n1733400000000:x:12:3:".getBytes(StandardCharsets.US_ASCII), draft), "a base that is not a number");
        assertThrows(IllegalArgumentException.class, () -> StreamCodec.readChannelEvent("u",
            "n1733400000000:0:12".getBytes(StandardCharsets.US_ASCII), draft), "no place");
        assertFalse(StreamCodec.readChannelEvent("u", "e12:3:x".getBytes(StandardCharsets.US_ASCII), draft),
            "the layout before the head was sent is not read as an event");
        assertFalse(StreamCodec.readChannelEvent("u", "jcrew".getBytes(StandardCharsets.US_ASCII), draft),
            "a room change is not an event");
        final byte[] join = StreamCodec.roomChange(true, "crew");
        assertEquals("crew", StreamCodec.room(join, join.length));
        assertArrayEquals(new long[]{9, 12}, StreamCodec.readHead("h9:12".getBytes(StandardCharsets.US_ASCII), 5));
    }

    @Test
    void shouldReadScriptAnswersAsBytesWithoutMistakingOtherWords()
    {
        final byte[] shared = "shared".getBytes(StandardCharsets.UTF_8);
        assertTrue(StreamCodec.isWord(shared, StreamCodec.SHARED));
        assertFalse(StreamCodec.isWord("share".getBytes(StandardCharsets.UTF_8), StreamCodec.SHARED));
        assertFalse(StreamCodec.isWord(List.of(shared), StreamCodec.SHARED));
        assertFalse(StreamCodec.isWord(null, StreamCodec.MOVED));
        assertEquals(1733300000123L, StreamCodec.number("1733300000123".getBytes(StandardCharsets.UTF_8)));
        assertEquals(42L, StreamCodec.number(42L));
        assertThrows(IllegalArgumentException.class, () -> StreamCodec.number("4x".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> StreamCodec.number(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> StreamCodec.number(List.of()));
    }

    @Test
    void shouldAddANumberedEventsPlaceToItsHeadsBase()
    {
        final long[] number = new long[2];
        StreamCodec.readNumbered(129L, "1733400000000:1024:77".getBytes(StandardCharsets.US_ASCII), number);
        assertArrayEquals(new long[]{77, 1153}, number, "epoch 77, seq 1024 + 129");
        StreamCodec.readNumbered(1L, "0000000000000:0:5".getBytes(StandardCharsets.US_ASCII), number);
        assertArrayEquals(new long[]{5, 1}, number, "a new stream's first event");
        assertThrows(IllegalArgumentException.class,
            () -> StreamCodec.readNumbered(1L, "1733400000000:77".getBytes(StandardCharsets.US_ASCII), number));
        assertThrows(IllegalArgumentException.class, () -> StreamCodec.readNumbered(1L, 77L, number));
    }

    @Test
    void shouldReadAFetchAnswerIntoABackfillInSeqOrder()
    {
        final byte[] first = StreamCodec.record(new EventDraft().toUser("cy").type("a").payload("1"), 1);
        final byte[] second = StreamCodec.record(new EventDraft().toBroadcast().type("b").payload("2"), 2);
        final Backfill backfill = StreamCodec.readBackfill("cy", List.of("77".getBytes(StandardCharsets.US_ASCII),
            4L, 5L, List.of(List.of("4".getBytes(StandardCharsets.US_ASCII), first),
                List.of("5".getBytes(StandardCharsets.US_ASCII), second))));
        assertEquals(77, backfill.epoch());
        assertEquals(4, backfill.firstSeq());
        assertEquals(5, backfill.lastSeq());
    }

    @Test
    void shouldPutEveryKeyOfAUsersStreamAndItsChannelInOneSlot()
    {
        // publish.lua names every key of an entry from its tag: they, the channel (the tag itself), and the key the
        // call is routed by must all be in one slot, whatever the user's name.
        final List<String> suffixes = List.of(":s", ":l", ":id:3:run:id", ":run:3:run", ":calls:3:run");
        for (final String user : List.of("alice", "a}b", "{x}", "ü-ser", "r:room"))
        {
            final EventDraft event = new EventDraft().toUser(user).type("agent_started").runId("run").eventId("id");
            final String[] keys = new String[PublishEntries.PUBLISH_KEYS_PER_ENTRY];
            final byte[][] args = new byte[PublishEntries.PUBLISH_ARGS_PER_ENTRY][];
            PublishEntries.userEntry(StreamCodec.ownerTag(PREFIX, event), event, StreamCodec.record(event, 1), keys, 0,
                args, 0);
            final String tag = new String(args[1], StandardCharsets.UTF_8);
            assertEquals(StreamCodec.userTag(PREFIX, user), tag);
            assertEquals("3:run", new String(args[3], StandardCharsets.UTF_8));
            final int slot = SlotHash.getSlot(tag);
            assertEquals(slot, SlotHash.getSlot(keys[0]), "the routing key");
            for (final String suffix : suffixes)
            {
                assertEquals(slot, SlotHash.getSlot(tag + suffix), user + " key " + tag + suffix);
            }
            assertEquals(user, StreamCodec.userOfChannel(PREFIX, tag));
        }
        final EventDraft toRoom = new EventDraft().toRoom("crew").type("app.note").eventId("id");
        final String[] keys = new String[PublishEntries.PUBLISH_KEYS_PER_ENTRY];
        final byte[][] args = new byte[PublishEntries.PUBLISH_ARGS_PER_ENTRY][];
        PublishEntries.sharedEntry(StreamCodec.ownerTag(PREFIX, toRoom), toRoom, StreamCodec.record(toRoom, 1), false,
            keys, 0, args, 0);
        final String owner = new String(args[1], StandardCharsets.UTF_8);
        assertEquals(StreamCodec.roomMembersKey(PREFIX, "crew"), owner + ":m", "the members' set publish.lua names");
        for (final String suffix : List.of(":m", ":id:0::id", ":run:0:", ":calls:0:"))
        {
            assertEquals(SlotHash.getSlot(keys[0]), SlotHash.getSlot(owner + suffix), "the room's keys: " + suffix);
        }
        assertEquals("r10", new String(args[0], StandardCharsets.UTF_8).substring(0, 3), "op: room, has an id");
        PublishEntries.sharedEntry(owner, toRoom, StreamCodec.record(toRoom, 1), true, keys, 0, args, 0);
        assertEquals("R10", new String(args[0], StandardCharsets.UTF_8).substring(0, 3), "op: room, admitted only");
    }

    private static byte[] channelMessage(final long epoch, final long seq, final byte[] record)
    {
        // As publish.lua sends it: the head, with a base that the place adds to (seq = base + place).
        final long base = seq / 2;
        final byte[] head = ("n1733400000000:" + base + ":" + epoch + ":" + (seq - base) + ":")
            .getBytes(StandardCharsets.US_ASCII);
        final byte[] message = new byte[head.length + record.length];
        System.arraycopy(head, 0, message, 0, head.length);
        System.arraycopy(record, 0, message, head.length, record.length);
        return message;
    }
}
