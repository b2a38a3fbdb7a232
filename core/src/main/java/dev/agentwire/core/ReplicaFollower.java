package dev.agentwire.core;

/**
 * A replica slice's part: it follows the numbers an external sequencer gave (a cluster's Redis) instead of counting,
 * restarts a stream whose epoch changed or whose numbers it missed, and answers a subscription it cannot answer
 * from what it has seen by asking the store, holding the subscription back, and merging the store's answer with
 * its own history in ring order — so the client still sees no gap and no duplicate. Single-threaded (the slice's).
 */
final class ReplicaFollower
{
    private final int index;
    private final int sliceCount;
    private final HistorySource source;
    private final UserTable users;
    private final SliceHistory history;
    private final Subscribers subscribers;
    private final SliceCounters counters;
    private final EventSlot carrier = new EventSlot();

    ReplicaFollower(
        final int index,
        final int sliceCount,
        final HistorySource source,
        final UserTable users,
        final SliceHistory history,
        final Subscribers subscribers,
        final SliceCounters counters)
    {
        this.index = index;
        this.sliceCount = sliceCount;
        this.source = source;
        this.users = users;
        this.history = history;
        this.subscribers = subscribers;
        this.counters = counters;
    }

    /** An event the sequencer numbered: this slice's recipients take it at the numbers given. */
    void onNumberedEvent(final EventSlot slot, final long nowMs)
    {
        final boolean mine = slot.slice == index;
        final Recipients recipients = slot.recipients();
        for (int i = 0, n = recipients.count; i < n; i++)
        {
            final String userId = recipients.users[i];
            if (!mine && EventSpine.sliceOf(userId, sliceCount) != index)
            {
                continue;
            }
            final UserStream user = users.getOrCreate(userId, nowMs);
            final long seq = recipients.seqs[i];
            if (!follow(user, recipients.epochs[i], seq))
            {
                continue;
            }
            history.append(user, slot, seq, nowMs);
            slot.sequenced(user.userId, user.epoch, seq);
            subscribers.signal(user);
            if (user.pendingCount > 0)
            {
                completeWaiting(user, nowMs);
            }
        }
    }

    /**
     * Brings the local view of a stream to the numbered event about to be appended.
     *
     * @return false when the event is already known here.
     */
    private boolean follow(final UserStream user, final long epoch, final long seq)
    {
        if (!user.known)
        {
            user.known = true;
            user.epoch = epoch;
            user.lastSeq = seq - 1;
            user.index.restart(epoch, seq - 1);
            return true;
        }
        if (epoch != user.epoch || seq > user.lastSeq + 1)
        {
            // The store lost its data (new epoch) or this node missed numbered events: what it holds is no
            // longer a contiguous prefix, so it starts over here and live clients resume from the store.
            restart(user, epoch, seq - 1);
            return true;
        }
        return seq > user.lastSeq;
    }

    /**
     * Where the store's stream stands, as the feed last saw it: a stream held here in another epoch, or behind it,
     * missed events the feed lost (a dropped connection to the store) and restarts, so its clients resume from
     * the store. A user this slice does not hold, or holds at or past the head, is left alone.
     */
    void onHead(final String userId, final long epoch, final long lastSeq)
    {
        final UserStream user = users.get(userId);
        if (user != null && user.known && (user.epoch != epoch || user.lastSeq < lastSeq))
        {
            restart(user, epoch, lastSeq);
        }
    }

    private void restart(final UserStream user, final long epoch, final long lastSeq)
    {
        SliceCounters.increment(counters.streamResets);
        subscribers.resumeRequired(user);
        history.clear(user);
        user.epoch = epoch;
        user.lastSeq = lastSeq;
        user.index.restart(epoch, lastSeq);
    }

    /** @return true when this node can answer a subscribe from what it has seen of the user's stream. */
    boolean canAnswer(final UserStream user, final long epoch, final long after)
    {
        return user.known && source.isCurrent(user.userId) && (after == Subscription.LIVE ||
            Subscribers.isRecovered(after, epoch, user.epoch, user.index.firstSeq(), user.lastSeq));
    }

    /**
     * This node cannot answer from what it has seen: hold the subscription back (it is counted as connected, so
     * broadcasts number it) and ask the store; {@link #onBackfill} merges the answer in ring order.
     */
    void hold(final UserStream user, final Subscription subscription, final long epoch, final long after)
    {
        subscribers.hold(user, subscription, epoch, after);
        ask(subscription, subscribers.held(subscription));
    }

    private void ask(final Subscription subscription, final Subscribers.Held held)
    {
        SliceCounters.increment(counters.backfillsRequested);
        held.answer = null;
        source.fetch(subscription, held.epoch, held.after);
    }

    /** The store's answer for a held-back subscription, taken in ring order with the live events. */
    void onBackfill(final Subscription subscription, final Backfill backfill, final long nowMs)
    {
        final Subscribers.Held held = subscribers.held(subscription);
        if (subscription.isClosed() || held == null || subscribers.isShutdown())
        {
            return;
        }
        final UserStream user = users.get(subscription.userId());
        if (user == null)
        {
            return;
        }
        if (!user.known)
        {
            // First sight of this stream: it is what the store held; the log brings what follows.
            user.known = true;
            user.epoch = backfill.epoch();
            user.lastSeq = backfill.lastSeq();
            user.index.restart(backfill.epoch(), backfill.lastSeq());
        }
        else if (user.epoch != backfill.epoch() || (backfill.isRestarting() && user.lastSeq < backfill.lastSeq()))
        {
            // Another epoch, or a view of the stream taken while this engine was not fed it: the store's answer is
            // where the stream stands, and what arrives from the feed from now on continues it.
            restart(user, backfill.epoch(), backfill.lastSeq());
        }
        held.answer = backfill;
        completeWaiting(user, nowMs);
    }

    private void completeWaiting(final UserStream user, final long nowMs)
    {
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            final Subscription subscription = user.subscriptions[i];
            final Subscribers.Held held = subscribers.held(subscription);
            if (held != null && held.answer != null)
            {
                tryComplete(user, subscription, held, nowMs);
            }
        }
    }

    /**
     * Releases a held-back subscription once this node has seen the stream at least as far as the store's answer
     * reached: the answer's events older than the log's history, then the log, then live, with nothing missed.
     */
    private void tryComplete(
        final UserStream user, final Subscription subscription, final Subscribers.Held held, final long nowMs)
    {
        final Backfill backfill = held.answer;
        if (backfill.epoch() != user.epoch)
        {
            ask(subscription, held);
            return;
        }
        if (user.lastSeq < backfill.lastSeq())
        {
            return;
        }
        final long localFirst = user.index.firstSeq();
        if (localFirst > backfill.lastSeq() + 1)
        {
            // The log no longer reaches back to where the answer ends: ask again for what lies between.
            ask(subscription, held);
            return;
        }
        subscribers.release(user, subscription);
        if (held.after == Subscription.LIVE)
        {
            subscribers.attachHeld(user, subscription, user.lastSeq + 1, null, false, false);
            return;
        }
        final boolean recovered = Subscribers.isRecovered(
            held.after, held.epoch, backfill.epoch(), backfill.firstSeq(), backfill.lastSeq());
        final long replayFrom = recovered ? held.after + 1 : backfill.firstSeq();
        final BackfillFrames prefix = replayFrom < localFirst ? history.encodeBackfill(
            user, backfill.events(), replayFrom, localFirst - 1, carrier, nowMs) : null;
        subscribers.attachHeld(user, subscription, replayFrom, prefix, true, recovered);
    }
}
