package dev.agentwire.core;

import org.agrona.collections.Object2LongHashMap;

/**
 * Event ids accepted within a time window, bounded in count. Entries arrive in time order, so expiry and
 * eviction both take from the oldest end of a FIFO ring that grows on demand up to its bound.
 * Guarded by its stripe's lock. Adding an id allocates nothing once the ring has grown.
 */
final class DedupWindow
{
    private static final long MISSING = Long.MIN_VALUE;
    private static final int INITIAL_CAPACITY = 16;

    private final long windowMs;
    private final int maxEntries;
    private final Object2LongHashMap<String> acceptedAtMs = new Object2LongHashMap<>(MISSING);
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

    boolean contains(final String eventId, final long nowMs)
    {
        final long at = acceptedAtMs.getValue(eventId);
        return at != MISSING && at >= nowMs - windowMs;
    }

    void add(final String eventId, final long nowMs)
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
        ids[index] = eventId;
        timesMs[index] = nowMs;
        size++;
        acceptedAtMs.put(eventId, nowMs);
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
        // Only forget the id if this entry is still the one the map points at.
        if (acceptedAtMs.getValue(id) == timesMs[head])
        {
            acceptedAtMs.removeKey(id);
        }
        ids[head] = null;
        head = (head + 1) % ids.length;
        size--;
    }

    private void grow()
    {
        final int capacity = Math.min(maxEntries, Math.max(INITIAL_CAPACITY, ids.length * 2));
        final String[] newIds = new String[capacity];
        final long[] newTimes = new long[capacity];
        for (int i = 0; i < size; i++)
        {
            final int from = (head + i) % ids.length;
            newIds[i] = ids[from];
            newTimes[i] = timesMs[from];
        }
        ids = newIds;
        timesMs = newTimes;
        head = 0;
    }
}
