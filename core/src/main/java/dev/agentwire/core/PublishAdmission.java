package dev.agentwire.core;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Publish admission, the engine's one way in: what {@link AgentWire#publish} checks and keeps before an event
 * takes a ring slot — the draft's shape, the run lifecycle, duplicates within the dedup window, large payloads
 * borrowed from the pool — and the stripe locks that order every publish, subscribe and membership change of one
 * owner against each other and against close. State is striped by owner and run ({@link PublishStripe}), so
 * publishers of different users rarely meet on a lock.
 * <p>
 * Threading: any thread; each stripe's state is touched under its lock only.
 */
final class PublishAdmission
{
    /** A marker for "no room for a large payload now" (tryPublish answers RING_FULL). */
    private static final byte[] NO_ROOM = new byte[0];

    private final AgentWireConfig config;
    private final boolean strictLifecycle;
    private final PublishStripe[] stripes;
    private final int stripeMask;
    private final PayloadPool payloads;
    private final EventSpine spine;
    // Engine-wide counts of the state publishers keep, checked against their bounds (maxRuns, dedupMaxEntries).
    private final AtomicInteger runsHeld = new AtomicInteger();
    private final AtomicInteger dedupEntries = new AtomicInteger();
    private final LongAdder dedupEvicted = new LongAdder();
    private volatile boolean closed;

    PublishAdmission(final AgentWireConfig config, final PayloadPool payloads, final EventSpine spine)
    {
        this.config = config;
        this.payloads = payloads;
        this.spine = spine;
        strictLifecycle = config.lifecycleMode() == AgentWireConfig.LifecycleMode.STRICT;
        stripes = new PublishStripe[config.publishStripes()];
        stripeMask = stripes.length - 1;
        for (int i = 0; i < stripes.length; i++)
        {
            stripes[i] = new PublishStripe(
                config.dedupWindowMs(), config.dedupMaxEntries(), dedupEntries, dedupEvicted, runsHeld);
        }
    }

    /**
     * Admits one event: validation, the run lifecycle and duplicate check under its owner's stripe lock, a ring
     * slot, then the state the event changes. The checks and the claim of the slot are one step under the lock, so
     * the state and the ring agree on the order of an owner's events; when the ring is full and {@code block} is
     * set, the publisher waits with the lock released and then takes the whole step again, so publishers of other
     * owners that share the stripe never wait behind it.
     *
     * @return the position, or a {@link PublishStatus} refusal.
     */
    long publish(final EventDraft draft, final boolean block)
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
        final boolean checkRun = strictLifecycle && typeCode > EventTypes.CUSTOM;
        // A run, and an event id, belong to the owner the events go to (user, room, broadcast) and the run id:
        // one producer's run-1 is never another's.
        final byte kind = draft.targetKind;
        final String owner = draft.target;
        final PublishStripe stripe = stripeFor(owner, draft.runId);
        // NO_ROOM until a large payload's buffer is borrowed (null: the payload needs none); kept across waits.
        byte[] large = NO_ROOM;
        try
        {
            while (true)
            {
                final long nowMs = config.clock().time();
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
                    if (large == NO_ROOM)
                    {
                        large = borrowLarge(draft.payloadLength);
                    }
                    final long position = large == NO_ROOM ? PublishStatus.RING_FULL :
                        spine.publishEvent(draft, nowMs, large);
                    if (position >= 0)
                    {
                        large = null; // the slot has it now
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
                    if (position != PublishStatus.RING_FULL || !block)
                    {
                        return position;
                    }
                }
                finally
                {
                    stripe.lock.unlock();
                }
                awaitRoom();
            }
        }
        finally
        {
            giveBackUnused(large);
        }
    }

    /**
     * Admits an event an external sequencer already numbered (see {@link AgentWire#publishSequenced}).
     *
     * @return the position, {@link PublishStatus#CLOSED} or {@link PublishStatus#INVALID_ARGUMENT}.
     */
    long publishSequenced(final EventDraft draft)
    {
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
        // The stripe lock orders this against close(), as for publish(): nothing gets in after the last slot. As
        // there, it is not held while waiting for room.
        final PublishStripe stripe = stripeFor(recipients.users[0]);
        // NO_ROOM until a large payload's buffer is borrowed (null: the payload needs none); kept across waits.
        byte[] large = NO_ROOM;
        try
        {
            while (true)
            {
                stripe.lock.lock();
                try
                {
                    if (closed)
                    {
                        return PublishStatus.CLOSED;
                    }
                    if (large == NO_ROOM)
                    {
                        large = borrowLarge(draft.payloadLength);
                    }
                    final long position = large == NO_ROOM ? PublishStatus.RING_FULL :
                        spine.publishEvent(draft, config.clock().time(), large);
                    if (position >= 0)
                    {
                        large = null; // the slot has it now
                    }
                    if (position != PublishStatus.RING_FULL)
                    {
                        return position;
                    }
                }
                finally
                {
                    stripe.lock.unlock();
                }
                awaitRoom();
            }
        }
        finally
        {
            giveBackUnused(large);
        }
    }

    /** Returns a borrowed large-payload buffer that no slot took (the event was refused or never got a slot). */
    private void giveBackUnused(final byte[] large)
    {
        if (large != null && large != NO_ROOM)
        {
            payloads.giveBack(large);
        }
    }

    /**
     * Waits, holding no lock, for the slices to free a ring slot or a large payload buffer, as the Disruptor's own
     * blocking claim waits (the shortest park the OS gives).
     */
    private static void awaitRoom()
    {
        LockSupport.parkNanos(1);
    }

    /**
     * Runs what changes a user's stream other than an event (a subscribe, a membership change, a backfill), in
     * order with the user's publishes and never after close. The action claims its ring slot without waiting; when
     * the ring is full it is run again after a wait with the lock released, as {@link #publish} waits.
     *
     * @param userId the user whose stripe orders it.
     * @param action claims and fills a slot: its position, or {@link PublishStatus#RING_FULL} having taken nothing.
     * @return the position, or {@link PublishStatus#CLOSED} once closed (not run).
     */
    long ordered(final String userId, final LongSupplier action)
    {
        final PublishStripe stripe = stripeFor(userId);
        while (true)
        {
            stripe.lock.lock();
            try
            {
                if (closed)
                {
                    return PublishStatus.CLOSED;
                }
                final long position = action.getAsLong();
                if (position != PublishStatus.RING_FULL)
                {
                    return position;
                }
            }
            finally
            {
                stripe.lock.unlock();
            }
            awaitRoom();
        }
    }

    /** Closes admission: once every stripe's lock was held, nothing more gets in. Idempotent. */
    void close()
    {
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
    }

    boolean isClosed()
    {
        return closed;
    }

    /** Forgets finished runs past their retention and expired dedup entries. Housekeeping thread. */
    void sweep(final long nowMs)
    {
        for (final PublishStripe stripe : stripes)
        {
            stripe.sweep(nowMs, config.runRetentionMs());
        }
    }

    int runsHeld()
    {
        return runsHeld.get();
    }

    int dedupEntries()
    {
        return dedupEntries.get();
    }

    long dedupEvicted()
    {
        return dedupEvicted.sum();
    }

    /**
     * Checks a draft against the rules {@link #publish} applies before any state (addressing, type, required ids,
     * outcome, payload size), without publishing it: for a transport that numbers events elsewhere (a cluster's
     * sequencer) and must refuse the same drafts this engine would.
     *
     * @param draft the event.
     * @return 0 when valid, else {@link PublishStatus#INVALID_ARGUMENT}.
     */
    long check(final EventDraft draft)
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

    /**
     * @return null for a payload that fits a slot's inline bytes, a pool buffer for a larger one, or
     *     {@link #NO_ROOM} when the bound on large payloads in the ring is reached now (never waits).
     */
    private byte[] borrowLarge(final int length)
    {
        if (length <= EventSlot.INLINE_PAYLOAD_BYTES)
        {
            return null;
        }
        final byte[] buffer = payloads.borrow(length);
        return buffer == null ? NO_ROOM : buffer;
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

    static boolean isId(final String value)
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

    static boolean isBlank(final String value)
    {
        return value == null || value.isEmpty();
    }
}
