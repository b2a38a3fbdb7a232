package dev.agentwire.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The history ring against a plain deque doing the same operations: order, seq lookup, footprint accounting and
 * the oldest append time, through growth, wrap-around, dropping the oldest and clearing.
 */
class EventHistoryTest
{
    private static final int MAX_EVENTS = 13; // not a power of two: wrap-around must not assume one

    @Test
    void shouldMatchADequeThroughGrowthWrapReplaceAndDrop()
    {
        final SplittableRandom random = new SplittableRandom(42);
        final EventHistory history = new EventHistory(MAX_EVENTS);
        final ArrayDeque<AgentEvent> expected = new ArrayDeque<>();
        final ArrayDeque<Long> expectedTimes = new ArrayDeque<>();
        long seq = 0;
        long nowMs = 1_000;
        for (int step = 0; step < 20_000; step++)
        {
            nowMs += random.nextInt(3);
            final int action = random.nextInt(10);
            if (action < 7)
            {
                final AgentEvent event = event(++seq, random.nextInt(300));
                if (history.isFull())
                {
                    final AgentEvent dropped = expected.removeFirst();
                    expectedTimes.removeFirst();
                    assertEquals(dropped.footprintBytes(), history.dropOldest());
                }
                history.append(event, nowMs);
                expected.addLast(event);
                expectedTimes.addLast(nowMs);
            }
            else if (action < 9 && history.size() > 0)
            {
                expectedTimes.removeFirst();
                assertEquals(expected.removeFirst().footprintBytes(), history.dropOldest());
            }
            else if (action == 9 && random.nextInt(50) == 0)
            {
                assertEquals(expected.stream().mapToLong(AgentEvent::footprintBytes).sum(), history.clear());
                expected.clear();
                expectedTimes.clear();
            }
            assertSameContent(expected, expectedTimes, history, seq);
        }
    }

    @Test
    void shouldHoldOneEventWhenTheBoundIsOne()
    {
        final EventHistory history = new EventHistory(1);
        history.append(event(1, 10), 5);
        assertEquals(event(1, 10).footprintBytes(), history.dropOldest());
        history.append(event(2, 20), 7);
        assertEquals(1, history.size());
        assertEquals(2, history.firstSeq(2));
        assertEquals(7, history.oldestAppendMs());
        assertEquals(event(2, 20).footprintBytes(), history.bytes());
    }

    private static void assertSameContent(
        final ArrayDeque<AgentEvent> expected,
        final ArrayDeque<Long> expectedTimes,
        final EventHistory history,
        final long lastSeq)
    {
        assertEquals(expected.size(), history.size());
        assertEquals(expected.stream().mapToLong(AgentEvent::footprintBytes).sum(), history.bytes());
        assertEquals(expected.isEmpty() ? lastSeq + 1 : expected.peekFirst().seq(), history.firstSeq(lastSeq));
        if (!expected.isEmpty())
        {
            assertEquals(expectedTimes.peekFirst(), history.oldestAppendMs());
        }
        int i = 0;
        for (final AgentEvent event : expected)
        {
            assertSame(event, history.get(i++));
        }
    }

    private static AgentEvent event(final long seq, final int payloadBytes)
    {
        return new AgentEvent("u", 1, seq, seq, "custom.x", "r", "t", null, null, false, false, 0, 0,
            new byte[payloadBytes]);
    }
}
