package dev.agentwire.core;

import com.lmax.disruptor.EventHandler;

import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * One slice of the spine: the single owner of the users that hash to it — their streams, histories, room
 * memberships and subscriptions. Runs on its own thread and sees every slot of the ring in order; it acts on the
 * slots addressed to its users, to rooms its users are in, and to broadcast, handing each to the role that owns
 * it: {@link UserTable}, {@link SliceHistory} (the log), {@link RoomTable}, {@link Subscribers} and, on a replica,
 * {@link ReplicaFollower}.
 * <p>
 * Everything here is single-threaded by construction, so per-user order is the ring's order and no state needs a
 * lock. Nothing here blocks and nothing waits for a reader: a reader that falls too far behind is cut.
 */
final class SliceHandler implements EventHandler<EventSlot>
{
    private final int index;
    private final AgentWireConfig config;
    private final SliceCounters counters;
    private final CountDownLatch started;
    private final PayloadPool payloads;
    private final UserTable users;
    private final SliceHistory history;
    private final RoomTable rooms = new RoomTable();
    private final Subscribers subscribers;
    private final ReplicaFollower replica;

    SliceHandler(
        final int index,
        final AgentWireConfig config,
        final PresenceRelay presence,
        final SliceCounters counters,
        final CountDownLatch started,
        final PayloadPool payloads)
    {
        this.index = index;
        this.config = config;
        this.counters = counters;
        this.started = started;
        this.payloads = payloads;
        final SliceLog log = new SliceLog(config.sliceLogCapacity());
        this.users = new UserTable(log, config.isReplica(), counters,
            Math.max(1, config.maxUsers() / config.sliceCount()));
        this.users.onOverflow(this::freeLeastRecentlyActive);
        this.subscribers = new Subscribers(presence, counters);
        this.history = new SliceHistory(log, config, users, counters, subscribers);
        this.replica = config.isReplica() ? new ReplicaFollower(
            index, config.sliceCount(), config.historySource(), users, history, subscribers, counters) : null;
    }

    /**
     * The slice's thread runs and the Disruptor counts it as running: from now on its shutdown waits for this slice
     * to handle every published slot. Until then it would skip it (see {@link EventSpine}).
     */
    @Override
    public void onStart()
    {
        started.countDown();
    }

    @Override
    public void onEvent(final EventSlot slot, final long sequence, final boolean endOfBatch)
    {
        if (slot.slice != EventSlot.ALL_SLICES && slot.slice != index)
        {
            return;
        }
        final long nowMs = config.clock().time();
        switch (slot.kind)
        {
            case EventSlot.KIND_EVENT:
                try
                {
                    onAgentEvent(slot, nowMs);
                }
                finally
                {
                    slot.readBy(payloads);
                }
                break;
            case EventSlot.KIND_SUBSCRIBE:
                onSubscribe(slot.subscription, slot.resumeEpoch, slot.resumeAfter, nowMs);
                break;
            case EventSlot.KIND_UNSUBSCRIBE:
                onUnsubscribe(slot.subscription, nowMs);
                break;
            case EventSlot.KIND_JOIN:
                onRoomChange(slot.target, slot.room, true, nowMs);
                break;
            case EventSlot.KIND_LEAVE:
                onRoomChange(slot.target, slot.room, false, nowMs);
                break;
            case EventSlot.KIND_TICK:
                onTick(nowMs);
                break;
            case EventSlot.KIND_SHUTDOWN:
                subscribers.shutdown();
                break;
            case EventSlot.KIND_BACKFILL:
                replica.onBackfill(slot.subscription, slot.backfill, nowMs);
                break;
            case EventSlot.KIND_HEAD:
                replica.onHead(slot.target, slot.resumeEpoch, slot.resumeAfter);
                break;
            default:
                throw new IllegalStateException("slot kind=" + slot.kind + " sequence=" + sequence);
        }
        if (slot.kind != EventSlot.KIND_EVENT && slot.slice == index)
        {
            slot.commandDone();
        }
        // The gauges are published once per slot, not at every change inside it.
        counters.historyBytes.lazySet(history.historyBytes());
    }

    private void onAgentEvent(final EventSlot slot, final long nowMs)
    {
        if (slot.recipientCount > 0)
        {
            replica.onNumberedEvent(slot, nowMs);
        }
        else
        {
            switch (slot.targetKind)
            {
                case EventDraft.TARGET_USER:
                    deliver(users.getOrCreate(slot.target, nowMs), slot, nowMs);
                    break;
                case EventDraft.TARGET_ROOM:
                {
                    final ArrayList<UserStream> members = rooms.members(slot.target);
                    if (members != null)
                    {
                        for (int i = 0, n = members.size(); i < n; i++)
                        {
                            deliver(members.get(i), slot, nowMs);
                        }
                    }
                    break;
                }
                case EventDraft.TARGET_BROADCAST:
                {
                    // Delivering may cut a subscriber and shrink the connected list: walk from the end.
                    final ArrayList<UserStream> connected = subscribers.connected();
                    for (int i = connected.size() - 1; i >= 0; i--)
                    {
                        if (i < connected.size())
                        {
                            deliver(connected.get(i), slot, nowMs);
                        }
                    }
                    break;
                }
                default:
                    throw new IllegalStateException("targetKind=" + slot.targetKind);
            }
        }
    }

    /** This slice numbers the event in the user's stream: written once, then every subscription may read it. */
    private void deliver(final UserStream user, final EventSlot slot, final long nowMs)
    {
        final long seq = user.lastSeq + 1;
        history.append(user, slot, seq, nowMs);
        slot.sequenced(user.userId, user.epoch, seq);
        subscribers.signal(user);
    }

    private void onSubscribe(final Subscription subscription, final long epoch, final long after, final long nowMs)
    {
        if (subscription.isClosed() || subscribers.isShutdown())
        {
            return;
        }
        final UserStream user = users.getOrCreate(subscription.userId(), nowMs);
        history.trimByAge(user, nowMs);
        users.touchActivity(user, nowMs);
        if (replica != null && !replica.canAnswer(user, epoch, after))
        {
            replica.hold(user, subscription, epoch, after);
            return;
        }
        subscribers.attach(user, subscription, epoch, after);
    }

    private void onUnsubscribe(final Subscription subscription, final long nowMs)
    {
        final UserStream user = users.get(subscription.userId());
        if (subscription.closeReason() == CloseReason.NONE)
        {
            subscription.markClosed(CloseReason.UNSUBSCRIBED);
        }
        if (user != null && subscribers.detach(user, subscription))
        {
            users.touchActivity(user, nowMs);
            subscribers.removed(user);
        }
    }

    private void onRoomChange(final String userId, final String room, final boolean join, final long nowMs)
    {
        final UserStream user = join ? users.getOrCreate(userId, nowMs) : users.get(userId);
        if (user == null)
        {
            return;
        }
        users.touchActivity(user, nowMs);
        if (join)
        {
            rooms.join(user, room);
        }
        else
        {
            rooms.leave(user, room);
        }
        // Every change is answered, even a repeated one, so a client's request always gets its reply.
        subscribers.notifyAll(user, join, room);
    }

    /**
     * Past the slice's share of {@code maxUsers}: frees the least recently active users that have no subscription
     * (their history and memberships go; a later resume says {@code recovered: false}), scanning a bounded number,
     * so a burst of new users costs each event a few steps at most. Connected users are never freed.
     */
    private void freeLeastRecentlyActive(final UserStream created)
    {
        UserStream user = users.byActivity.head();
        for (int scanned = 0; scanned < 64 && user != null && users.size() > users.maxUsers(); scanned++)
        {
            final UserStream next = user.activityNext;
            if (user != created && user.subscriptionCount == 0)
            {
                history.clear(user);
                rooms.leaveAll(user);
                users.remove(user);
                SliceCounters.increment(counters.usersEvicted);
            }
            user = next;
        }
    }

    private void onTick(final long nowMs)
    {
        history.sweepAged(nowMs);
        // Users with no connection and no activity within the retention are forgotten entirely.
        final long retentionCutoffMs = nowMs - config.userRetentionMs();
        UserStream user = users.byActivity.head();
        while (user != null && user.lastActivityMs < retentionCutoffMs)
        {
            final UserStream next = user.activityNext;
            if (user.subscriptionCount == 0)
            {
                history.clear(user);
                rooms.leaveAll(user);
                users.remove(user);
            }
            else
            {
                // Connected users are present, not gone: they stay, and move out of the way of the scan.
                users.touchActivity(user, nowMs);
            }
            user = next;
        }
    }
}
