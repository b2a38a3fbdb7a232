package dev.agentwire.core;

import org.agrona.collections.Object2ObjectHashMap;

import java.util.ArrayList;

/**
 * A slice's subscriptions: the one place a subscription is attached to its user's stream (at the cursor its resume
 * asks for, with the welcome and resumed answers), told there is more to read, given notices, and detached —
 * closed, unsubscribed, or cut because its user's history no longer holds what it still had to read. Also the
 * connected users (broadcast recipients) and presence. Single-threaded (the slice's).
 */
final class Subscribers implements SliceHistory.TrimListener
{
    /** A replica's subscription held back until the store's answer is merged (see {@link ReplicaFollower}). */
    static final class Held
    {
        final long epoch;
        final long after;
        Backfill answer;

        Held(final long epoch, final long after)
        {
            this.epoch = epoch;
            this.after = after;
        }
    }

    private final PresenceRelay presence;
    private final SliceCounters counters;
    private final ArrayList<UserStream> connected = new ArrayList<>();
    private final Object2ObjectHashMap<Subscription, Held> held = new Object2ObjectHashMap<>();
    private boolean shutdown;

    Subscribers(final PresenceRelay presence, final SliceCounters counters)
    {
        this.presence = presence;
        this.counters = counters;
    }

    boolean isShutdown()
    {
        return shutdown;
    }

    ArrayList<UserStream> connected()
    {
        return connected;
    }

    /**
     * Attaches a subscription to its user's stream, in ring order: what it replays and what follows live meet with
     * no gap and no duplicate. Answers the welcome and, for a resume, whether everything after the cursor is still
     * held ({@code recovered}) and from where the replay starts.
     */
    void attach(final UserStream user, final Subscription subscription, final long clientEpoch, final long after)
    {
        final StreamIndex index = user.index;
        if (after == Subscription.LIVE)
        {
            start(user, subscription, user.lastSeq + 1, null, false);
        }
        else
        {
            final long firstSeq = index.firstSeq();
            final boolean recovered = isRecovered(after, clientEpoch, user.epoch, firstSeq, user.lastSeq);
            final long replayFrom = recovered ? after + 1 : firstSeq;
            SliceCounters.increment(recovered ? counters.resumesRecovered : counters.resumesNotRecovered);
            start(user, subscription, replayFrom, null, true);
            subscription.offerNotice(Notice.resumed(recovered, user.epoch, replayFrom, user.lastSeq, replayFrom - 1));
        }
        add(user, subscription);
    }

    /**
     * Attaches a held-back subscription with what the store answered: the replayed events the log does not hold
     * come first ({@code prefix}), then the log from {@code startSeq}.
     */
    void attachHeld(
        final UserStream user, final Subscription subscription, final long startSeq, final BackfillFrames prefix,
        final boolean resumed, final boolean recovered)
    {
        start(user, subscription, startSeq, prefix, resumed);
        if (resumed)
        {
            SliceCounters.increment(recovered ? counters.resumesRecovered : counters.resumesNotRecovered);
            subscription.offerNotice(Notice.resumed(recovered, user.epoch, startSeq, user.lastSeq, startSeq - 1));
        }
    }

    private static void start(
        final UserStream user, final Subscription subscription, final long startSeq, final BackfillFrames prefix,
        final boolean resuming)
    {
        // What the prefix holds precedes the log's history; the log is read from its first seq after it.
        subscription.attach(user.index, user.epoch, startSeq, prefix,
            prefix == null ? startSeq : Math.max(startSeq, user.index.firstSeq()), resuming);
        user.cursorFloor = Math.min(user.cursorFloor, subscription.cursor());
        subscription.offerNotice(Notice.welcome(user.userId, user.epoch, user.lastSeq, startSeq - 1));
    }

    static boolean isRecovered(
        final long after, final long clientEpoch, final long epoch, final long firstSeq, final long lastSeq)
    {
        if (after == 0)
        {
            return firstSeq == 1;
        }
        return clientEpoch == epoch && after <= lastSeq && after >= firstSeq - 1;
    }

    /** Counts a subscription as its user's (held back or attached): the user is connected from now on. */
    void add(final UserStream user, final Subscription subscription)
    {
        user.addSubscription(subscription);
        SliceCounters.increment(counters.subscriptions);
        if (user.subscriptionCount == 1)
        {
            user.connectedIndex = connected.size();
            connected.add(user);
            presence.onFirstConnected(user.userId);
        }
    }

    /** Holds a replica's subscription back until the store answers; it counts as connected meanwhile. */
    void hold(final UserStream user, final Subscription subscription, final long epoch, final long after)
    {
        held.put(subscription, new Held(epoch, after));
        user.pendingCount++;
        add(user, subscription);
    }

    /** @return the held-back state of a subscription, or null when it is attached (or gone). */
    Held held(final Subscription subscription)
    {
        return held.isEmpty() ? null : held.get(subscription);
    }

    /** A held-back subscription is about to be attached. */
    void release(final UserStream user, final Subscription subscription)
    {
        if (held.remove(subscription) != null)
        {
            user.pendingCount--;
        }
    }

    /** New events are in the user's history: every attached subscription may read them. */
    void signal(final UserStream user)
    {
        final Subscription[] subscriptions = user.subscriptions;
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            final Subscription subscription = subscriptions[i];
            if (user.pendingCount > 0 && held.containsKey(subscription))
            {
                continue;
            }
            subscription.signal();
            SliceCounters.increment(counters.deliveries);
        }
    }

    /** A notice for every attached subscription of the user, after the events it has so far. */
    void notifyAll(final UserStream user, final boolean joined, final String room)
    {
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            final Subscription subscription = user.subscriptions[i];
            if (user.pendingCount > 0 && held.containsKey(subscription))
            {
                continue;
            }
            subscription.offerNotice(joined ? Notice.joined(room, user.lastSeq) : Notice.left(room, user.lastSeq));
        }
    }

    /** The user's history no longer holds seqs below {@code firstSeq}: whoever still needed one is cut. */
    @Override
    public void onTrimmed(final UserStream user, final long firstSeq)
    {
        if (firstSeq <= user.cursorFloor)
        {
            return;
        }
        long floor = Long.MAX_VALUE;
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            if (i >= user.subscriptionCount)
            {
                continue;
            }
            final Subscription subscription = user.subscriptions[i];
            if (!subscription.isAttachedTo(user.index) || user.pendingCount > 0 && held.containsKey(subscription))
            {
                continue; // not reading the log yet: its attach lowers the floor
            }
            final long cursor = subscription.cursor();
            if (cursor < firstSeq)
            {
                cutSlow(user, subscription);
            }
            else
            {
                floor = Math.min(floor, cursor);
            }
        }
        user.cursorFloor = floor;
    }

    /** A subscription fell behind what history holds: it ends, its transport is told, it may resume. */
    void cutSlow(final UserStream user, final Subscription subscription)
    {
        subscription.markSlow();
        detach(user, subscription);
        SliceCounters.increment(counters.slowConsumerCuts);
        subscription.listener().onClosed(subscription, CloseReason.SLOW_CONSUMER);
        removed(user);
    }

    /**
     * The one way a subscription leaves its user: the user's list, the held-back count and the gauge stay in step.
     * The caller says why (a closing notice, a cut) and then calls {@link #removed(UserStream)}.
     *
     * @return false when the subscription was not the user's (already gone).
     */
    boolean detach(final UserStream user, final Subscription subscription)
    {
        if (!user.removeSubscription(subscription))
        {
            return false;
        }
        release(user, subscription);
        SliceCounters.add(counters.subscriptions, -1);
        return true;
    }

    /** After {@link #detach}: the user's last subscription gone means the user is offline. */
    void removed(final UserStream user)
    {
        if (user.subscriptionCount == 0 && user.connectedIndex >= 0)
        {
            final int at = user.connectedIndex;
            final int last = connected.size() - 1;
            final UserStream moved = connected.get(last);
            connected.set(at, moved);
            moved.connectedIndex = at;
            connected.remove(last);
            user.connectedIndex = -1;
            presence.onLastDisconnected(user.userId);
        }
    }

    /**
     * A replica restarts the user's stream (new epoch, or missed numbers): its attached subscriptions end at once
     * with {@link CloseReason#RESUME_REQUIRED}; their clients resume and learn exactly what was recovered.
     */
    void resumeRequired(final UserStream user)
    {
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            final Subscription subscription = user.subscriptions[i];
            if (user.pendingCount > 0 && held.containsKey(subscription))
            {
                continue;
            }
            detach(user, subscription);
            subscription.offerClosing(CloseReason.RESUME_REQUIRED, Long.MIN_VALUE);
        }
        removed(user);
    }

    /** The engine closes: every subscription ends with {@link CloseReason#SHUTDOWN} after its user's last event. */
    void shutdown()
    {
        shutdown = true;
        for (int i = connected.size() - 1; i >= 0; i--)
        {
            final UserStream user = connected.get(i);
            for (int s = user.subscriptionCount - 1; s >= 0; s--)
            {
                final Subscription subscription = user.subscriptions[s];
                // A held-back subscription never had a cursor: its end comes at once.
                subscription.offerClosing(CloseReason.SHUTDOWN,
                    held.containsKey(subscription) ? Long.MIN_VALUE : user.lastSeq);
                user.subscriptions[s] = null;
            }
            user.subscriptionCount = 0;
            user.pendingCount = 0;
            user.connectedIndex = -1;
        }
        connected.clear();
        held.clear();
        counters.subscriptions.set(0);
    }
}
