package dev.agentwire.core;

import org.agrona.DirectBuffer;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's one entry point: agent runtimes publish through it, transports subscribe through it.
 * <p>
 * Every event, to a user, a room or everyone, travels one multi-producer ring (the spine) and is handled by the
 * slice that owns each recipient, so a user's events are numbered 1, 2, 3, … in one stream, in publish order,
 * and reach only that user's subscriptions. Recent events are kept per user so a reconnecting client can resume
 * from (epoch, seq) with no gap and no duplicate, or be told exactly what was lost.
 * <p>
 * Threading: every method is thread-safe. Publishing never throws for expected outcomes; it returns a position
 * ({@code >= 0}) or a negative {@link PublishStatus}. Exceptions are reserved for programmer errors (null
 * arguments) and bad configuration.
 *
 * <pre>{@code
 * try (AgentWire wire = AgentWire.start(AgentWireConfig.defaults()))
 * {
 *     Subscription s = wire.subscribe("alice", listener);
 *     EventDraft draft = new EventDraft();
 *     long status = wire.publish(draft.reset().toUser("alice").type(EventTypes.AGENT_STARTED).runId("r1")
 *         .payload("{\"agent\":\"helper\"}"));
 * }
 * }</pre>
 */
public final class AgentWire implements AutoCloseable
{
    /** Returned by {@link #dispatchInbound} when a handler took the message. */
    public static final int INBOUND_DELIVERED = 0;
    /** Returned by {@link #dispatchInbound} when no handler is registered for the type. */
    public static final int INBOUND_NO_HANDLER = -1;
    /** Returned by {@link #dispatchInbound} when the handler threw. */
    public static final int INBOUND_HANDLER_FAILED = -2;

    /** How long {@link #close()} waits for the slices to deliver what was accepted. */
    public static final long CLOSE_TIMEOUT_MS = 30_000;

    private static final System.Logger LOG = System.getLogger(AgentWire.class.getName());
    private static final long SWEEP_INTERVAL_MS = 1_000;

    private final AgentWireConfig config;
    private final boolean strictLifecycle;
    private final PublishStripe[] stripes;
    private final int stripeMask;
    private final SliceCounters[] counters;
    private final PayloadPool payloads;
    private final EventSpine spine;
    private final PresenceRelay presence = new PresenceRelay();
    private final ConcurrentHashMap<String, InboundHandler> inboundHandlers = new ConcurrentHashMap<>();
    private final AtomicLong subscriptionIds = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final ScheduledExecutorService ticker;
    private volatile boolean closed;
    private volatile boolean terminated;
    private long lastSweepMs;
    // Engine-wide counts of the state publishers keep, checked against their bounds (maxRuns, dedupMaxEntries).
    private final AtomicInteger runsHeld = new AtomicInteger();
    private final AtomicInteger dedupEntries = new AtomicInteger();
    private final LongAdder dedupEvicted = new LongAdder();

    private AgentWire(final AgentWireConfig config)
    {
        this.config = config;
        strictLifecycle = config.lifecycleMode() == AgentWireConfig.LifecycleMode.STRICT;
        stripes = new PublishStripe[config.publishStripes()];
        stripeMask = stripes.length - 1;
        for (int i = 0; i < stripes.length; i++)
        {
            stripes[i] = new PublishStripe(
                config.dedupWindowMs(), config.dedupMaxEntries(), dedupEntries, dedupEvicted, runsHeld);
        }
        payloads = new PayloadPool(config.maxPayloadBytes(), config.largePayloadMaxBytes());
        final SliceHandler[] slices = new SliceHandler[config.sliceCount()];
        counters = new SliceCounters[slices.length];
        final java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(slices.length);
        for (int i = 0; i < slices.length; i++)
        {
            counters[i] = new SliceCounters();
            slices[i] = new SliceHandler(i, config, presence, counters[i], started, payloads);
        }
        spine = new EventSpine(config, slices, counters, started);
        ticker = Executors.newSingleThreadScheduledExecutor(task ->
        {
            final Thread thread = new Thread(task, "agentwire-ticker");
            thread.setDaemon(true);
            return thread;
        });
        ticker.scheduleAtFixedRate(this::tick, config.tickIntervalMs(), config.tickIntervalMs(), TimeUnit.MILLISECONDS);
    }

    /**
     * Creates and starts an engine: the ring, its slice threads and the housekeeping ticker. Returns once every
     * slice thread runs, so a {@link #close()} that follows at once still delivers everything accepted.
     *
     * @param config validated configuration.
     * @return the running engine; {@link #close()} it.
     */
    public static AgentWire start(final AgentWireConfig config)
    {
        if (config == null)
        {
            throw new IllegalArgumentException("config=null");
        }
        return new AgentWire(config);
    }

    /** @return the configuration the engine runs with. */
    public AgentWireConfig config()
    {
        return config;
    }

    /**
     * Publishes an event, waiting for a ring slot if the ring is full.
     *
     * @param draft the event; read during the call only.
     * @return the position ({@code >= 0}) when accepted; else {@link PublishStatus#CLOSED},
     *     {@link PublishStatus#INVALID_ARGUMENT}, {@link PublishStatus#DUPLICATE} or a lifecycle violation.
     */
    public long publish(final EventDraft draft)
    {
        return publish(draft, true);
    }

    /**
     * Publishes an event if a ring slot is free now; never waits.
     *
     * @param draft the event; read during the call only.
     * @return as {@link #publish(EventDraft)}, or {@link PublishStatus#RING_FULL} when nothing was taken
     *     because the ring is full.
     */
    public long tryPublish(final EventDraft draft)
    {
        return publish(draft, false);
    }

    /**
     * Publishes an event that an external sequencer already numbered for each recipient (a cluster node feeding
     * its replica spine from the shared log). No lifecycle or duplicate check: the sequencer made them. Waits for
     * a ring slot.
     *
     * @param draft the event with at least one {@link EventDraft#recipient recipient}; read during the call only.
     * @return the position ({@code >= 0}), {@link PublishStatus#CLOSED} or {@link PublishStatus#INVALID_ARGUMENT}.
     * @throws IllegalStateException when the engine is not a replica ({@link AgentWireConfig#isReplica()}).
     */
    public long publishSequenced(final EventDraft draft)
    {
        if (!config.isReplica())
        {
            throw new IllegalStateException("publishSequenced needs a replica engine: historySource=null");
        }
        if (draft == null || draft.recipients.count == 0 || EventTypes.code(draft.type) == EventTypes.UNKNOWN ||
            draft.payloadLength < 0 || draft.payloadLength > config.maxPayloadBytes() || !idsFit(draft))
        {
            return PublishStatus.INVALID_ARGUMENT;
        }
        final Recipients recipients = draft.recipients;
        for (int i = 0; i < recipients.count; i++)
        {
            if (!isId(recipients.users[i]) || recipients.epochs[i] <= 0 || recipients.seqs[i] <= 0)
            {
                return PublishStatus.INVALID_ARGUMENT;
            }
        }
        // The stripe lock orders this against close(), as for publish(): nothing gets in after the last slot.
        final PublishStripe stripe = stripeFor(recipients.users[0]);
        stripe.lock.lock();
        try
        {
            if (closed)
            {
                return PublishStatus.CLOSED;
            }
            final byte[] large = borrowLarge(draft.payloadLength, true);
            return spine.publishEvent(draft, true, config.clock().time(), large);
        }
        finally
        {
            stripe.lock.unlock();
        }
    }

    /**
     * Hands a waiting subscription the part of its stream this engine did not hold, as asked by
     * {@link HistorySource#fetch}. The owning slice merges it in ring order. Any thread.
     *
     * @param subscription the subscription the fetch was for.
     * @param backfill     the stream as the store holds it.
     * @return the position, or {@link PublishStatus#CLOSED}.
     */
    public long backfill(final Subscription subscription, final Backfill backfill)
    {
        if (subscription == null || backfill == null || !subscription.userId().equals(backfill.userId()))
        {
            throw new IllegalArgumentException("subscription=" + subscription + " backfill=" + backfill +
                " must be for the same user");
        }
        final PublishStripe stripe = stripeFor(subscription.userId());
        stripe.lock.lock();
        try
        {
            return closed ? PublishStatus.CLOSED : spine.publishBackfill(subscription, backfill);
        }
        finally
        {
            stripe.lock.unlock();
        }
    }

    /**
     * Subscribes a connection to its user's stream, live from now. The first entry it receives is a welcome
     * with the stream's epoch and last seq.
     *
     * @param userId   the authenticated user.
     * @param listener told when to poll, and when the subscription is cut.
     * @return the subscription; poll it when told, close it when the connection ends.
     */
    public Subscription subscribe(final String userId, final SubscriberListener listener)
    {
        return subscribe(userId, listener, 0, Subscription.LIVE);
    }

    /**
     * Subscribes a connection and resumes from a cursor in one step: the welcome, then a resumed answer, then
     * every kept event after {@code afterSeq}, then live events, with nothing missed or repeated at the switch.
     * When events were lost (the epoch changed, or history no longer reaches back) the answer says
     * {@code recovered=false} and where history starts, and every kept event is replayed.
     *
     * @param userId   the authenticated user.
     * @param listener told when to poll, and when the subscription is cut.
     * @param epoch    the epoch the client last saw (0 when it never saw one).
     * @param afterSeq the last seq the client has (0 for none), or {@link Subscription#LIVE} for no resume.
     * @return the subscription.
     */
    public Subscription subscribe(
        final String userId, final SubscriberListener listener, final long epoch, final long afterSeq)
    {
        requireId("userId", userId);
        if (listener == null)
        {
            throw new IllegalArgumentException("listener=null");
        }
        if (afterSeq < Subscription.LIVE)
        {
            throw new IllegalArgumentException("afterSeq=" + afterSeq + " must be >= 0 or Subscription.LIVE");
        }
        final Subscription subscription = new Subscription(subscriptionIds.incrementAndGet(), userId, listener, this);
        final PublishStripe stripe = stripeFor(userId);
        boolean taken = false;
        stripe.lock.lock();
        try
        {
            if (!closed)
            {
                spine.publishSubscribe(subscription, epoch, afterSeq);
                taken = true;
            }
        }
        finally
        {
            stripe.lock.unlock();
        }
        if (!taken)
        {
            subscription.offerClosing(CloseReason.SHUTDOWN, Long.MIN_VALUE);
        }
        return subscription;
    }

    /**
     * Adds the user to a room. Membership belongs to the user, not a connection: every connection of the user
     * sees the room's events and a joined notice, and membership survives reconnects. Idempotent.
     *
     * @param userId the user.
     * @param room   the room.
     * @return the position when accepted, {@link PublishStatus#INVALID_ARGUMENT} or {@link PublishStatus#CLOSED}.
     */
    public long join(final String userId, final String room)
    {
        return membership(userId, room, true);
    }

    /**
     * Removes the user from a room. Idempotent.
     *
     * @param userId the user.
     * @param room   the room.
     * @return as {@link #join}.
     */
    public long leave(final String userId, final String room)
    {
        return membership(userId, room, false);
    }

    private long membership(final String userId, final String room, final boolean join)
    {
        if (!isId(userId) || !isId(room))
        {
            return PublishStatus.INVALID_ARGUMENT;
        }
        final PublishStripe stripe = stripeFor(userId);
        stripe.lock.lock();
        try
        {
            return closed ? PublishStatus.CLOSED : spine.publishMembership(userId, room, join);
        }
        finally
        {
            stripe.lock.unlock();
        }
    }

    /**
     * Registers the handler for one inbound message type, replacing any earlier one.
     *
     * @param type    for example {@code user_message}, {@code cancel}, or a custom type.
     * @param handler receives the messages, on the transport thread.
     */
    public void onInbound(final String type, final InboundHandler handler)
    {
        requireId("type", type);
        if (handler == null)
        {
            inboundHandlers.remove(type);
        }
        else
        {
            inboundHandlers.put(type, handler);
        }
    }

    /**
     * Routes a user's message to the handler registered for its type. Called by transports.
     *
     * @return {@link #INBOUND_DELIVERED}, {@link #INBOUND_NO_HANDLER} or {@link #INBOUND_HANDLER_FAILED}.
     */
    public int dispatchInbound(
        final String userId, final String type, final DirectBuffer payload, final int offset, final int length)
    {
        final InboundHandler handler = inboundHandlers.get(type);
        if (handler == null)
        {
            return INBOUND_NO_HANDLER;
        }
        try
        {
            handler.onMessage(userId, type, payload, offset, length);
            return INBOUND_DELIVERED;
        }
        catch (final RuntimeException ex)
        {
            LOG.log(System.Logger.Level.WARNING, "inbound handler failed: type=" + type, ex);
            return INBOUND_HANDLER_FAILED;
        }
    }

    /** @param type an inbound message type. @return true when a handler is registered for it. */
    public boolean hasInboundHandler(final String type)
    {
        return inboundHandlers.containsKey(type);
    }

    /**
     * Sets the listener told when a user's first connection opens and last one closes (null removes it).
     *
     * @param listener called on slice threads; must not block.
     */
    public void presenceListener(final PresenceListener listener)
    {
        presence.listener(listener);
    }

    /** @return a snapshot of the counters and gauges. */
    public AgentWireStats stats()
    {
        return new AgentWireStats(counters, spine.remainingCapacity(), spine.ringSize(), payloads.lentBytes(),
            runsHeld.get(), dedupEntries.get(), dedupEvicted.sum());
    }

    /** @return true while publishes are accepted. */
    public boolean isRunning()
    {
        return !closed;
    }

    /**
     * Graceful close: refuses new publishes with {@link PublishStatus#CLOSED}, delivers everything accepted before
     * into subscription queues, ends each subscription with {@link CloseReason#SHUTDOWN} after its last event,
     * then stops the threads. Idempotent; waits at most {@link #CLOSE_TIMEOUT_MS}.
     */
    @Override
    public void close()
    {
        if (!closing.compareAndSet(false, true))
        {
            return;
        }
        ticker.shutdownNow();
        for (final PublishStripe stripe : stripes)
        {
            stripe.lock.lock();
        }
        try
        {
            closed = true;
        }
        finally
        {
            for (final PublishStripe stripe : stripes)
            {
                stripe.lock.unlock();
            }
        }
        // Every publish that got in before 'closed' is already on the ring; this is the last slot.
        spine.publishShutdown();
        spine.shutdown(CLOSE_TIMEOUT_MS);
        try
        {
            ticker.awaitTermination(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        terminated = true;
    }

    /** @return true once {@link #close()} has finished. */
    public boolean isTerminated()
    {
        return terminated;
    }

    void unsubscribe(final Subscription subscription)
    {
        final PublishStripe stripe = stripeFor(subscription.userId());
        stripe.lock.lock();
        try
        {
            if (!closed)
            {
                spine.publishUnsubscribe(subscription);
            }
        }
        finally
        {
            stripe.lock.unlock();
        }
    }

    private long publish(final EventDraft draft, final boolean block)
    {
        if (config.isReplica())
        {
            throw new IllegalStateException("a replica engine takes numbered events only: use publishSequenced");
        }
        final int typeCode = validate(draft);
        if (typeCode == EventTypes.UNKNOWN)
        {
            return PublishStatus.INVALID_ARGUMENT;
        }
        final long nowMs = config.clock().time();
        final boolean checkRun = strictLifecycle && typeCode > EventTypes.CUSTOM;
        // A run, and an event id, belong to the owner the events go to (user, room, broadcast) and the run id:
        // one producer's run-1 is never another's.
        final byte kind = draft.targetKind;
        final String owner = draft.target;
        final PublishStripe stripe = stripeFor(owner, draft.runId);
        stripe.lock.lock();
        try
        {
            if (closed)
            {
                return PublishStatus.CLOSED;
            }
            final String eventId = draft.eventId;
            final boolean dedup = eventId != null && stripe.dedup.isEnabled();
            if (dedup && stripe.dedup.contains(kind, owner, draft.runId, eventId, nowMs))
            {
                return PublishStatus.DUPLICATE;
            }
            RunState run = null;
            if (checkRun)
            {
                run = stripe.runs.get(kind, owner, draft.runId);
                final long violation = RunLifecycle.check(
                    run, typeCode, draft.toolCallId, draft.outcome, config.maxToolCallsPerRun());
                if (violation != 0)
                {
                    return violation;
                }
                if (run == null && runsHeld.get() >= config.maxRuns())
                {
                    return PublishStatus.TOO_MANY_RUNS;
                }
            }
            final byte[] large = borrowLarge(draft.payloadLength, block);
            if (large == NO_ROOM)
            {
                return PublishStatus.RING_FULL;
            }
            final long position = spine.publishEvent(draft, block, nowMs, large);
            if (position < 0)
            {
                if (large != null)
                {
                    payloads.giveBack(large);
                }
                return position;
            }
            if (dedup)
            {
                stripe.dedup.add(kind, owner, draft.runId, eventId, nowMs);
            }
            if (checkRun)
            {
                final RunState after = RunLifecycle.apply(run, typeCode, draft.toolCallId, nowMs);
                if (run == null)
                {
                    stripe.runs.put(kind, owner, draft.runId, after);
                }
            }
            return position;
        }
        finally
        {
            stripe.lock.unlock();
        }
    }

    /**
     * Checks a draft against the rules {@link #publish} applies before any state (addressing, type, required ids,
     * outcome, payload size), without publishing it: for a transport that numbers events elsewhere (a cluster's
     * sequencer) and must refuse the same drafts this engine would.
     *
     * @param draft the event.
     * @return 0 when valid, else {@link PublishStatus#INVALID_ARGUMENT}.
     */
    public long check(final EventDraft draft)
    {
        return validate(draft) == EventTypes.UNKNOWN ? PublishStatus.INVALID_ARGUMENT : 0;
    }

    /** @return the type code, or {@link EventTypes#UNKNOWN} when the draft is not a valid event. */
    private int validate(final EventDraft draft)
    {
        if (draft == null)
        {
            return EventTypes.UNKNOWN;
        }
        switch (draft.targetKind)
        {
            case EventDraft.TARGET_USER:
            case EventDraft.TARGET_ROOM:
                if (!isId(draft.target))
                {
                    return EventTypes.UNKNOWN;
                }
                break;
            case EventDraft.TARGET_BROADCAST:
                break;
            default:
                return EventTypes.UNKNOWN;
        }
        if (draft.payloadLength < 0 || draft.payloadLength > config.maxPayloadBytes() ||
            (draft.payloadLength > 0 && draft.payload == null) || !idsFit(draft))
        {
            return EventTypes.UNKNOWN;
        }
        final int typeCode = EventTypes.code(draft.type);
        if (typeCode > EventTypes.CUSTOM)
        {
            if (isBlank(draft.runId))
            {
                return EventTypes.UNKNOWN;
            }
            if ((typeCode == EventTypes.EXECUTING || typeCode == EventTypes.COMPLETED_TOOL) &&
                isBlank(draft.toolCallId))
            {
                return EventTypes.UNKNOWN;
            }
            if (typeCode == EventTypes.COMPLETED_AGENT && Outcome.name(draft.outcome) == null)
            {
                return EventTypes.UNKNOWN;
            }
        }
        return typeCode;
    }

    /** A marker for "no room for a large payload now" (tryPublish answers RING_FULL). */
    private static final byte[] NO_ROOM = new byte[0];

    /**
     * @return null for a payload that fits a slot's inline bytes, a pool buffer for a larger one, or
     *     {@link #NO_ROOM} when {@code block} is false and the bound on large payloads in the ring is reached.
     */
    private byte[] borrowLarge(final int length, final boolean block)
    {
        if (length <= EventSlot.INLINE_PAYLOAD_BYTES)
        {
            return null;
        }
        byte[] buffer;
        int idle = 0;
        while ((buffer = payloads.borrow(length)) == null)
        {
            if (!block)
            {
                return NO_ROOM;
            }
            // The slices give buffers back as they read slots: wait as publish waits for a ring slot.
            if (++idle < 100)
            {
                Thread.onSpinWait();
            }
            else
            {
                java.util.concurrent.locks.LockSupport.parkNanos(50_000);
            }
        }
        return buffer;
    }

    private static boolean idsFit(final EventDraft draft)
    {
        return fits(draft.type) && fits(draft.runId) && fits(draft.threadId) && fits(draft.eventId) &&
            fits(draft.toolCallId) && fits(draft.target);
    }

    private static boolean fits(final String value)
    {
        return value == null || value.length() <= EventDraft.MAX_ID_LENGTH;
    }

    private static boolean isId(final String value)
    {
        return value != null && !value.isEmpty() && value.length() <= EventDraft.MAX_ID_LENGTH;
    }

    private PublishStripe stripeFor(final String owner, final String runId)
    {
        final int h = (owner == null ? 0 : owner.hashCode()) * 31 + (runId == null ? 0 : runId.hashCode());
        return stripes[(h ^ (h >>> 16)) & stripeMask];
    }

    private PublishStripe stripeFor(final String key)
    {
        final int h = key == null ? 0 : key.hashCode();
        return stripes[(h ^ (h >>> 16)) & stripeMask];
    }

    private void tick()
    {
        try
        {
            final long nowMs = config.clock().time();
            if (nowMs - lastSweepMs >= SWEEP_INTERVAL_MS)
            {
                lastSweepMs = nowMs;
                for (final PublishStripe stripe : stripes)
                {
                    stripe.sweep(nowMs, config.runRetentionMs());
                }
            }
            if (!closed)
            {
                spine.tryPublishTick();
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.log(System.Logger.Level.ERROR, "housekeeping tick failed", ex);
        }
    }

    private static boolean isBlank(final String value)
    {
        return value == null || value.isEmpty();
    }

    private static void requireId(final String name, final String value)
    {
        if (isBlank(value))
        {
            throw new IllegalArgumentException(name + "=" + value + " must be non-empty");
        }
    }
}
