package dev.agentwire.server.ingest;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which users' messages a producer socket hands back when it ends: those whose frames the socket had not taken whole,
 * oldest first, and never one it took.
 */
class UnsentMessagesTest
{
    private final UnsentMessages unsent = new UnsentMessages();

    @Test
    void shouldHandBackOnlyTheMessagesWhoseFramesTheSocketDidNotTakeWhole()
    {
        // Frames ending at 100, 250 and 400 bytes of output (other frames, acks and pings, lie between them).
        unsent.framed(bytes("a"), 100);
        unsent.framed(bytes("b"), 250);
        unsent.framed(bytes("c"), 400);
        unsent.taken(100);
        assertEquals(2, unsent.size(), "a went out whole: the runtime's");

        final List<String> back = new ArrayList<>();
        // 249 bytes out: b is one byte short of whole, so its runtime never read it.
        unsent.handBack(249, m -> back.add(new String(m, StandardCharsets.UTF_8)));
        assertEquals(List.of("b", "c"), back);
        assertEquals(0, unsent.size(), "forgotten once handed back");
    }

    @Test
    void shouldHoldNothingForARuntimeThatReads()
    {
        for (int i = 1; i <= 1_000; i++)
        {
            unsent.framed(bytes("m" + i), 10L * i);
            unsent.taken(10L * i);
        }
        assertEquals(0, unsent.size());
        final List<byte[]> back = new ArrayList<>();
        unsent.handBack(10_000, back::add);
        assertEquals(0, back.size());
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
