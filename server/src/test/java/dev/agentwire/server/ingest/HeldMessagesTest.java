package dev.agentwire.server.ingest;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which users' messages a producer socket hands back when it ends: those its runtime does not have, oldest first, and
 * never one it has. Without confirms, a message is the runtime's once the socket took its frame whole; with them, once
 * the runtime confirmed its tag, and one the socket took but the runtime did not confirm goes back marked redelivered.
 */
class HeldMessagesTest
{
    @Test
    void shouldHandBackOnlyTheMessagesWhoseFramesTheSocketDidNotTakeWhole()
    {
        final HeldMessages held = new HeldMessages(false);
        // Frames ending at 100, 250 and 400 bytes of output (other frames, acks and pings, lie between them).
        held.framed(bytes("{\"m\":\"a\"}"), 100);
        held.framed(bytes("{\"m\":\"b\"}"), 250);
        held.framed(bytes("{\"m\":\"c\"}"), 400);
        held.taken(100);
        assertEquals(2, held.size(), "a went out whole: the runtime's");

        // 249 bytes out: b is one byte short of whole, so its runtime never read it.
        assertEquals(List.of("{\"m\":\"b\"} new", "{\"m\":\"c\"} new"), handBack(held, 249));
        assertEquals(0, held.size(), "forgotten once handed back");
        assertEquals(HeldMessages.NOT_CONFIRMING, held.confirmed(1));
    }

    @Test
    void shouldHoldNothingForARuntimeThatReads()
    {
        final HeldMessages held = new HeldMessages(false);
        for (int i = 1; i <= 1_000; i++)
        {
            held.framed(bytes("{\"m\":" + i + "}"), 10L * i);
            held.taken(10L * i);
        }
        assertEquals(0, held.size());
        assertEquals(List.of(), handBack(held, 10_000));
    }

    @Test
    void shouldHoldWhatTheSocketTookUntilTheRuntimeConfirmsAndHandItBackMarkedRedelivered()
    {
        final HeldMessages held = new HeldMessages(true);
        for (int i = 1; i <= 4; i++)
        {
            assertEquals(i, held.nextTag());
            held.framed(bytes("{\"m\":" + i + "}"), 100L * i);
        }
        held.taken(300);
        assertEquals(4, held.size(), "taken by the socket, not yet confirmed: all held");
        assertEquals(bytes("{\"m\":1}").length * 3L, held.unconfirmedBytes());

        assertEquals(HeldMessages.CONFIRMED, held.confirmed(1));
        assertEquals(HeldMessages.CONFIRMED, held.confirmed(1), "a confirm repeated is no error");
        assertEquals(HeldMessages.PAST_LAST, held.confirmed(5));
        assertEquals(3, held.size());

        // 2 and 3 reached the socket whole: the runtime may have read them. 4 never left.
        assertEquals(List.of("{\"redelivered\":true,\"m\":2} redelivered", "{\"redelivered\":true,\"m\":3} redelivered",
            "{\"m\":4} new"), handBack(held, 399));
        assertEquals(0, held.size());
        assertEquals(0, held.unconfirmedBytes());
    }

    @Test
    void shouldForgetAMessageTheRuntimeConfirmedBeforeTheSocketWasSeenToTakeIt()
    {
        final HeldMessages held = new HeldMessages(true);
        held.framed(bytes("{\"m\":1}"), 100);
        held.framed(bytes("{\"m\":2}"), 200);
        assertEquals(HeldMessages.CONFIRMED, held.confirmed(1));
        held.taken(200);
        assertEquals(List.of("{\"redelivered\":true,\"m\":2} redelivered"), handBack(held, 200));
    }

    @Test
    void shouldMarkAMessageRedeliveredOnceHoweverOftenItComesBack()
    {
        final byte[] once = HeldMessages.redelivered(bytes("{\"type\":\"user_message\"}"));
        assertEquals("{\"redelivered\":true,\"type\":\"user_message\"}", new String(once, StandardCharsets.UTF_8));
        assertEquals(once, HeldMessages.redelivered(once));
        assertEquals("{\"redelivered\":true}", new String(HeldMessages.redelivered(bytes("{}")),
            StandardCharsets.UTF_8));
    }

    @Test
    void shouldHandBackExactlyWhatTheRuntimeDoesNotHaveWhateverTheOrderOfWritesAndConfirms()
    {
        // A model: each message's tag and frame end; the socket's progress and the runtime's confirms only grow.
        for (long seed = 1; seed <= 2_000; seed++)
        {
            final java.util.Random random = new java.util.Random(seed);
            final boolean confirms = random.nextBoolean();
            final HeldMessages held = new HeldMessages(confirms);
            final List<Long> ends = new ArrayList<>();
            long framedBytes = 0;
            long takenBytes = 0;
            long confirmed = 0;
            for (int step = random.nextInt(40); step > 0; step--)
            {
                final int op = random.nextInt(3);
                if (op == 0)
                {
                    framedBytes += 1 + random.nextInt(100);
                    held.framed(bytes("{\"t\":" + held.nextTag() + "}"), framedBytes);
                    ends.add(framedBytes);
                }
                else if (op == 1)
                {
                    takenBytes += random.nextInt((int)(framedBytes - takenBytes) + 1);
                    held.taken(takenBytes);
                }
                else if (confirms && !ends.isEmpty())
                {
                    // Any tag framed: the runtime may read a frame before the I/O thread sees the socket take its
                    // last bytes, and may repeat a confirm.
                    final long tag = random.nextInt(ends.size() + 1);
                    assertEquals(HeldMessages.CONFIRMED, held.confirmed(tag), "seed " + seed);
                    confirmed = Math.max(confirmed, tag);
                }
            }
            final long endTaken = takenBytes + random.nextInt((int)(framedBytes - takenBytes) + 1);
            final List<String> expected = new ArrayList<>();
            for (int i = 0; i < ends.size(); i++)
            {
                final long tag = i + 1;
                final boolean written = ends.get(i) <= endTaken;
                if (confirms ? tag > confirmed : !written)
                {
                    expected.add(written ? "{\"redelivered\":true,\"t\":" + tag + "} redelivered" :
                        "{\"t\":" + tag + "} new");
                }
            }
            assertEquals(expected, handBack(held, endTaken), "seed " + seed);
            assertEquals(0, held.size());
            assertEquals(0, held.unconfirmedBytes(), "seed " + seed);
        }
    }

    private static List<String> handBack(final HeldMessages held, final long takenBytes)
    {
        final List<String> back = new ArrayList<>();
        held.handBack(takenBytes, (m, redelivered) ->
            back.add(new String(m, StandardCharsets.UTF_8) + (redelivered ? " redelivered" : " new")));
        return back;
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
