package dev.agentwire.core;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One of a fixed set of locks that serialise publishers of the same run (its owner and id): the lifecycle check, the
 * dedup check, the ring claim and the state change happen under it as one step, so a run's ring order is the
 * order its rules were checked in. Publishers of different stripes never contend here.
 */
final class PublishStripe
{
    final ReentrantLock lock = new ReentrantLock();
    final RunTable runs;
    final DedupWindow dedup;

    PublishStripe(
        final long dedupWindowMs, final int dedupMaxEntries, final AtomicInteger dedupTotal, final LongAdder evicted,
        final AtomicInteger runsTotal)
    {
        dedup = new DedupWindow(dedupWindowMs, dedupMaxEntries, dedupTotal, evicted);
        runs = new RunTable(runsTotal);
    }

    /** Forgets runs idle past the retention and ids past the window. Takes the lock. */
    void sweep(final long nowMs, final long runRetentionMs)
    {
        lock.lock();
        try
        {
            dedup.expire(nowMs);
            runs.sweep(nowMs - runRetentionMs);
        }
        finally
        {
            lock.unlock();
        }
    }
}
