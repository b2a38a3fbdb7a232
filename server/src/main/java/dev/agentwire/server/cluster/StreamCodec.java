package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.Backfill;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.Utf8;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The one statement of how events travel through Redis, both directions: the arguments the scripts
 * ({@code src/main/resources/cluster/*.lua}) take and answer (publish.lua's entries: {@link PublishEntries}), the
 * record an event is stored and sent as, and the messages on a user's channel. The scripts never look inside a
 * record but for its time (fetch.lua's age bound): a node encodes each event once, Redis keeps and forwards those
 * bytes, and a node decodes them into a {@link EventDraft} or a {@link Backfill}.
 * <pre>
 *   record:           flags(1: binary, 2: broadcast) tsMs(8) type run thread id room (u16 length + UTF-8 each,
 *                     0xFFFF for absent) payload(the rest)
 *   stream head:      refreshed(13 digits) ':' base ':' epoch   at {@code <prefix>{u:<user>}:s} (stream-head.lua)
 *   history entry:    record                             in the list {@code <prefix>{u:<user>}:l}: the seq of
 *                                                        index i is the head's base + 1 + i
 *   channel message:  'n' head ':' place ':' record      an event numbered for the channel's user: its seq is the
 *                                                        head's base + place (its place in the history list)
 *                     'j' room  |  'l' room              the user joined or left a room (for notices)
 *                     'h' epoch ':' lastSeq              where the stream stands (after a node's resync)
 * </pre>
 */
final class StreamCodec
{
    static final byte EVENT = 'n';
    static final byte JOIN = 'j';
    static final byte LEAVE = 'l';
    static final byte HEAD = 'h';

    /** publish.lua's first word of a room's or broadcast's answer. */
    static final byte[] SHARED = {'s', 'h', 'a', 'r', 'e', 'd'};
    /** publish.lua's whole answer when a key it was given is not served by the shard it ran on. */
    static final byte[] MOVED = {'m', 'o', 'v', 'e', 'd'};

    private static final int FLAG_BINARY = 1;
    private static final int FLAG_BROADCAST = 2;
    private static final int ABSENT = 0xFFFF;
    /** A record's flags and time, before its strings. */
    private static final int RECORD_HEADER_BYTES = 1 + Long.BYTES;
    private static final byte[] EMPTY = new byte[0];

    private StreamCodec()
    {
    }

    /** @return the hash-tagged name every key of a user's stream starts with; also its channel's name. */
    static String userTag(final String prefix, final String userId)
    {
        return prefix + "{u:" + userId + '}';
    }

    /** @return the user a channel name ({@link #userTag}) belongs to. */
    static String userOfChannel(final String prefix, final String channel)
    {
        return channel.substring(prefix.length() + 3, channel.length() - 1);
    }

    /** @return the members set of a room: {@code <prefix>{r:<room>}:m}. */
    static String roomMembersKey(final String prefix, final String room)
    {
        return prefix + "{r:" + room + "}:m";
    }

    /** @return the set of live nodes (every node key shares the tag {@code {n}}). */
    static String nodesKey(final String prefix)
    {
        return prefix + "{n}:nodes";
    }

    /** @return a node's liveness key; {@code :present} and {@code :producers} follow it. */
    static String nodeKey(final String prefix, final String nodeId)
    {
        return prefix + "{n}:node:" + nodeId;
    }

    /** @return the channel message that tells a user's nodes it joined or left a room. */
    static byte[] roomChange(final boolean join, final String room)
    {
        final byte[] name = utf8(room);
        final byte[] out = new byte[1 + name.length];
        out[0] = join ? JOIN : LEAVE;
        System.arraycopy(name, 0, out, 1, name.length);
        return out;
    }

    /** @return the hash-tagged name the keys of an event's owner start with: its user, its room, or {n}. */
    static String ownerTag(final String prefix, final EventDraft d)
    {
        if (d.isToUser())
        {
            return userTag(prefix, d.target());
        }
        return d.isToRoom() ? prefix + "{r:" + d.target() + '}' : prefix + "{n}";
    }

    /** fetch.lua's arguments. */
    static byte[][] fetchArguments(
        final String prefix,
        final String userId,
        final long epoch,
        final long afterSeq,
        final AgentWireConfig engine,
        final String epochCandidate)
    {
        return new byte[][]{utf8(prefix), utf8(userId), utf8(Long.toString(epoch)), utf8(Long.toString(afterSeq)),
            utf8(Long.toString(engine.historyMaxAgeMs())), utf8(Long.toString(engine.userRetentionMs())),
            utf8(epochCandidate), utf8(Integer.toString(engine.historyMaxEvents()))};
    }

    /**
     * Fills a draft from an event message of a user's channel, numbered for that user.
     *
     * @return false when the message is not an event (a room change: see {@link #room}).
     * @throws IllegalArgumentException when the message cannot be read.
     */
    static boolean readChannelEvent(final String userId, final byte[] message, final EventDraft draft)
    {
        if (message.length == 0 || message[0] != EVENT)
        {
            return false;
        }
        final long[] number = new long[2];
        readEvent(userId, message, message.length, readEventNumber(message, message.length, number), number[0],
            number[1], draft, null);
        return true;
    }

    /**
     * Reads the (epoch, seq) of an event message, the first {@code length} bytes of {@code message}, into {@code out}.
     *
     * @return where the message's record starts.
     * @throws IllegalArgumentException when malformed.
     */
    static int readEventNumber(final byte[] message, final int length, final long[] out)
    {
        final int placeAt = readHeadNumber(message, 1, length, out);
        final int placeEnd = indexOf(message, placeAt, length, (byte)':');
        out[1] += parseLong(message, placeAt, placeEnd);
        return placeEnd + 1;
    }

    /**
     * Reads a stream head ({@code refreshed ':' base ':' epoch}, from {@code from} up to {@code end} or the next
     * {@code ':'}) into {@code out}: its epoch, then its base.
     *
     * @return where the head ends (past the ':' that follows it, or {@code end}).
     * @throws IllegalArgumentException when malformed.
     */
    private static int readHeadNumber(final byte[] text, final int from, final int end, final long[] out)
    {
        final int refreshedEnd = indexOf(text, from, end, (byte)':');
        final int baseEnd = indexOf(text, refreshedEnd + 1, end, (byte)':');
        int epochEnd = baseEnd + 1;
        while (epochEnd < end && text[epochEnd] != ':')
        {
            epochEnd++;
        }
        out[0] = parseLong(text, baseEnd + 1, epochEnd);
        out[1] = parseLong(text, refreshedEnd + 1, baseEnd);
        return Math.min(end, epochEnd + 1);
    }

    /**
     * Reads publish.lua's answer for a numbered event, its place in the user's history list and the stream's head,
     * into {@code out}: the epoch, then the seq.
     *
     * @throws IllegalArgumentException when either is malformed.
     */
    static void readNumbered(final Object place, final Object head, final long[] out)
    {
        if (!(head instanceof byte[]))
        {
            throw new IllegalArgumentException("not a stream head: head=" + text(head));
        }
        final byte[] text = (byte[])head;
        readHeadNumber(text, 0, text.length, out);
        out[1] += number(place);
    }

    /**
     * Fills a draft from an event message (the first {@code length} bytes of {@code message}) whose number
     * {@link #readEventNumber} read, for the channel's user; its names from {@code names}, or decoded when null.
     */
    static void readEvent(final String userId, final byte[] message, final int length, final int recordAt,
        final long epoch, final long seq, final EventDraft draft, final AsciiNames names)
    {
        readRecord(message, recordAt, length - recordAt, userId, draft.reset(), names);
        draft.recipient(userId, epoch, seq);
    }

    /**
     * @return a copy of the record an event message (the first {@code length} bytes of {@code message}) carries,
     *     after {@code 'n' head ':' place ':'}.
     */
    static byte[] recordOf(final byte[] message, final int length)
    {
        return java.util.Arrays.copyOfRange(message, readEventNumber(message, length, new long[2]), length);
    }

    /** @return a head announcement's {epoch, lastSeq}, from the first {@code length} bytes of {@code message}. */
    static long[] readHead(final byte[] message, final int length)
    {
        final int epochEnd = indexOf(message, 1, length, (byte)':');
        return new long[]{parseLong(message, 1, epochEnd), parseLong(message, epochEnd + 1, length)};
    }

    /** @return a room-change message's room, from the first {@code length} bytes of {@code message}. */
    static String room(final byte[] message, final int length)
    {
        return new String(message, 1, length - 1, StandardCharsets.UTF_8);
    }

    /** Receives the events of fetch.lua's answer, oldest first. */
    @FunctionalInterface
    interface StoredEventConsumer
    {
        /** @param draft the event, valid during the call only. */
        void accept(EventDraft draft, long seq);
    }

    /** Reads fetch.lua's answer: {epoch, firstSeq, lastSeq, [[seq, record], ...]}. */
    static Backfill readBackfill(final String userId, final List<Object> reply)
    {
        final Backfill backfill = new Backfill(userId, fetchedEpoch(reply), fetchedFirstSeq(reply),
            fetchedLastSeq(reply));
        readFetchedEvents(userId, reply, new EventDraft(), backfill::add);
        return backfill;
    }

    static long fetchedEpoch(final List<Object> reply)
    {
        return Long.parseLong(text(reply.get(0)));
    }

    static long fetchedFirstSeq(final List<Object> reply)
    {
        return ((Number)reply.get(1)).longValue();
    }

    static long fetchedLastSeq(final List<Object> reply)
    {
        return ((Number)reply.get(2)).longValue();
    }

    /** Each event of fetch.lua's answer into {@code draft}, addressed as it was sent, with its seq. */
    static void readFetchedEvents(
        final String userId, final List<Object> reply, final EventDraft draft, final StoredEventConsumer consumer)
    {
        @SuppressWarnings("unchecked")
        final List<Object> events = (List<Object>)reply.get(3);
        for (final Object entry : events)
        {
            @SuppressWarnings("unchecked")
            final List<Object> pair = (List<Object>)entry;
            final byte[] record = (byte[])pair.get(1);
            readRecord(record, 0, record.length, userId, draft.reset(), null);
            consumer.accept(draft, Long.parseLong(text(pair.get(0))));
        }
    }

    /**
     * @return an event's record: the bytes Redis stores in history and sends on the channel, encoded straight into
     *     the one array that is sent (no String is encoded to an array of its own first).
     */
    static byte[] record(final EventDraft d, final long timestampMs)
    {
        final String room = d.isToRoom() ? d.target() : null;
        final byte[] out = new byte[RECORD_HEADER_BYTES + encodedLength(d.type()) + encodedLength(d.runId()) +
            encodedLength(d.threadId()) + encodedLength(d.eventId()) + encodedLength(room) + d.payloadLength()];
        final UnsafeBuffer buffer = new UnsafeBuffer(out);
        buffer.putByte(0, (byte)((d.isBinary() ? FLAG_BINARY : 0) | (d.isBroadcast() ? FLAG_BROADCAST : 0)));
        buffer.putLong(1, timestampMs, ByteOrder.BIG_ENDIAN);
        int at = RECORD_HEADER_BYTES;
        at = put(buffer, at, d.type());
        at = put(buffer, at, d.runId());
        at = put(buffer, at, d.threadId());
        at = put(buffer, at, d.eventId());
        at = put(buffer, at, room);
        d.copyPayload(out, at);
        return out;
    }

    /**
     * A record into a draft addressed as it was sent (to the user, its room, or everyone). Its names (type, run,
     * thread, room) come from {@code names} when given; its id is decoded (ids are seldom seen twice).
     */
    private static void readRecord(final byte[] bytes, final int offset, final int length, final String userId,
        final EventDraft draft, final AsciiNames names)
    {
        final int end = offset + length;
        if (length < RECORD_HEADER_BYTES)
        {
            throw new IllegalArgumentException("malformed record: shorter than its header: length=" + length);
        }
        final int flags = bytes[offset];
        final long timestampMs = readLong(bytes, offset + 1);
        int at = offset + RECORD_HEADER_BYTES;
        final String type = name(bytes, at, end, names);
        at = skip(bytes, at);
        final String run = name(bytes, at, end, names);
        at = skip(bytes, at);
        final String thread = name(bytes, at, end, names);
        at = skip(bytes, at);
        final String id = name(bytes, at, end, null);
        at = skip(bytes, at);
        final String room = name(bytes, at, end, names);
        at = skip(bytes, at);
        if (room != null)
        {
            draft.toRoom(room);
        }
        else if ((flags & FLAG_BROADCAST) != 0)
        {
            draft.toBroadcast();
        }
        else
        {
            draft.toUser(userId);
        }
        draft.type(type).runId(run).threadId(thread).eventId(id).binary((flags & FLAG_BINARY) != 0)
            .timestampMs(timestampMs).payload(bytes, at, end - at);
    }

    private static int encodedLength(final String value)
    {
        return Short.BYTES + (value == null ? 0 : Utf8.length(value));
    }

    /** @return where the next field starts. */
    private static int put(final UnsafeBuffer out, final int at, final String value)
    {
        if (value == null)
        {
            out.putShort(at, (short)ABSENT, ByteOrder.BIG_ENDIAN);
            return at + Short.BYTES;
        }
        final int length = Utf8.put(out, at + Short.BYTES, value);
        if (length >= ABSENT)
        {
            throw new IllegalArgumentException("record string too long: length=" + length);
        }
        out.putShort(at, (short)length, ByteOrder.BIG_ENDIAN);
        return at + Short.BYTES + length;
    }

    private static int fieldLength(final byte[] bytes, final int at)
    {
        return (bytes[at] & 0xFF) << 8 | bytes[at + 1] & 0xFF;
    }

    /** @return where the field after the one at {@code at} starts. */
    private static int skip(final byte[] bytes, final int at)
    {
        final int length = fieldLength(bytes, at);
        return at + Short.BYTES + (length == ABSENT ? 0 : length);
    }

    /**
     * @return the string field at {@code at}, or null when absent.
     * @throws IllegalArgumentException when the field does not end by {@code end} (the record's end, which the array
     *                                  may go past: the feed reuses one).
     */
    private static String name(final byte[] bytes, final int at, final int end, final AsciiNames names)
    {
        if (at + Short.BYTES > end)
        {
            throw new IllegalArgumentException("malformed record: field past its end: at=" + at);
        }
        final int length = fieldLength(bytes, at);
        if (length == ABSENT)
        {
            return null;
        }
        if (at + Short.BYTES + length > end)
        {
            throw new IllegalArgumentException("malformed record: field past its end: at=" + at);
        }
        return names != null ? names.get(bytes, at + Short.BYTES, length) :
            new String(bytes, at + Short.BYTES, length, StandardCharsets.UTF_8);
    }

    private static long readLong(final byte[] bytes, final int at)
    {
        long value = 0;
        for (int i = 0; i < Long.BYTES; i++)
        {
            value = value << 8 | bytes[at + i] & 0xFF;
        }
        return value;
    }

    private static int indexOf(final byte[] bytes, final int from, final int to, final byte value)
    {
        for (int i = from; i < to; i++)
        {
            if (bytes[i] == value)
            {
                return i;
            }
        }
        throw new IllegalArgumentException("malformed message or stream head: no separator after index=" + from);
    }

    private static long parseLong(final byte[] bytes, final int from, final int to)
    {
        if (from >= to)
        {
            throw new IllegalArgumentException("malformed number: empty at index=" + from);
        }
        long value = 0;
        for (int i = from; i < to; i++)
        {
            final int digit = bytes[i] - '0';
            if (digit < 0 || digit > 9)
            {
                throw new IllegalArgumentException("malformed number: not a digit at index=" + i);
            }
            value = value * 10 + digit;
        }
        return value;
    }

    /**
     * @return whether a Redis reply value is the given ASCII word, compared as bytes: the publish path asks this of
     * every answer, and decoding each to a String first was a measurable share of a node's CPU.
     */
    static boolean isWord(final Object value, final byte[] word)
    {
        return value instanceof byte[] && Arrays.equals((byte[])value, word);
    }

    /**
     * @return a Redis reply value that is a non-negative decimal number (a bulk string, as scripts answer an epoch,
     * or an integer), read without making a String.
     * @throws IllegalArgumentException when it is neither.
     */
    static long number(final Object value)
    {
        if (value instanceof Number)
        {
            return ((Number)value).longValue();
        }
        if (value instanceof byte[])
        {
            final byte[] digits = (byte[])value;
            return parseLong(digits, 0, digits.length);
        }
        throw new IllegalArgumentException("not a number: value=" + text(value));
    }

    /** @return a Redis reply value as text (empty for null). */
    static String text(final Object value)
    {
        if (value == null)
        {
            return "";
        }
        if (value instanceof byte[])
        {
            return new String((byte[])value, StandardCharsets.UTF_8);
        }
        return String.valueOf(value);
    }

    static byte[] utf8(final String value)
    {
        return value == null ? EMPTY : value.getBytes(StandardCharsets.UTF_8);
    }
}
