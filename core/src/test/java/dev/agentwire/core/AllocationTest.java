package dev.agentwire.core;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The publish path allocates nothing per event in steady state: measured with the JVM's per-thread allocation
 * counter on the producer thread, over many events after a warm-up.
 */
@Timeout(60)
class AllocationTest
{
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
    void shouldNotAllocatePerEventOnThePublishPath()
    {
        final java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "per-thread allocation counter available");
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)bean;
        assumeTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);

        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).ringSize(1 << 12).dedupWindowMs(0).build());
        final EventDraft draft = new EventDraft();
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[200]);
        final String[] users = new String[64];
        for (int i = 0; i < users.length; i++)
        {
            users[i] = "alloc-user-" + i;
        }
        final String runId = "alloc-run";
        // A run belongs to its owner: each user gets its own "alloc-run".
        for (final String user : users)
        {
            wire.publish(Drafts.started(draft, user, runId));
        }

        final int warmup = 200_000;
        final int measured = 500_000;
        publishMany(draft, payload, users, runId, warmup);
        final long tid = Thread.currentThread().getId();
        final long before = threads.getThreadAllocatedBytes(tid);
        publishMany(draft, payload, users, runId, measured);
        final long allocated = threads.getThreadAllocatedBytes(tid) - before;

        // Allowance for the JVM's own background noise on this thread (e.g. a lock's first contention); one
        // allocation per event would be over 8,000,000 bytes here.
        assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes over " + measured + " publishes");
    }

    private void publishMany(
        final EventDraft draft, final UnsafeBuffer payload, final String[] users, final String runId, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            payload.putInt(0, i);
            draft.reset().toUser(users[i & 63]).type(EventTypes.AGENT_THINKING).runId(runId).payload(payload, 0, 200);
            if (wire.publish(draft) < 0)
            {
                throw new AssertionError("refused at " + i);
            }
        }
    }
}
