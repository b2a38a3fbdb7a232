package dev.agentwire.core;

/**
 * A user's recent events, oldest first, in a circular array that grows on demand up to a fixed bound.
 * Single-threaded: owned by one slice. Entries are contiguous in seq, so lookup by seq is an index.
 */
final class EventHistory
{
    private static final AgentEvent[] EMPTY_EVENTS = new AgentEvent[0];
    private static final long[] EMPTY_TIMES = new long[0];
    private static final int[] EMPTY_FOOTPRINTS = new int[0];
    private static final int INITIAL_CAPACITY = 8;

    private final int maxEvents;
    private AgentEvent[] events = EMPTY_EVENTS;
    private long[] appendMs = EMPTY_TIMES;
    // Kept beside the reference so dropping the oldest event never has to load that (cold) event.
    private int[] footprints = EMPTY_FOOTPRINTS;
    private int head;
    private int size;
    private long bytes;
    // The oldest entry's append time, kept here so the age check on every append reads no array.
    private long oldestAppendMs;

    EventHistory(final int maxEvents)
    {
        this.maxEvents = maxEvents;
    }

    int size()
    {
        return size;
    }

    long bytes()
    {
        return bytes;
    }

    boolean isFull()
    {
        return size == maxEvents;
    }

    /** Caller drops the oldest first when {@link #isFull()}. */
    void append(final AgentEvent event, final long nowMs)
    {
        if (size == events.length)
        {
            grow();
        }
        final int index = (head + size) % events.length;
        final int footprint = event.footprintBytes();
        events[index] = event;
        appendMs[index] = nowMs;
        footprints[index] = footprint;
        if (size == 0)
        {
            oldestAppendMs = nowMs;
        }
        size++;
        bytes += footprint;
    }

    /** @return the footprint released. */
    int dropOldest()
    {
        final int footprint = footprints[head];
        events[head] = null;
        head = (head + 1) % events.length;
        size--;
        bytes -= footprint;
        if (size > 0)
        {
            oldestAppendMs = appendMs[head];
        }
        return footprint;
    }

    long oldestAppendMs()
    {
        return oldestAppendMs;
    }

    /** @return the first seq held, or {@code lastSeq + 1} when empty. */
    long firstSeq(final long lastSeq)
    {
        return size == 0 ? lastSeq + 1 : events[head].seq();
    }

    /** @param i 0 for the oldest. */
    AgentEvent get(final int i)
    {
        return events[(head + i) % events.length];
    }

    /** @return the footprint released. */
    long clear()
    {
        for (int i = 0; i < size; i++)
        {
            events[(head + i) % events.length] = null;
        }
        final long released = bytes;
        head = 0;
        size = 0;
        bytes = 0;
        // An idle user keeps no array: a million of them cost no history memory.
        events = EMPTY_EVENTS;
        appendMs = EMPTY_TIMES;
        footprints = EMPTY_FOOTPRINTS;
        return released;
    }

    private void grow()
    {
        final int capacity = Math.min(maxEvents, Math.max(INITIAL_CAPACITY, events.length * 2));
        final AgentEvent[] newEvents = new AgentEvent[capacity];
        final long[] newTimes = new long[capacity];
        final int[] newFootprints = new int[capacity];
        for (int i = 0; i < size; i++)
        {
            final int from = (head + i) % events.length;
            newEvents[i] = events[from];
            newTimes[i] = appendMs[from];
            newFootprints[i] = footprints[from];
        }
        events = newEvents;
        appendMs = newTimes;
        footprints = newFootprints;
        head = 0;
    }
}
