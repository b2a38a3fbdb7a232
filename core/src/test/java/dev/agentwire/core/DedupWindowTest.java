package dev.agentwire.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dedup window's ids, as fingerprints in open addressing: what it remembers, for how long, in which scope. */
@Timeout(60)
class DedupWindowTest
{
    private static final byte USER = EventDraft.TARGET_USER;
    private static final byte ROOM = EventDraft.TARGET_ROOM;

    private final AtomicInteger total = new AtomicInteger();
    private final LongAdder evicted = new LongAdder();

    @Test
    void shouldRememberAnIdForItsWindowAndNoLonger()
    {
        final DedupWindow window = new DedupWindow(1_000, 100, total, evicted);
        window.add(USER, "alice", "r1", "e1", 10_000);

        assertTrue(window.contains(USER, "alice", "r1", "e1", 10_000));
        assertTrue(window.contains(USER, "alice", "r1", "e1", 11_000), "the window's last millisecond");
        assertFalse(window.contains(USER, "alice", "r1", "e1", 11_001));
        window.expire(11_001);
        assertEquals(0, window.size());
        assertEquals(0, total.get());
    }

    @Test
    void shouldKeepOwnersRunsKindsAndFieldBoundariesApart()
    {
        final DedupWindow window = new DedupWindow(60_000, 100, total, evicted);
        window.add(USER, "alice", "r1", "e1", 1);
        window.add(USER, "ab", "c", "e1", 1);

        assertFalse(window.contains(USER, "bob", "r1", "e1", 1), "another user");
        assertFalse(window.contains(USER, "alice", "r2", "e1", 1), "another run");
        assertFalse(window.contains(ROOM, "alice", "r1", "e1", 1), "a room of the same name");
        assertFalse(window.contains(USER, "alice", null, "e1", 1), "no run");
        assertFalse(window.contains(USER, "a", "bc", "e1", 1), "the same characters split otherwise");
        assertFalse(window.contains(USER, "abc", "", "e1", 1), "the same characters in one field");
        assertTrue(window.contains(USER, "ab", "c", "e1", 1));
        assertTrue(window.contains(USER, new String("alice"), new String("r1"), new String("e1"), 1),
            "equal strings, not the same objects");

        window.add(USER, "carol", null, "e9", 1);
        assertTrue(window.contains(USER, "carol", "", "e9", 1), "no run is the empty run, as before");
    }

    @Test
    void shouldForgetTheOldestFirstAtItsBoundAndCountIt()
    {
        final DedupWindow window = new DedupWindow(60_000, 3, total, evicted);
        for (int i = 0; i < 5; i++)
        {
            window.add(USER, "alice", "r1", "e" + i, 1);
        }

        assertEquals(3, window.size());
        assertEquals(2, evicted.sum());
        assertFalse(window.contains(USER, "alice", "r1", "e0", 1));
        assertFalse(window.contains(USER, "alice", "r1", "e1", 1));
        for (int i = 2; i < 5; i++)
        {
            assertTrue(window.contains(USER, "alice", "r1", "e" + i, 1), "e" + i);
        }
    }

    @Test
    void shouldStartAnIdsWindowAgainWhenItIsAddedPastItAfterTheClockSteppedBack()
    {
        final DedupWindow window = new DedupWindow(1_000, 100, total, evicted);
        window.add(USER, "alice", "r1", "late", 5_000);
        window.add(USER, "alice", "r1", "early", 1_000);

        assertFalse(window.contains(USER, "alice", "r1", "early", 2_500));
        window.add(USER, "alice", "r1", "early", 2_500);

        assertTrue(window.contains(USER, "alice", "r1", "early", 3_000));
        assertEquals(2, window.size(), "the id is held once");
    }

    @Test
    void shouldForgetNoIdAtTheBoundForAnIdItStillHolds()
    {
        final DedupWindow window = new DedupWindow(1_000, 2, total, evicted);
        window.add(USER, "alice", "r1", "late", 5_000);
        window.add(USER, "alice", "r1", "early", 1_000);

        window.add(USER, "alice", "r1", "early", 2_500);

        assertEquals(0, evicted.sum());
        assertTrue(window.contains(USER, "alice", "r1", "late", 2_500));
        assertTrue(window.contains(USER, "alice", "r1", "early", 2_500));
    }

    /** Random adds, expiries and evictions against a plain map of what must be remembered, through growth. */
    @Test
    void shouldAnswerAsAMapOfTheIdsWithinTheWindowDoes()
    {
        final SplittableRandom random = new SplittableRandom(7);
        final int maxEntries = 5_000;
        final long windowMs = 500;
        final DedupWindow window = new DedupWindow(windowMs, maxEntries, total, evicted);
        final Map<String, Long> model = new HashMap<>();
        final ArrayDeque<String> order = new ArrayDeque<>();
        long nowMs = 0;
        int serial = 0;
        for (int step = 0; step < 300_000; step++)
        {
            // About 8,000 ids a window: past the bound while the ids come fast, within it when they slow down.
            nowMs += random.nextInt(step < 150_000 ? 20 : 2) == 0 ? 1 : 0;
            final String user = "u" + random.nextInt(50);
            final String run = random.nextInt(4) == 0 ? null : "r" + random.nextInt(3);
            // Mostly new ids, some asked again (a retry), some of another scope.
            final String id = random.nextInt(5) == 0 && serial > 0 ? "e" + random.nextInt(serial) : "e" + serial++;
            final String key = user + '\u0000' + (run == null ? "" : run) + '\u0000' + id;
            final Long at = model.get(key);
            final boolean expected = at != null && at >= nowMs - windowMs;
            assertEquals(expected, window.contains(USER, user, run, id, nowMs), "step " + step + " " + key);
            if (!expected)
            {
                while (!order.isEmpty() && model.get(order.peekFirst()) < nowMs - windowMs)
                {
                    model.remove(order.pollFirst());
                }
                if (model.size() >= maxEntries)
                {
                    model.remove(order.pollFirst());
                }
                if (model.containsKey(key))
                {
                    order.remove(key);
                }
                model.put(key, nowMs);
                order.addLast(key);
                window.add(USER, user, run, id, nowMs);
            }
            assertEquals(model.size(), window.size(), "step " + step);
        }
        assertEquals(model.size(), total.get());
        assertTrue(evicted.sum() > 0, "the bound was reached: " + evicted.sum());
        assertTrue(model.size() < maxEntries, "and the window then held fewer: " + model.size());
    }
}
