package dev.agentwire.core;

import com.lmax.disruptor.EventHandler;
import org.agrona.collections.Object2ObjectHashMap;
import org.agrona.collections.ObjectHashSet;

import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
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
    private final HistorySource historySource;
    private final boolean replica;
    private final int sliceCount;
    private final CountDownLatch started;
    private final Object2ObjectHashMap<String, UserStream> users = new Object2ObjectHashMap<>();
    private final Object2ObjectHashMap<String, ArrayList<UserStream>> rooms = new Object2ObjectHashMap<>();
    private final ArrayList<UserStream> connected = new ArrayList<>();
    private final UserList byActivity = new UserList(false);
    private final UserList byAppend = new UserList(true);
    private long historyBytes;
    private boolean shutdown;

    SliceHandler(
        final int index,
        final AgentWireConfig config,
        final PresenceRelay presence,
        final SliceCounters counters,
        final CountDownLatch started)
    {
        this.index = index;
        this.started = started;
        this.config = config;
        this.presence = presence;
        this.counters = counters;
        this.historyBudgetBytes = Math.max(1, config.historyMaxTotalBytes() / config.sliceCount());
        this.historySource = config.historySource();
        this.replica = historySource != null;
        this.sliceCount = config.sliceCount();
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
            case EventSlot.KIND_BACKFILL:
                onBackfill(slot.subscription, slot.backfill);
                break;
            default:
                throw new IllegalStateException("slot kind=" + slot.kind + " sequence=" + sequence);
        }
        // The gauge is published once per slot, not at every change inside it.
        counters.historyBytes.lazySet(historyBytes);
    }

    private void onAgentEvent(final EventSlot slot, final long position, final long nowMs)
    {
        if (slot.recipients.count > 0)
        {
            onNumberedEvent(slot, position, nowMs);
        }
        else
        {
            onLocalEvent(slot, position, nowMs);
        }
        // Every slice that looked at the slot reports, members or not, so the receipt knows when all have.
        if (slot.receipt != null)
        {
            slot.receipt.sliceDone();
        }
        enforceHistoryBudget();
    }

    /** Replica: the sequencer chose the recipients and their numbers; this slice follows them. */
    private void onNumberedEvent(final EventSlot slot, final long position, final long nowMs)
    {
        final String room = slot.targetKind == EventDraft.TARGET_ROOM ? slot.target : null;
        final boolean broadcast = slot.targetKind == EventDraft.TARGET_BROADCAST;
        final boolean mine = slot.slice == index;
        byte[] payload = null;
        final Recipients recipients = slot.recipients;
        for (int i = 0, n = recipients.count; i < n; i++)
        {
            final String userId = recipients.users[i];
            if (!mine && EventSpine.sliceOf(userId, sliceCount) != index)
            {
                continue;
            }
            final UserStream user = userFor(userId, nowMs);
            final long seq = recipients.seqs[i];
            if (!follow(user, recipients.epochs[i], seq))
            {
                continue;
            }
            if (payload == null)
            {
                payload = copyPayload(slot);
            }
            deliver(user, slot, payload, position, room, broadcast, seq, nowMs);
            if (user.pendingCount > 0)
            {
                completeWaiting(user);
            }
        }
    }

    /**
     * Brings the local view of a stream to the numbered event about to be delivered.
     *
     * @return false when the event is already known here (it came in a backfill first).
     */
    private boolean follow(final UserStream user, final long epoch, final long seq)
    {
        if (!user.known)
        {
            user.known = true;
            user.epoch = epoch;
            user.lastSeq = seq - 1;
            return true;
        }
        if (epoch != user.epoch || seq > user.lastSeq + 1)
        {
            // The store lost its data (new epoch) or this node missed numbered events: what it holds is no
            // longer a contiguous prefix, so it starts over here and live clients resume from the store.
            resetStream(user, epoch, seq - 1);
            return true;
        }
        return seq > user.lastSeq;
    }

    private void resetStream(final UserStream user, final long epoch, final long lastSeq)
    {
        SliceCounters.increment(counters.streamResets);
        releaseHistory(user.history.clear());
        byAppend.remove(user);
        user.epoch = epoch;
        user.lastSeq = lastSeq;
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            final Subscription subscription = user.subscriptions[i];
            if (!subscription.pending)
            {
                detach(user, subscription);
                subscription.offerClosing(CloseReason.RESUME_REQUIRED);
            }
        }
        onSubscriptionRemoved(user);
    }

    private void onLocalEvent(final EventSlot slot, final long position, final long nowMs)
    {
        switch (slot.targetKind)
        {
            case EventDraft.TARGET_USER:
            {
                final UserStream user = userFor(slot.target, nowMs);
                deliver(user, slot, copyPayload(slot), position, null, false, user.lastSeq + 1, nowMs);
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
                        final UserStream member = members.get(i);
                        deliver(member, slot, payload, position, slot.target, false, member.lastSeq + 1, nowMs);
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
                            final UserStream user = connected.get(i);
                            deliver(user, slot, payload, position, null, true, user.lastSeq + 1, nowMs);
                        }
                    }
                }
                break;
            }
            default:
                throw new IllegalStateException("targetKind=" + slot.targetKind);
        }
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
        final long seq,
        final long nowMs)
    {
        user.lastSeq = seq;
        final AgentEvent event = new AgentEvent(
            user.userId, user.epoch, seq, position, slot.type, slot.runId, slot.threadId, slot.eventId,
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
            if (subscription.pending)
            {
                continue;
            }
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

        if (replica && !(user.known && historySource.isCurrent() &&
            (after == Subscription.LIVE || isCovered(user, epoch, after))))
        {
            // This node cannot answer from what it has seen: hold the subscription back (it is counted as
            // connected, so broadcasts number it) and ask the store; onBackfill merges the answer in ring order.
            subscription.pending = true;
            subscription.pendingEpoch = epoch;
            subscription.pendingAfter = after;
            user.pendingCount++;
            addSubscription(user, subscription);
            requestBackfill(subscription);
            return;
        }

        final boolean offered = subscription.offerNotice(Notice.welcome(user.userId, user.epoch, user.lastSeq)) &&
            (after == Subscription.LIVE || replay(user, subscription, epoch, after));
        if (!offered)
        {
            cutSlow(user, subscription); // not added yet: nothing to detach
            return;
        }

        addSubscription(user, subscription);
    }

    private void addSubscription(final UserStream user, final Subscription subscription)
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

    private void requestBackfill(final Subscription subscription)
    {
        SliceCounters.increment(counters.backfillsRequested);
        subscription.waitingFor = null;
        historySource.fetch(subscription, subscription.pendingEpoch, subscription.pendingAfter);
    }

    /** Replica: the store's answer for a held-back subscription, taken in ring order with the live events. */
    private void onBackfill(final Subscription subscription, final Backfill backfill)
    {
        if (subscription.isClosed() || !subscription.pending || shutdown)
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
        }
        else if (user.epoch != backfill.epoch())
        {
            resetStream(user, backfill.epoch(), backfill.lastSeq());
        }
        subscription.waitingFor = backfill;
        completeWaiting(user);
    }

    private void completeWaiting(final UserStream user)
    {
        for (int i = user.subscriptionCount - 1; i >= 0; i--)
        {
            final Subscription subscription = user.subscriptions[i];
            if (subscription.pending && subscription.waitingFor != null)
            {
                tryComplete(user, subscription);
            }
        }
    }

    /**
     * Releases a held-back subscription once this node has seen the stream at least as far as the backfill
     * reached: the backfill's events, then what this node holds after them, then live, with nothing missed.
     */
    private void tryComplete(final UserStream user, final Subscription subscription)
    {
        final Backfill backfill = subscription.waitingFor;
        if (backfill.epoch() != user.epoch)
        {
            requestBackfill(subscription);
            return;
        }
        if (user.lastSeq < backfill.lastSeq())
        {
            return;
        }
        final EventHistory history = user.history;
        final long localFirst = history.firstSeq(user.lastSeq);
        if (localFirst > backfill.lastSeq() + 1)
        {
            requestBackfill(subscription);
            return;
        }
        subscription.pending = false;
        subscription.waitingFor = null;
        user.pendingCount--;

        final long after = subscription.pendingAfter;
        boolean offered = subscription.offerNotice(Notice.welcome(user.userId, user.epoch, user.lastSeq));
        long nextSeq = Long.MAX_VALUE;
        if (offered && after != Subscription.LIVE)
        {
            final boolean recovered = isRecovered(
                after, subscription.pendingEpoch, backfill.epoch(), backfill.firstSeq(), backfill.lastSeq());
            final long replayFrom = recovered ? after + 1 : backfill.firstSeq();
            SliceCounters.increment(recovered ? counters.resumesRecovered : counters.resumesNotRecovered);
            offered = subscription.offerNotice(Notice.resumed(recovered, user.epoch, replayFrom, user.lastSeq));
            nextSeq = replayFrom;
            final java.util.List<AgentEvent> events = backfill.events();
            for (int i = 0, n = events.size(); offered && i < n; i++)
            {
                final AgentEvent event = events.get(i);
                if (event.seq() == nextSeq)
                {
                    offered = subscription.offerEvent(event);
                    nextSeq++;
                }
            }
        }
        else
        {
            nextSeq = user.lastSeq + 1;
        }
        if (offered && nextSeq < localFirst && nextSeq <= user.lastSeq)
        {
            // The store's answer stopped short of what this node holds: never a silent gap, resume again.
            detach(user, subscription);
            subscription.offerClosing(CloseReason.RESUME_REQUIRED);
            onSubscriptionRemoved(user);
            return;
        }
        for (int i = (int)Math.max(0, nextSeq - localFirst), n = history.size(); offered && i < n; i++)
        {
            offered = subscription.offerEvent(history.get(i));
        }
        if (!offered)
        {
            cutSlow(user, subscription);
        }
    }

    private static boolean isRecovered(
        final long after, final long clientEpoch, final long epoch, final long firstSeq, final long lastSeq)
    {
        if (after == 0)
        {
            return firstSeq == 1;
        }
        return clientEpoch == epoch && after <= lastSeq && after >= firstSeq - 1;
    }

    private static boolean isCovered(final UserStream user, final long epoch, final long after)
    {
        return isRecovered(after, epoch, user.epoch, user.history.firstSeq(user.lastSeq), user.lastSeq);
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
        final boolean recovered = isRecovered(after, epoch, user.epoch, firstSeq, lastSeq);
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
        if (user != null && detach(user, subscription))
        {
            user.lastActivityMs = nowMs;
            byActivity.touch(user);
            onSubscriptionRemoved(user);
        }
    }

    private void cutSlow(final UserStream user, final Subscription subscription)
    {
        subscription.markSlow();
        detach(user, subscription);
        SliceCounters.increment(counters.slowConsumerCuts);
        subscription.listener().onClosed(subscription, CloseReason.SLOW_CONSUMER);
        onSubscriptionRemoved(user);
    }

    /**
     * The one way a subscription leaves its user: the user's list, the held-back count and the gauge stay in step.
     * The caller says why (a closing notice, a slow cut) and then calls {@link #onSubscriptionRemoved(UserStream)}.
     *
     * @return false when the subscription was not the user's (already gone).
     */
    private boolean detach(final UserStream user, final Subscription subscription)
    {
        if (!user.removeSubscription(subscription))
        {
            return false;
        }
        if (subscription.pending)
        {
            subscription.pending = false;
            user.pendingCount--;
        }
        SliceCounters.add(counters.subscriptions, -1);
        return true;
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
            if (subscription.pending)
            {
                continue;
            }
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
            user.pendingCount = 0;
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
            // A replica takes its epochs from the sequencer instead, and knows the stream once it sees one.
            final long epoch = replica ? 0 : ThreadLocalRandom.current().nextLong(1, MAX_JS_SAFE_EPOCH);
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
