package dev.agentwire.core;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

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
    /** How long {@link #close()} waits for the slices to deliver what was accepted. */
    public static final long CLOSE_TIMEOUT_MS = 30_000;

    private static final System.Logger LOG = System.getLogger(AgentWire.class.getName());
    private static final long SWEEP_INTERVAL_MS = 1_000;

    private final AgentWireConfig config;
    private final SliceCounters[] counters;
    private final PayloadPool payloads;
    private final EventSpine spine;
    private final PresenceRelay presence = new PresenceRelay();
    private final AtomicLong subscriptionIds = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final ScheduledExecutorService ticker;
    private final PublishAdmission admission;
    /** What subscriptions ask of the engine; not the facade itself, so that asking does not widen its API. */
    private final SubscriptionOwner owner = new SubscriptionOwner()
    {
        @Override
        public long backfill(final Subscription subscription, final Backfill backfill)
        {
            return AgentWire.this.backfill(subscription, backfill);
        }

        @Override
        public void unsubscribe(final Subscription subscription)
        {
            AgentWire.this.unsubscribe(subscription);
        }
    };
    private volatile boolean terminated;
    private long lastSweepMs;

    private AgentWire(final AgentWireConfig config)
    {
        this.config = config;
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
        admission = new PublishAdmission(config, payloads, spine);
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
     * Publishes an event, waiting for a ring slot if the ring is full. While it waits it holds no lock: other
     * publishers, subscribes and {@link #close()} go on, and a close answers it {@link PublishStatus#CLOSED}.
     *
     * @param draft the event; read during the call only.
     * @return the position ({@code >= 0}) when accepted; else {@link PublishStatus#CLOSED},
     *     {@link PublishStatus#INVALID_ARGUMENT}, {@link PublishStatus#DUPLICATE} or a lifecycle violation.
     */
    public long publish(final EventDraft draft)
    {
        return publish(draft, true);
    }

    private long publish(final EventDraft draft, final boolean block)
    {
        return admission.publish(draft, block);
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
        return admission.check(draft);
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
        return admission.publishSequenced(draft);
    }

    /**
     * Tells a replica engine where the store's stream of a user stands (a cluster node, after its feed from the
     * store was interrupted and events may have been lost on the way). A stream this engine holds in another
     * epoch, or behind {@code lastSeq}, restarts there: its live clients are told to resume (close 1012) and get
     * what they missed from the store. A stream held at or past the head, or not held, is left alone. In ring
     * order with the events published before it. Any thread.
     *
     * @param userId  the user.
     * @param epoch   the stream's epoch in the store.
     * @param lastSeq the stream's last seq in the store.
     * @return the position, {@link PublishStatus#INVALID_ARGUMENT} or {@link PublishStatus#CLOSED}.
     * @throws IllegalStateException when the engine is not a replica ({@link AgentWireConfig#isReplica()}).
     */
    public long confirmHead(final String userId, final long epoch, final long lastSeq)
    {
        if (!config.isReplica())
        {
            throw new IllegalStateException("confirmHead needs a replica engine: historySource=null");
        }
        if (!PublishAdmission.isId(userId) || epoch <= 0 || lastSeq < 0)
        {
            return PublishStatus.INVALID_ARGUMENT;
        }
        return admission.ordered(userId, () -> spine.publishHead(userId, epoch, lastSeq));
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
        return admission.ordered(subscription.userId(), () -> spine.publishBackfill(subscription, backfill));
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
        final Subscription subscription = new Subscription(subscriptionIds.incrementAndGet(), userId, listener, owner);
        final long taken = admission.ordered(userId, () -> spine.publishSubscribe(subscription, epoch, afterSeq));
        if (taken == PublishStatus.CLOSED)
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
        if (!PublishAdmission.isId(userId) || !PublishAdmission.isId(room))
        {
            return PublishStatus.INVALID_ARGUMENT;
        }
        return admission.ordered(userId, () -> spine.publishMembership(userId, room, join));
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
            admission.runsHeld(), admission.dedupEntries(), admission.dedupEvicted());
    }

    /** @return true while publishes are accepted. */
    public boolean isRunning()
    {
        return !admission.isClosed();
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
        admission.close();
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

    private void unsubscribe(final Subscription subscription)
    {
        admission.ordered(subscription.userId(), () -> spine.publishUnsubscribe(subscription));
    }

    private void tick()
    {
        try
        {
            final long nowMs = config.clock().time();
            if (nowMs - lastSweepMs >= SWEEP_INTERVAL_MS)
            {
                lastSweepMs = nowMs;
                admission.sweep(nowMs);
            }
            if (!admission.isClosed())
            {
                spine.tryPublishTick();
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.log(System.Logger.Level.ERROR, "housekeeping tick failed", ex);
        }
    }

    private static void requireId(final String name, final String value)
    {
        if (PublishAdmission.isBlank(value))
        {
            throw new IllegalArgumentException(name + "=" + value + " must be non-empty");
        }
    }
}
