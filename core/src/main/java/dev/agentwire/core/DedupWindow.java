package dev.agentwire.core;

import org.agrona.collections.Object2LongHashMap;
import org.agrona.collections.Object2ObjectHashMap;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One stripe's accepted event ids, remembered for the dedup window. An id is scoped by its owner (the target kind
 * and the user, room or broadcast the event goes to) and its run (none for an event without a run), so equal ids of
 * two owners or two runs never collide. Entries arrive in time order, so expiry takes them from the head of a ring.
 * <p>
 * Bounds, both honest: an id is remembered for {@code windowMs}, and all stripes together remember at most
 * {@code maxEntries} ids. At that bound the adding stripe forgets its own oldest id early (the total may pass the
 * bound by at most one id per stripe), and every id forgotten early is counted ({@code evicted}), so an operator
 * can see when the window is shorter than configured. Guarded by the stripe's lock; the total and the count are
 * shared across stripes.
 */
final class DedupWindow
{
    private static final long MISSING = Long.MIN_VALUE;
    private static final int INITIAL_CAPACITY = 16;
    private static final String NO_RUN = "";

    private final long windowMs;
    private final int maxEntries;
    private final AtomicInteger engineTotal;
    private final LongAdder evicted;
    // Kind, then owner, then run, then id -> accepted at. A known scope adds an id without allocating a map.
    @SuppressWarnings("unchecked")
    private final Object2ObjectHashMap<String, Object2ObjectHashMap<String, Object2LongHashMap<String>>>[] byKind =
        new Object2ObjectHashMap[EventDraft.TARGET_BROADCAST + 1];
    private byte[] kinds = new byte[0];
    private String[] owners = new String[0];
    private String[] runs = new String[0];
    private String[] ids = new String[0];
    private long[] timesMs = new long[0];
    private int head;
    private int size;

    /**
     * @param windowMs    how long an id is remembered.
     * @param maxEntries  ids all stripes remember at most.
     * @param engineTotal ids all stripes remember now.
     * @param evicted     ids forgotten before their window ended.
     */
    DedupWindow(final long windowMs, final int maxEntries, final AtomicInteger engineTotal, final LongAdder evicted)
    {
        this.windowMs = windowMs;
        this.maxEntries = maxEntries;
        this.engineTotal = engineTotal;
        this.evicted = evicted;
        for (int kind = 0; kind < byKind.length; kind++)
        {
            byKind[kind] = new Object2ObjectHashMap<>();
        }
    }

    boolean isEnabled()
    {
        return windowMs > 0;
    }

    boolean contains(final byte kind, final String owner, final String runId, final String eventId, final long nowMs)
    {
        final Object2LongHashMap<String> inScope = scope(kind, owner, runId);
        if (inScope == null)
        {
            return false;
        }
        final long at = inScope.getValue(eventId);
        return at != MISSING && at >= nowMs - windowMs;
    }

    void add(final byte kind, final String owner, final String runId, final String eventId, final long nowMs)
    {
        expire(nowMs);
        if (size > 0 && engineTotal.get() >= maxEntries)
        {
            removeOldest();
            evicted.increment();
        }
        if (size == ids.length)
        {
            grow();
        }
        final String ownerKey = owner == null ? "" : owner;
        final String runKey = runId == null ? NO_RUN : runId;
        final int index = (head + size) % ids.length;
        kinds[index] = kind;
        owners[index] = ownerKey;
        runs[index] = runKey;
        ids[index] = eventId;
        timesMs[index] = nowMs;
        size++;
        engineTotal.incrementAndGet();
        Object2ObjectHashMap<String, Object2LongHashMap<String>> byRun = byKind[kind].get(ownerKey);
        if (byRun == null)
        {
            byRun = new Object2ObjectHashMap<>();
            byKind[kind].put(ownerKey, byRun);
        }
        Object2LongHashMap<String> inScope = byRun.get(runKey);
        if (inScope == null)
        {
            inScope = new Object2LongHashMap<>(MISSING);
            byRun.put(runKey, inScope);
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

    private Object2LongHashMap<String> scope(final byte kind, final String owner, final String runId)
    {
        final Object2ObjectHashMap<String, Object2LongHashMap<String>> byRun =
            byKind[kind].get(owner == null ? "" : owner);
        return byRun == null ? null : byRun.get(runId == null ? NO_RUN : runId);
    }

    private void removeOldest()
    {
        final byte kind = kinds[head];
        final String owner = owners[head];
        final String run = runs[head];
        final String id = ids[head];
        final Object2ObjectHashMap<String, Object2LongHashMap<String>> byRun = byKind[kind].get(owner);
        final Object2LongHashMap<String> inScope = byRun == null ? null : byRun.get(run);
        // Only forget the id if this entry is still the one the map points at.
        if (inScope != null && inScope.getValue(id) == timesMs[head])
        {
            inScope.removeKey(id);
            if (inScope.isEmpty())
            {
                byRun.remove(run);
                if (byRun.isEmpty())
                {
                    byKind[kind].remove(owner);
                }
            }
        }
        owners[head] = null;
        runs[head] = null;
        ids[head] = null;
        head = (head + 1) % ids.length;
        size--;
        engineTotal.decrementAndGet();
    }

    private void grow()
    {
        final int capacity = Math.max(INITIAL_CAPACITY, ids.length * 2);
        final byte[] newKinds = new byte[capacity];
        final String[] newOwners = new String[capacity];
        final String[] newRuns = new String[capacity];
        final String[] newIds = new String[capacity];
        final long[] newTimes = new long[capacity];
        for (int i = 0; i < size; i++)
        {
            final int from = (head + i) % ids.length;
            newKinds[i] = kinds[from];
            newOwners[i] = owners[from];
            newRuns[i] = runs[from];
            newIds[i] = ids[from];
            newTimes[i] = timesMs[from];
        }
        kinds = newKinds;
        owners = newOwners;
        runs = newRuns;
        ids = newIds;
        timesMs = newTimes;
        head = 0;
    }
}
