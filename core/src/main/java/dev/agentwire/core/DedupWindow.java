package dev.agentwire.core;

import org.agrona.collections.Object2LongHashMap;
import org.agrona.collections.Object2ObjectHashMap;

/**
 * Event ids accepted within a time window, bounded in count. An id is scoped: unique within its run (or, for an
 * event without a run, within its target), the same scope the cluster's sequencer uses, so that where a stripe
 * holds several runs, equal ids of different runs do not collide. Entries arrive in time order, so expiry and
 * eviction both take from the oldest end of a FIFO ring that grows on demand up to its bound.
 * Guarded by its stripe's lock. Adding an id allocates nothing once the ring has grown.
 */
final class DedupWindow
{
    private static final long MISSING = Long.MIN_VALUE;
    private static final int INITIAL_CAPACITY = 16;

    private final long windowMs;
    private final int maxEntries;
    // One small map per scope (per run): an id added to a known run allocates nothing.
    private final Object2ObjectHashMap<String, Object2LongHashMap<String>> acceptedAtMs = new Object2ObjectHashMap<>();
    private String[] scopes = new String[0];
    private String[] ids = new String[0];
    private long[] timesMs = new long[0];
    private int head;
    private int size;

    DedupWindow(final long windowMs, final int maxEntries)
    {
        this.windowMs = windowMs;
        this.maxEntries = maxEntries;
    }

    boolean isEnabled()
    {
        return windowMs > 0;
    }

    boolean contains(final String scope, final String eventId, final long nowMs)
    {
        final Object2LongHashMap<String> inScope = acceptedAtMs.get(scope);
        if (inScope == null)
        {
            return false;
        }
        final long at = inScope.getValue(eventId);
        return at != MISSING && at >= nowMs - windowMs;
    }

    void add(final String scope, final String eventId, final long nowMs)
    {
        expire(nowMs);
        if (size == maxEntries)
        {
            removeOldest();
        }
        if (size == ids.length)
        {
            grow();
        }
        final int index = (head + size) % ids.length;
        scopes[index] = scope;
        ids[index] = eventId;
        timesMs[index] = nowMs;
        size++;
        Object2LongHashMap<String> inScope = acceptedAtMs.get(scope);
        if (inScope == null)
        {
            inScope = new Object2LongHashMap<>(MISSING);
            acceptedAtMs.put(scope, inScope);
        }
        inScope.put(eventId, nowMs);
    }

    void expire(final long nowMs)
    {
        final long cutoffMs = nowMs - windowMs;
        while (size > 0 && timesMs[head] < cutoffMs)
        {
            removeOldest();
        }
    }

    int size()
    {
        return size;
    }

    private void removeOldest()
    {
        final String id = ids[head];
        final String scope = scopes[head];
        final Object2LongHashMap<String> inScope = acceptedAtMs.get(scope);
        // Only forget the id if this entry is still the one the map points at.
        if (inScope != null && inScope.getValue(id) == timesMs[head])
        {
            inScope.removeKey(id);
            if (inScope.isEmpty())
            {
                acceptedAtMs.remove(scope);
            }
        }
        scopes[head] = null;
        ids[head] = null;
        head = (head + 1) % ids.length;
        size--;
    }

    private void grow()
    {
        final int capacity = Math.min(maxEntries, Math.max(INITIAL_CAPACITY, ids.length * 2));
        final String[] newScopes = new String[capacity];
        final String[] newIds = new String[capacity];
        final long[] newTimes = new long[capacity];
        for (int i = 0; i < size; i++)
        {
            final int from = (head + i) % ids.length;
            newScopes[i] = scopes[from];
            newIds[i] = ids[from];
            newTimes[i] = timesMs[from];
        }
        scopes = newScopes;
        ids = newIds;
        timesMs = newTimes;
        head = 0;
    }
}
