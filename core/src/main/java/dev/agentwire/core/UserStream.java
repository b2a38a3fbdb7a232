package dev.agentwire.core;

import org.agrona.collections.ObjectHashSet;

/**
 * One user's stream inside its slice: epoch, last seq, history, live subscriptions and room memberships.
 * Single-threaded: only the owning {@link SliceHandler} touches it.
 */
final class UserStream
{
    private static final Subscription[] NO_SUBSCRIPTIONS = new Subscription[0];

    final String userId;
    final EventHistory history;
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

    Subscription[] subscriptions = NO_SUBSCRIPTIONS;
    int subscriptionCount;
    ObjectHashSet<String> rooms;
    int connectedIndex = -1;

    // Intrusive links for the two recency lists a slice keeps (see UserList).
    UserStream activityPrev;
    UserStream activityNext;
    boolean inActivityList;
    UserStream historyPrev;
    UserStream historyNext;
    boolean inHistoryList;

    UserStream(final String userId, final long epoch, final int historyMaxEvents)
    {
        this.userId = userId;
        this.epoch = epoch;
        this.known = epoch != 0;
        this.history = new EventHistory(historyMaxEvents);
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
