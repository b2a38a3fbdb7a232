package dev.agentwire.core;

import org.agrona.collections.ObjectHashSet;

/**
 * One user's stream inside its slice: epoch, last seq, the index of its history in the slice's log, live
 * subscriptions and room memberships. Single-threaded: only the owning slice's classes touch it; what readers need
 * is published through {@link #index}.
 */
final class UserStream
{
    private static final Subscription[] NO_SUBSCRIPTIONS = new Subscription[0];

    final String userId;
    /** Where the user sits in its slice's user table; with {@link #generation}, what log records name. */
    final int slot;
    final int generation;
    final StreamIndex index;
    long epoch;
    long lastSeq;
    // A replica knows a stream from the first numbered event or backfill of it; until then epoch and lastSeq mean
    // nothing. A standalone engine numbers its own streams, so they are always known.
    boolean known;
    // Subscriptions held back until a backfill is merged (replica only); they get no live events meanwhile.
    int pendingCount;
    long lastActivityMs;
    long lastAppendMs;
    long lastTouchMs = Long.MIN_VALUE;
    /** Bytes of the log records the history holds; and when its oldest was appended. */
    long historyBytes;
    long oldestAppendMs;

    Subscription[] subscriptions = NO_SUBSCRIPTIONS;
    int subscriptionCount;
    /**
     * No attached subscription's cursor is below this (a lower bound: cursors only advance, and each attach lowers
     * it to the new cursor). A trim to at most this seq cuts nobody, so it needs no look at the subscriptions,
     * whose cursors their transports write on other cores: in steady state a full history drops a seq at every
     * event, and the subscriptions are looked at once per history's length instead.
     */
    long cursorFloor = Long.MAX_VALUE;
    ObjectHashSet<String> rooms;
    int connectedIndex = -1;

    // Intrusive links for the two recency lists a slice keeps (see UserList).
    UserStream activityPrev;
    UserStream activityNext;
    boolean inActivityList;
    UserStream historyPrev;
    UserStream historyNext;
    boolean inHistoryList;

    UserStream(final String userId, final int slot, final int generation, final SliceLog log, final long epoch)
    {
        this.userId = userId;
        this.slot = slot;
        this.generation = generation;
        this.epoch = epoch;
        this.known = epoch != 0;
        this.index = new StreamIndex(log, epoch);
    }

    void addSubscription(final Subscription subscription)
    {
        if (subscriptionCount == subscriptions.length)
        {
            final Subscription[] grown = new Subscription[Math.max(2, subscriptions.length * 2)];
            System.arraycopy(subscriptions, 0, grown, 0, subscriptionCount);
            subscriptions = grown;
        }
        subscriptions[subscriptionCount++] = subscription;
    }

    /** @return true when it was present. */
    boolean removeSubscription(final Subscription subscription)
    {
        for (int i = 0; i < subscriptionCount; i++)
        {
            if (subscriptions[i] == subscription)
            {
                subscriptionCount--;
                subscriptions[i] = subscriptions[subscriptionCount];
                subscriptions[subscriptionCount] = null;
                return true;
            }
        }
        return false;
    }
}
