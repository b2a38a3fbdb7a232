package dev.agentwire.core;

import org.agrona.collections.Object2ObjectHashMap;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One of a fixed set of locks that serialise publishers of the same run (or target): the lifecycle check, the
 * dedup check, the ring claim and the state change happen under it as one step, so a run's ring order is the
 * order its rules were checked in. Publishers of different stripes never contend here.
 */
final class PublishStripe
{
    final ReentrantLock lock = new ReentrantLock();
    final Object2ObjectHashMap<String, RunState> runs = new Object2ObjectHashMap<>();
    final DedupWindow dedup;

    PublishStripe(final long dedupWindowMs, final int dedupMaxEntries)
    {
        dedup = new DedupWindow(dedupWindowMs, dedupMaxEntries);
    }

    /** Forgets runs idle past the retention and ids past the window. Takes the lock. */
    void sweep(final long nowMs, final long runRetentionMs)
    {
        lock.lock();
        try
        {
            dedup.expire(nowMs);
            final long cutoffMs = nowMs - runRetentionMs;
            final Iterator<Map.Entry<String, RunState>> it = runs.entrySet().iterator();
            while (it.hasNext())
            {
                if (it.next().getValue().lastEventMs < cutoffMs)
                {
                    it.remove();
                }
            }
        }
        finally
        {
            lock.unlock();
        }
    }
}
