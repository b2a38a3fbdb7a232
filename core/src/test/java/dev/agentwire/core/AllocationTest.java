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
        final com.sun.management.ThreadMXBean threads = allocationCounter();

        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).ringSize(1 << 12).dedupWindowMs(0).build());
        final EventDraft draft = new EventDraft();
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[200]);
        final String[] users = users();
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

    /**
     * As above with what agents send: every event with an id of its own, so the dedup window remembers each. The
     * window is one second of a clock the test moves, so ids leave it as fast as they come and the pool of id strings
     * (made before measuring) is used again.
     */
    @Test
    void shouldNotAllocatePerEventWhenEveryEventHasAnId()
    {
        final com.sun.management.ThreadMXBean threads = allocationCounter();

        final ManualClock clock = new ManualClock(1_000_000);
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).ringSize(1 << 12).dedupWindowMs(1_000)
            .clock(clock).build());
        final EventDraft draft = new EventDraft();
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[200]);
        final String[] users = users();
        final String[] ids = new String[8_192];
        for (int i = 0; i < ids.length; i++)
        {
            ids[i] = "alloc-event-" + i;
        }
        final String runId = "alloc-run";
        for (final String user : users)
        {
            wire.publish(Drafts.started(draft, user, runId));
        }

        publishWithIds(draft, payload, users, ids, runId, clock, 200_000);
        final long tid = Thread.currentThread().getId();
        final long before = threads.getThreadAllocatedBytes(tid);
        publishWithIds(draft, payload, users, ids, runId, clock, 500_000);
        final long allocated = threads.getThreadAllocatedBytes(tid) - before;

        assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes over 500000 publishes with ids");
    }

    private void publishWithIds(
        final EventDraft draft, final UnsafeBuffer payload, final String[] users, final String[] ids,
        final String runId, final ManualClock clock, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            if ((i & 8_191) == 0)
            {
                // Past the window: every id of the pool is new again.
                clock.advance(1_001);
            }
            payload.putInt(0, i);
            draft.reset().toUser(users[i & 63]).type(EventTypes.AGENT_THINKING).runId(runId)
                .eventId(ids[i & 8_191]).payload(payload, 0, 200);
            final long status = wire.publish(draft);
            if (status < 0)
            {
                throw new AssertionError("refused at " + i + ": " + PublishStatus.name(status));
            }
        }
    }

    /** The JVM's per-thread allocation counter, switched on; the test is skipped where there is none. */
    private static com.sun.management.ThreadMXBean allocationCounter()
    {
        final java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "per-thread allocation counter available");
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)bean;
        assumeTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        return threads;
    }

    private static String[] users()
    {
        final String[] users = new String[64];
        for (int i = 0; i < users.length; i++)
        {
            users[i] = "alloc-user-" + i;
        }
        return users;
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
