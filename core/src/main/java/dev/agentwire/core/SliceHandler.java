package dev.agentwire.core;

import com.lmax.disruptor.EventHandler;
import org.agrona.collections.Object2ObjectHashMap;
import org.agrona.collections.ObjectHashSet;

import java.util.ArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One slice of the spine: the single owner of the users that hash to it, their streams, histories, room
 * memberships and subscriptions (the subscriber registry). Runs on its own thread and sees every slot of the
 * ring in order; it acts on the slots addressed to its users, to rooms its users are in, and to broadcast.
 * <p>
 * Everything here is single-threaded by construction, so per-user order is the ring's order and no state needs a
 * lock. Nothing here blocks: a full subscription queue is cut, not waited for.
 */
final class SliceHandler implements EventHandler<EventSlot>
{
    private static final long MAX_JS_SAFE_EPOCH = 1L << 53;

    /**
     * Recency lists are re-ordered at most this often per user. Moving a user to the tail touches its neighbours,
     * which are cold in cache; doing it on every event cost more than the rest of delivery. Both lists only need
     * order to well under the retention and age bounds (minutes), and the exact times stay on the user.
     */
    static final long TOUCH_GRANULARITY_MS = 1_000;

    private final int index;
    private final AgentWireConfig config;
    private final PresenceRelay presence;
    private final SliceCounters counters;
    private final long historyBudgetBytes;
    private final Object2ObjectHashMap<String, UserStream> users = new Object2ObjectHashMap<>();
    private final Object2ObjectHashMap<String, ArrayList<UserStream>> rooms = new Object2ObjectHashMap<>();
    private final ArrayList<UserStream> connected = new ArrayList<>();
    private final UserList byActivity = new UserList(false);
    private final UserList byAppend = new UserList(true);
    private long historyBytes;
    private boolean shutdown;

    SliceHandler(final int index, final AgentWireConfig config, final PresenceRelay presence, final SliceCounters counters)
    {
        this.index = index;
        this.config = config;
        this.presence = presence;
        this.counters = counters;
        this.historyBudgetBytes = Math.max(1, config.historyMaxTotalBytes() / config.sliceCount());
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
                onAgentEvent(slot, sequence, nowMs);
                break;
            case EventSlot.KIND_SUBSCRIBE:
                onSubscribe(slot.subscription, slot.resumeEpoch, slot.resumeAfter, nowMs);
                break;
            case EventSlot.KIND_UNSUBSCRIBE:
                onUnsubscribe(slot.subscription, nowMs);
                break;
            case EventSlot.KIND_JOIN:
                onJoin(slot.target, slot.room, nowMs);
                break;
            case EventSlot.KIND_LEAVE:
                onLeave(slot.target, slot.room, nowMs);
                break;
            case EventSlot.KIND_TICK:
                onTick(nowMs);
                break;
            case EventSlot.KIND_SHUTDOWN:
                onShutdownCommand();
                break;
            default:
                throw new IllegalStateException("slot kind=" + slot.kind + " sequence=" + sequence);
        }
        // The gauge is published once per slot, not at every change inside it.
        counters.historyBytes.lazySet(historyBytes);
    }

    private void onAgentEvent(final EventSlot slot, final long position, final long nowMs)
    {
        switch (slot.targetKind)
        {
            case EventDraft.TARGET_USER:
            {
                final UserStream user = userFor(slot.target, nowMs);
                deliver(user, slot, copyPayload(slot), position, null, false, nowMs);
                break;
            }
            case EventDraft.TARGET_ROOM:
            {
                final ArrayList<UserStream> members = rooms.get(slot.target);
                if (members != null && !members.isEmpty())
                {
                    final byte[] payload = copyPayload(slot);
                    for (int i = 0, n = members.size(); i < n; i++)
                    {
                        deliver(members.get(i), slot, payload, position, slot.target, false, nowMs);
                    }
                }
                break;
            }
            case EventDraft.TARGET_BROADCAST:
            {
                if (!connected.isEmpty())
                {
                    final byte[] payload = copyPayload(slot);
                    // deliver() may cut a slow subscriber and shrink 'connected': walk from the end.
                    for (int i = connected.size() - 1; i >= 0; i--)
                    {
                        if (i < connected.size())
                        {
                            deliver(connected.get(i), slot, payload, position, null, true, nowMs);
                        }
                    }
                }
                break;
            }
            default:
                throw new IllegalStateException("targetKind=" + slot.targetKind);
        }
        // Every slice that looked at the slot reports, members or not, so the receipt knows when all have.
        if (slot.receipt != null)
        {
            slot.receipt.sliceDone();
        }
        enforceHistoryBudget();
    }

    private static byte[] copyPayload(final EventSlot slot)
    {
        final byte[] bytes = new byte[slot.payloadLength];
        slot.payload.getBytes(0, bytes, 0, slot.payloadLength);
        return bytes;
    }

    private void deliver(
        final UserStream user,
        final EventSlot slot,
        final byte[] payload,
        final long position,
        final String room,
        final boolean broadcast,
        final long nowMs)
    {
        final AgentEvent event = new AgentEvent(
            user.userId, user.epoch, ++user.lastSeq, position, slot.type, slot.runId, slot.threadId, slot.eventId,
            room, broadcast, slot.binary, slot.timestampMs, slot.publishNs, payload);

        final EventHistory history = user.history;
        trimByAge(user, nowMs);
        if (history.isFull())
        {
            releaseHistory(history.dropOldest());
        }
        history.append(event, nowMs);
        addHistory(event.footprintBytes());
        user.lastAppendMs = nowMs;
        user.lastActivityMs = nowMs;
        if (nowMs - user.lastTouchMs >= TOUCH_GRANULARITY_MS || !byAppend.contains(user))
        {
            user.lastTouchMs = nowMs;
            byAppend.touch(user);
            byActivity.touch(user);
        }
        SliceCounters.increment(counters.eventsSequenced);
        if (slot.receipt != null)
        {
            slot.receipt.sequenced(user.userId, user.epoch, event.seq());
        }

        final Subscription[] subscriptions = user.subscriptions;
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            final Subscription subscription = subscriptions[i];
            if (subscription.offerEvent(event))
            {
                SliceCounters.increment(counters.deliveries);
            }
            else
            {
                cutSlow(user, subscription);
            }
        }
    }

    private void onSubscribe(final Subscription subscription, final long epoch, final long after, final long nowMs)
    {
        if (subscription.isClosed() || shutdown)
        {
            return;
        }
        final UserStream user = userFor(subscription.userId(), nowMs);
        trimByAge(user, nowMs);
        user.lastActivityMs = nowMs;
        byActivity.touch(user);

        final boolean offered = subscription.offerNotice(Notice.welcome(user.userId, user.epoch, user.lastSeq)) &&
            (after == Subscription.LIVE || replay(user, subscription, epoch, after));
        if (!offered)
        {
            subscription.markSlow();
            SliceCounters.increment(counters.slowConsumerCuts);
            subscription.listener().onClosed(subscription, CloseReason.SLOW_CONSUMER);
            return;
        }

        user.addSubscription(subscription);
        SliceCounters.increment(counters.subscriptions);
        if (user.subscriptionCount == 1)
        {
            user.connectedIndex = connected.size();
            connected.add(user);
            presence.onFirstConnected(user.userId);
        }
    }

    /**
     * Runs inside the subscribe command, between two events of the ring: what is replayed and what follows live
     * meet exactly, with no gap and no duplicate.
     */
    private boolean replay(final UserStream user, final Subscription subscription, final long epoch, final long after)
    {
        final EventHistory history = user.history;
        final long lastSeq = user.lastSeq;
        final long firstSeq = history.firstSeq(lastSeq);
        final boolean recovered;
        if (after == 0)
        {
            recovered = firstSeq == 1;
        }
        else
        {
            recovered = epoch == user.epoch && after <= lastSeq && after >= firstSeq - 1;
        }
        final long replayFrom = recovered ? after + 1 : firstSeq;
        SliceCounters.increment(recovered ? counters.resumesRecovered : counters.resumesNotRecovered);

        if (!subscription.offerNotice(Notice.resumed(recovered, user.epoch, replayFrom, lastSeq)))
        {
            return false;
        }
        for (int i = (int)(replayFrom - firstSeq), n = history.size(); i < n; i++)
        {
            if (!subscription.offerEvent(history.get(i)))
            {
                return false;
            }
        }
        return true;
    }

    private void onUnsubscribe(final Subscription subscription, final long nowMs)
    {
        final UserStream user = users.get(subscription.userId());
        if (subscription.closeReason() == CloseReason.NONE)
        {
            subscription.markClosed(CloseReason.UNSUBSCRIBED);
        }
        if (user != null && user.removeSubscription(subscription))
        {
            SliceCounters.add(counters.subscriptions, -1);
            user.lastActivityMs = nowMs;
            byActivity.touch(user);
            onSubscriptionRemoved(user);
        }
    }

    private void cutSlow(final UserStream user, final Subscription subscription)
    {
        subscription.markSlow();
        user.removeSubscription(subscription);
        SliceCounters.add(counters.subscriptions, -1);
        SliceCounters.increment(counters.slowConsumerCuts);
        subscription.listener().onClosed(subscription, CloseReason.SLOW_CONSUMER);
        onSubscriptionRemoved(user);
    }

    private void onSubscriptionRemoved(final UserStream user)
    {
        if (user.subscriptionCount == 0 && user.connectedIndex >= 0)
        {
            removeConnected(user);
            presence.onLastDisconnected(user.userId);
        }
    }

    private void removeConnected(final UserStream user)
    {
        final int at = user.connectedIndex;
        final int last = connected.size() - 1;
        final UserStream moved = connected.get(last);
        connected.set(at, moved);
        moved.connectedIndex = at;
        connected.remove(last);
        user.connectedIndex = -1;
    }

    private void onJoin(final String userId, final String room, final long nowMs)
    {
        final UserStream user = userFor(userId, nowMs);
        user.lastActivityMs = nowMs;
        byActivity.touch(user);
        if (user.rooms == null)
        {
            user.rooms = new ObjectHashSet<>(4);
        }
        if (user.rooms.add(room))
        {
            rooms.computeIfAbsent(room, r -> new ArrayList<>(4)).add(user);
        }
        // Every join is answered, even a repeated one, so a client's request always gets its reply.
        notifyAll(user, Notice.joined(room));
    }

    private void onLeave(final String userId, final String room, final long nowMs)
    {
        final UserStream user = users.get(userId);
        if (user == null)
        {
            return;
        }
        user.lastActivityMs = nowMs;
        byActivity.touch(user);
        if (user.rooms != null && user.rooms.remove(room))
        {
            removeFromRoom(user, room);
        }
        notifyAll(user, Notice.left(room));
    }

    private void removeFromRoom(final UserStream user, final String room)
    {
        final ArrayList<UserStream> members = rooms.get(room);
        if (members != null)
        {
            members.remove(user);
            if (members.isEmpty())
            {
                rooms.remove(room);
            }
        }
    }

    private void notifyAll(final UserStream user, final Notice notice)
    {
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            final Subscription subscription = user.subscriptions[i];
            if (!subscription.offerNotice(notice))
            {
                cutSlow(user, subscription);
            }
        }
    }

    private void onTick(final long nowMs)
    {
        // Users whose newest event is older than the age bound hold only expired history.
        final long ageCutoffMs = nowMs - config.historyMaxAgeMs();
        UserStream user = byAppend.head();
        while (user != null && user.lastAppendMs < ageCutoffMs)
        {
            final UserStream next = user.historyNext;
            releaseHistory(user.history.clear());
            byAppend.remove(user);
            user = next;
        }

        // Users with no connection and no activity within the retention are forgotten entirely.
        final long retentionCutoffMs = nowMs - config.userRetentionMs();
        user = byActivity.head();
        while (user != null && user.lastActivityMs < retentionCutoffMs)
        {
            final UserStream next = user.activityNext;
            if (user.subscriptionCount == 0)
            {
                free(user);
            }
            else
            {
                // Connected users are present, not gone: they stay, and move out of the way of the scan.
                user.lastActivityMs = nowMs;
                byActivity.touch(user);
            }
            user = next;
        }
    }

    private void free(final UserStream user)
    {
        releaseHistory(user.history.clear());
        byAppend.remove(user);
        byActivity.remove(user);
        if (user.rooms != null)
        {
            for (final String room : user.rooms)
            {
                removeFromRoom(user, room);
            }
            user.rooms = null;
        }
        users.remove(user.userId);
        SliceCounters.add(counters.users, -1);
        SliceCounters.increment(counters.usersFreed);
    }

    private void onShutdownCommand()
    {
        shutdown = true;
        for (int i = connected.size() - 1; i >= 0; i--)
        {
            final UserStream user = connected.get(i);
            for (int s = user.subscriptionCount - 1; s >= 0; s--)
            {
                final Subscription subscription = user.subscriptions[s];
                subscription.offerClosing(CloseReason.SHUTDOWN);
                user.subscriptions[s] = null;
            }
            user.subscriptionCount = 0;
            user.connectedIndex = -1;
        }
        connected.clear();
        counters.subscriptions.set(0);
    }

    private UserStream userFor(final String userId, final long nowMs)
    {
        UserStream user = users.get(userId);
        if (user == null)
        {
            // A new stream gets a new epoch: a cursor from a forgotten stream can never be taken for this one.
            final long epoch = ThreadLocalRandom.current().nextLong(1, MAX_JS_SAFE_EPOCH);
            user = new UserStream(userId, epoch, config.historyMaxEvents());
            user.lastActivityMs = nowMs;
            users.put(userId, user);
            byActivity.touch(user);
            SliceCounters.increment(counters.users);
        }
        return user;
    }

    private void trimByAge(final UserStream user, final long nowMs)
    {
        final EventHistory history = user.history;
        final long cutoffMs = nowMs - config.historyMaxAgeMs();
        while (history.size() > 0 && history.oldestAppendMs() < cutoffMs)
        {
            releaseHistory(history.dropOldest());
        }
        if (history.size() == 0)
        {
            byAppend.remove(user);
        }
    }

    /** The global bound: the least recently appended histories give up their oldest events first. */
    private void enforceHistoryBudget()
    {
        while (historyBytes > historyBudgetBytes)
        {
            final UserStream user = byAppend.head();
            if (user == null)
            {
                return;
            }
            releaseHistory(user.history.dropOldest());
            SliceCounters.increment(counters.historyEvictedEvents);
            if (user.history.size() == 0)
            {
                byAppend.remove(user);
            }
        }
    }

    private void addHistory(final long bytes)
    {
        historyBytes += bytes;
    }

    private void releaseHistory(final long bytes)
    {
        historyBytes -= bytes;
    }
}
