package dev.agentwire.core;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large payloads do not leave memory behind in the ring: a slot carries up to 256 payload bytes inline, a larger
 * payload rides in a pooled buffer that goes back when the slices have read the slot, and the bytes lent at once are
 * bounded. (Before, each slot kept a buffer as large as the largest payload it had carried: 65,536 events of 16 KiB
 * left 1.67 GB of heap held for good.)
 */
@Timeout(120)
class PayloadMemoryTest
{
    private static final int LARGE = 16 * 1024;
    private static final int LARGE_EVENTS = 32_768;
    private static final int SMALL_EVENTS = 100_000;

    private AgentWire wire;

    @AfterEach
    void tearDown()
    {
        if (wire != null)
        {
            wire.close();
        }
    }

    @Test
    void shouldHoldNoLargePayloadMemoryOnceTheSlicesHaveReadThem() throws Exception
    {
        final long lendBound = 8L << 20;
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(2).ringSize(1 << 16).dedupWindowMs(0)
            .largePayloadMaxBytes(lendBound).historyMaxTotalBytes(64L << 20).build());
        final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        final long heapBefore = heapAfterGc(memory);

        final EventDraft draft = new EventDraft();
        final UnsafeBuffer large = new UnsafeBuffer(new byte[LARGE]);
        long maxLent = 0;
        for (int i = 0; i < LARGE_EVENTS; i++)
        {
            large.putInt(0, i);
            draft.reset().toUser("big-" + (i & 255)).type("app.blob").payload(large, 0, LARGE);
            assertTrue(wire.publish(draft) >= 0, "accepted " + i);
            maxLent = Math.max(maxLent, wire.stats().largePayloadBytes);
        }
        final UnsafeBuffer small = new UnsafeBuffer(new byte[64]);
        for (int i = 0; i < SMALL_EVENTS; i++)
        {
            draft.reset().toUser("small-" + (i & 255)).type("app.tick").payload(small, 0, 64);
            assertTrue(wire.publish(draft) >= 0, "accepted " + i);
        }
        awaitRingDrained();

        assertTrue(maxLent <= lendBound, "lent " + maxLent + " bytes at most, bound " + lendBound);
        assertEquals(0, wire.stats().largePayloadBytes, "every large buffer went back");
        // 512 MiB of large payloads went through; what stays on the heap is the pool's idle buffers (a few MiB) and
        // the engine's tables, not a buffer per slot. The history log is native memory, bounded at 64 MiB.
        final long held = heapAfterGc(memory) - heapBefore;
        assertTrue(held < 64L << 20, "heap held after " + LARGE_EVENTS + " payloads of " + LARGE + " bytes: " + held);
    }

    private void awaitRingDrained() throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (wire.stats().ringRemainingCapacity < wire.stats().ringSize || wire.stats().largePayloadBytes > 0)
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("ring not drained: " + wire.stats());
            }
            Thread.sleep(10);
        }
    }

    private static long heapAfterGc(final MemoryMXBean memory) throws InterruptedException
    {
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            Thread.sleep(50);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
