package dev.agentwire.core;

/**
 * A snapshot of the engine's counters, summed over slices. Counters only grow; gauges are current values.
 * Each field is read without a global pause, so fields may be from slightly different instants.
 */
public final class AgentWireStats
{
    /** Counter: events given a seq in some user's stream (one per member for room and broadcast events). */
    public final long eventsSequenced;
    /** Counter: events queued to subscriptions. */
    public final long deliveries;
    /** Counter: subscriptions cut because their queue hit its bound. */
    public final long slowConsumerCuts;
    /** Counter: resumes that replayed everything after the cursor. */
    public final long resumesRecovered;
    /** Counter: resumes answered not recovered. */
    public final long resumesNotRecovered;
    /** Counter: history events evicted by the global memory bound. */
    public final long historyEvictedEvents;
    /** Counter: absent users whose state was freed. */
    public final long usersFreed;
    /** Counter: slots a slice failed to handle (bugs; should stay 0). */
    public final long handlerErrors;
    /** Gauge: bytes held by all histories. */
    public final long historyBytes;
    /** Gauge: users with state. */
    public final long users;
    /** Gauge: live subscriptions. */
    public final long subscriptions;
    /** Replica: history fetches asked of the {@link HistorySource}. */
    public final long backfillsRequested;
    /**
     * Replica: streams restarted because the store's epoch changed or numbered events were missed; their live
     * subscriptions were ended with {@link CloseReason#RESUME_REQUIRED}.
     */
    public final long streamResets;
    /** Gauge: free ring slots. */
    public final long ringRemainingCapacity;
    /** Gauge: ring slots in all. */
    public final long ringSize;
    /**
     * Gauge: bytes of the buffers lent to ring slots for payloads larger than a slot's inline bytes; at most
     * {@link AgentWireConfig#largePayloadMaxBytes()}, and back to 0 once the slices have read them.
     */
    public final long largePayloadBytes;
    /** Gauge: runs held (open, or completed within the run retention); bounded by {@code maxRuns}. */
    public final long runs;
    /** Gauge: event ids remembered for dedup; bounded by {@code dedupMaxEntries}. */
    public final long dedupEntries;
    /** Counter: event ids forgotten before their dedup window ended, at the {@code dedupMaxEntries} bound. */
    public final long dedupEvicted;
    /** Counter: users freed early at the {@code maxUsers} bound (least recently active, no subscription). */
    public final long usersEvicted;

    AgentWireStats(
        final SliceCounters[] slices, final long ringRemainingCapacity, final long ringSize,
        final long largePayloadBytes, final long runs, final long dedupEntries, final long dedupEvicted)
    {
        long sequenced = 0, delivered = 0, slow = 0, recovered = 0, notRecovered = 0, evicted = 0, freed = 0;
        long errors = 0, bytes = 0, userCount = 0, subscriptionCount = 0, backfills = 0, resets = 0;
        for (final SliceCounters c : slices)
        {
            sequenced += c.eventsSequenced.get();
            delivered += c.deliveries.get();
            slow += c.slowConsumerCuts.get();
            recovered += c.resumesRecovered.get();
            notRecovered += c.resumesNotRecovered.get();
            evicted += c.historyEvictedEvents.get();
            freed += c.usersFreed.get();
            errors += c.handlerErrors.get();
            bytes += c.historyBytes.get();
            userCount += c.users.get();
            subscriptionCount += c.subscriptions.get();
            backfills += c.backfillsRequested.get();
            resets += c.streamResets.get();
        }
        eventsSequenced = sequenced;
        deliveries = delivered;
        slowConsumerCuts = slow;
        resumesRecovered = recovered;
        resumesNotRecovered = notRecovered;
        historyEvictedEvents = evicted;
        usersFreed = freed;
        handlerErrors = errors;
        historyBytes = bytes;
        users = userCount;
        subscriptions = subscriptionCount;
        backfillsRequested = backfills;
        streamResets = resets;
        this.ringRemainingCapacity = ringRemainingCapacity;
        this.ringSize = ringSize;
        this.largePayloadBytes = largePayloadBytes;
        this.runs = runs;
        this.dedupEntries = dedupEntries;
        this.dedupEvicted = dedupEvicted;
        long usersEvictedSum = 0;
        for (final SliceCounters c : slices)
        {
            usersEvictedSum += c.usersEvicted.get();
        }
        this.usersEvicted = usersEvictedSum;
    }

    @Override
    public String toString()
    {
        return "AgentWireStats{eventsSequenced=" + eventsSequenced + ", deliveries=" + deliveries +
            ", slowConsumerCuts=" + slowConsumerCuts + ", resumesRecovered=" + resumesRecovered +
            ", resumesNotRecovered=" + resumesNotRecovered + ", historyEvictedEvents=" + historyEvictedEvents +
            ", usersFreed=" + usersFreed + ", handlerErrors=" + handlerErrors + ", historyBytes=" + historyBytes +
            ", users=" + users + ", subscriptions=" + subscriptions + ", backfillsRequested=" + backfillsRequested +
            ", streamResets=" + streamResets +
            ", ringRemainingCapacity=" + ringRemainingCapacity + ", ringSize=" + ringSize + '}';
    }
}
