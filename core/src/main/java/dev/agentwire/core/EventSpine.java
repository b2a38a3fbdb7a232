package dev.agentwire.core;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.TimeoutException;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The single spine: the only owner of the Disruptor and its ring. Every event and every command is claimed,
 * filled in place and published here; slices consume it. Thread-safe for any number of publishers.
 */
final class EventSpine
{
    private static final System.Logger LOG = System.getLogger(EventSpine.class.getName());
    /** Longest the engine's start waits for its slice threads to run. */
    static final long START_TIMEOUT_MS = 30_000;

    private final Disruptor<EventSlot> disruptor;
    private final RingBuffer<EventSlot> ring;
    private final int sliceCount;

    /**
     * Starts the ring and returns once every slice runs. Disruptor 4's shutdown waits only for consumers whose
     * thread has started; one that starts later finds itself halted and exits without handling a slot. Returning
     * before every slice ran would let a close that follows at once lose everything accepted.
     *
     * @param started counted down by each slice's {@link SliceHandler#onStart()}.
     * @throws IllegalStateException when the slices did not start within {@link #START_TIMEOUT_MS}.
     */
    EventSpine(
        final AgentWireConfig config,
        final SliceHandler[] slices,
        final SliceCounters[] counters,
        final CountDownLatch started)
    {
        sliceCount = slices.length;
        disruptor = new Disruptor<>(
            EventSlot::new, config.ringSize(), config.threadFactory() != null ? config.threadFactory() : new SliceThreadFactory(), ProducerType.MULTI,
            waitStrategy(config.waitStrategy()));
        disruptor.handleEventsWith(slices);
        for (int i = 0; i < slices.length; i++)
        {
            disruptor.handleExceptionsFor(slices[i]).with(new SliceExceptionHandler(i, counters[i]));
        }
        ring = disruptor.start();
        boolean running = false;
        try
        {
            running = started.await(START_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (!running)
        {
            disruptor.halt();
            throw new IllegalStateException("slices did not start: sliceCount=" + slices.length +
                " notStarted=" + started.getCount() + " timeoutMs=" + START_TIMEOUT_MS);
        }
    }

    /** The slice that owns a user: stable for the engine's life, spreading users evenly. */
    int sliceFor(final String userId)
    {
        return sliceOf(userId, sliceCount);
    }

    static int sliceOf(final String userId, final int sliceCount)
    {
        final int h = userId.hashCode();
        return ((h ^ (h >>> 16)) & Integer.MAX_VALUE) % sliceCount;
    }

    /**
     * Copies the draft into a slot and publishes it, if a slot is free now. The caller holds the owner's stripe
     * lock, so this never waits: the admission waits with the lock released and asks again.
     *
     * @param large a buffer borrowed from the {@link PayloadPool} for a payload over the slot's inline bytes, else
     *              null; the slot gives it back once read.
     * @return the ring position, or {@link PublishStatus#RING_FULL} when no slot is free (nothing taken).
     */
    long publishEvent(final EventDraft draft, final long nowMs, final byte[] large)
    {
        final long position;
        try
        {
            position = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            return PublishStatus.RING_FULL;
        }
        try
        {
            final EventSlot slot = ring.get(position);
            slot.kind = EventSlot.KIND_EVENT;
            slot.targetKind = draft.targetKind;
            slot.recipientsFrom(draft.recipients);
            final int recipients = draft.recipients.count;
            if (recipients == 1)
            {
                slot.slice = sliceFor(draft.recipients.users[0]);
            }
            else if (recipients > 1)
            {
                slot.slice = EventSlot.ALL_SLICES;
            }
            else
            {
                slot.slice = draft.targetKind == EventDraft.TARGET_USER ? sliceFor(draft.target) : EventSlot.ALL_SLICES;
            }
            slot.backfill = null;
            slot.resumeAfter = Subscription.LIVE;
            slot.target = draft.target;
            slot.room = null;
            slot.type = draft.type;
            slot.runId = draft.runId;
            slot.threadId = draft.threadId;
            slot.eventId = draft.eventId;
            slot.binary = draft.binary;
            slot.timestampMs = draft.timestampMs != 0 ? draft.timestampMs : nowMs;
            slot.publishNs = System.nanoTime();
            slot.position = position;
            slot.subscription = null;
            slot.receipt = draft.receipt;
            slot.putPayload(draft.payload, draft.payloadOffset, draft.payloadLength, large,
                slot.slice == EventSlot.ALL_SLICES ? sliceCount : 1);
        }
        finally
        {
            ring.publish(position);
        }
        return position;
    }

    /**
     * Subscribes a connection, resuming from a cursor, in ring order with its user's events.
     *
     * @return the position, or {@link PublishStatus#RING_FULL} when no slot is free now.
     */
    long publishSubscribe(final Subscription subscription, final long epoch, final long after)
    {
        final long position = tryClaimCommand(EventSlot.KIND_SUBSCRIBE, sliceFor(subscription.userId()));
        if (position < 0)
        {
            return position;
        }
        try
        {
            final EventSlot slot = ring.get(position);
            slot.target = subscription.userId();
            slot.subscription = subscription;
            slot.resumeEpoch = epoch;
            slot.resumeAfter = after;
        }
        finally
        {
            ring.publish(position);
        }
        return position;
    }

    /**
     * Removes a subscription from its user, in ring order.
     *
     * @return the position, or {@link PublishStatus#RING_FULL} when no slot is free now.
     */
    long publishUnsubscribe(final Subscription subscription)
    {
        final long position = tryClaimCommand(EventSlot.KIND_UNSUBSCRIBE, sliceFor(subscription.userId()));
        if (position < 0)
        {
            return position;
        }
        try
        {
            ring.get(position).subscription = subscription;
        }
        finally
        {
            ring.publish(position);
        }
        return position;
    }

    /**
     * Adds a user to a room, or removes it.
     *
     * @return the position, or {@link PublishStatus#RING_FULL} when no slot is free now.
     */
    long publishMembership(final String userId, final String room, final boolean join)
    {
        final long position = tryClaimCommand(join ? EventSlot.KIND_JOIN : EventSlot.KIND_LEAVE, sliceFor(userId));
        if (position < 0)
        {
            return position;
        }
        try
        {
            final EventSlot slot = ring.get(position);
            slot.target = userId;
            slot.room = room;
        }
        finally
        {
            ring.publish(position);
        }
        return position;
    }

    /**
     * Hands a held-back subscription the store's answer, merged by its slice in ring order.
     *
     * @return the position, or {@link PublishStatus#RING_FULL} when no slot is free now.
     */
    long publishBackfill(final Subscription subscription, final Backfill backfill)
    {
        final long position = tryClaimCommand(EventSlot.KIND_BACKFILL, sliceFor(subscription.userId()));
        if (position < 0)
        {
            return position;
        }
        try
        {
            final EventSlot slot = ring.get(position);
            slot.subscription = subscription;
            slot.backfill = backfill;
        }
        finally
        {
            ring.publish(position);
        }
        return position;
    }

    /**
     * Tells a replica slice where the store's stream of a user stands, in ring order.
     *
     * @return the position, or {@link PublishStatus#RING_FULL} when no slot is free now.
     */
    long publishHead(final String userId, final long epoch, final long lastSeq)
    {
        final long position = tryClaimCommand(EventSlot.KIND_HEAD, sliceFor(userId));
        if (position < 0)
        {
            return position;
        }
        try
        {
            final EventSlot slot = ring.get(position);
            slot.target = userId;
            slot.resumeEpoch = epoch;
            slot.resumeAfter = lastSeq;
        }
        finally
        {
            ring.publish(position);
        }
        return position;
    }

    /** The last slot of all: every slice ends its subscriptions after their users' last events. */
    long publishShutdown()
    {
        final long position = claimCommand(EventSlot.KIND_SHUTDOWN, EventSlot.ALL_SLICES);
        ring.publish(position);
        return position;
    }

    /** The shutdown waits for a slot: it is never dropped, and no lock is held while it waits. */
    private long claimCommand(final int kind, final int slice)
    {
        final long position = ring.next();
        ring.get(position).clearForCommand(kind, slice);
        return position;
    }

    /**
     * Claims a slot for a command if one is free now. The other commands are claimed under their user's stripe
     * lock, so they never wait here: the admission waits with the lock released and asks again (see
     * {@link PublishAdmission#ordered}); a command is never dropped.
     *
     * @return the position, or {@link PublishStatus#RING_FULL}.
     */
    private long tryClaimCommand(final int kind, final int slice)
    {
        final long position;
        try
        {
            position = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            return PublishStatus.RING_FULL;
        }
        ring.get(position).clearForCommand(kind, slice);
        return position;
    }

    /** Housekeeping is best effort: skipped rather than waited for when the ring is full. */
    boolean tryPublishTick()
    {
        final long position;
        try
        {
            position = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            return false;
        }
        try
        {
            ring.get(position).clearForCommand(EventSlot.KIND_TICK, EventSlot.ALL_SLICES);
        }
        finally
        {
            ring.publish(position);
        }
        return true;
    }

    long remainingCapacity()
    {
        return ring.remainingCapacity();
    }

    int ringSize()
    {
        return ring.getBufferSize();
    }

    /**
     * Waits until every published slot has been handled, then stops the slices.
     *
     * @return false when the timeout passed first and the slices were halted with work left.
     */
    boolean shutdown(final long timeoutMs)
    {
        try
        {
            disruptor.shutdown(timeoutMs, TimeUnit.MILLISECONDS);
            return true;
        }
        catch (final TimeoutException ex)
        {
            LOG.log(System.Logger.Level.WARNING, "spine shutdown timed out: timeoutMs=" + timeoutMs + ", halting");
            disruptor.halt();
            return false;
        }
    }

    private static WaitStrategy waitStrategy(final AgentWireConfig.WaitStrategy kind)
    {
        switch (kind)
        {
            case BLOCKING:
                return new BlockingWaitStrategy();
            case SLEEPING:
                return new SleepingWaitStrategy();
            case YIELDING:
                return new YieldingWaitStrategy();
            case BUSY_SPIN:
                return new BusySpinWaitStrategy();
            default:
                throw new IllegalArgumentException("waitStrategy=" + kind);
        }
    }

    private static final class SliceThreadFactory implements ThreadFactory
    {
        private final AtomicInteger next = new AtomicInteger();

        @Override
        public Thread newThread(final Runnable task)
        {
            final Thread thread = new Thread(task, "agentwire-slice-" + next.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        }
    }

    /**
     * A bug in handling one slot must not stop a slice, or every user it owns would stop receiving: log it,
     * count it, and go on with the next slot.
     */
    private static final class SliceExceptionHandler implements ExceptionHandler<EventSlot>
    {
        private final int slice;
        private final SliceCounters counters;

        SliceExceptionHandler(final int slice, final SliceCounters counters)
        {
            this.slice = slice;
            this.counters = counters;
        }

        @Override
        public void handleEventException(final Throwable ex, final long sequence, final EventSlot slot)
        {
            SliceCounters.increment(counters.handlerErrors);
            LOG.log(System.Logger.Level.ERROR,
                "slice failed on slot: slice=" + slice + ", sequence=" + sequence + ", kind=" + slot.kind, ex);
        }

        @Override
        public void handleOnStartException(final Throwable ex)
        {
            LOG.log(System.Logger.Level.ERROR, "slice failed to start: slice=" + slice, ex);
        }

        @Override
        public void handleOnShutdownException(final Throwable ex)
        {
            LOG.log(System.Logger.Level.ERROR, "slice failed to stop: slice=" + slice, ex);
        }
    }
}
