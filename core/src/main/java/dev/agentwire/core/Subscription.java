package dev.agentwire.core;

import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One connection's view of a user's stream: a bounded queue the spine fills and the transport drains.
 * <p>
 * Threading: the owning slice thread is the only writer; one transport thread at a time calls
 * {@link #poll(SubscriptionHandler, int)}. {@link #close()} may be called from any thread.
 * <p>
 * The queue is bounded by count and by bytes (see {@link AgentWireConfig}). The spine never waits for it: when a
 * bound is hit the subscription is cut with {@link CloseReason#SLOW_CONSUMER} and the
 * {@link SubscriberListener} is told. Everything it missed stays in the user's history for a resume.
 */
public final class Subscription
{
    /** Cursor value for "no resume: start live from now". */
    public static final long LIVE = -1;

    private final long id;
    private final String userId;
    private final SubscriberListener listener;
    private final AgentWire owner;
    // A linked queue, bounded by the counters below rather than by a preallocated array: an idle connection costs
    // a few dozen bytes instead of a slot array sized for its bound, which matters at a million connections.
    private final ManyToOneConcurrentLinkedQueue<Object> queue = new ManyToOneConcurrentLinkedQueue<>();
    private final int maxEvents;
    private final long maxBytes;
    private static final VarHandle OFFERED;
    private static final VarHandle OFFERED_BYTES;
    private static final VarHandle POLLED;
    private static final VarHandle POLLED_BYTES;
    private static final VarHandle SIGNALLED;
    private static final VarHandle UNSUBSCRIBE_REQUESTED;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            OFFERED = lookup.findVarHandle(Subscription.class, "offered", long.class);
            OFFERED_BYTES = lookup.findVarHandle(Subscription.class, "offeredBytes", long.class);
            POLLED = lookup.findVarHandle(Subscription.class, "polled", long.class);
            POLLED_BYTES = lookup.findVarHandle(Subscription.class, "polledBytes", long.class);
            SIGNALLED = lookup.findVarHandle(Subscription.class, "signalled", int.class);
            UNSUBSCRIBE_REQUESTED = lookup.findVarHandle(Subscription.class, "unsubscribeRequested", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    // Each side counts only what it did (single writer, release store), so bounding the queue by count and bytes
    // needs no read-modify-write. The counters live in this object, not in separate atomics, because with many
    // users every extra object is another cache miss per delivery.
    @SuppressWarnings("unused")
    private long offered;
    @SuppressWarnings("unused")
    private long offeredBytes;
    @SuppressWarnings("unused")
    private long polled;
    @SuppressWarnings("unused")
    private long polledBytes;
    @SuppressWarnings("unused")
    private int signalled;
    @SuppressWarnings("unused")
    private int unsubscribeRequested;
    private volatile int closeReason = CloseReason.NONE;

    // Replica resume state, touched only by the owning slice thread.
    boolean pending;
    long pendingEpoch;
    long pendingAfter;
    Backfill waitingFor;

    Subscription(
        final long id,
        final String userId,
        final SubscriberListener listener,
        final AgentWire owner,
        final int maxEvents,
        final long maxBytes)
    {
        this.id = id;
        this.userId = userId;
        this.listener = listener;
        this.owner = owner;
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
    }

    /** @return a number unique to this subscription within the engine. */
    public long id()
    {
        return id;
    }

    /** @return the subscriber's user. */
    public String userId()
    {
        return userId;
    }

    /** @return true once the subscription has ended (see {@link #closeReason()}). */
    public boolean isClosed()
    {
        return closeReason != CloseReason.NONE;
    }

    /** @return one of {@link CloseReason}; {@link CloseReason#NONE} while open. */
    public int closeReason()
    {
        return closeReason;
    }

    /** @return bytes currently queued (payload plus a fixed overhead per entry). */
    public long queuedBytes()
    {
        return (long)OFFERED_BYTES.getAcquire(this) - (long)POLLED_BYTES.getAcquire(this);
    }

    /** @return entries currently queued. */
    public int queuedCount()
    {
        return (int)((long)OFFERED.getAcquire(this) - (long)POLLED.getAcquire(this));
    }

    /**
     * Delivers up to {@code limit} queued entries to the handler, in order.
     *
     * @param handler receives the entries on this thread.
     * @param limit   the most to deliver in this call.
     * @return how many were delivered; when it equals {@code limit} more may remain, so poll again.
     */
    public int poll(final SubscriptionHandler handler, final int limit)
    {
        SIGNALLED.setVolatile(this, 0);
        int delivered = 0;
        long bytes = 0;
        try
        {
            while (delivered < limit)
            {
                final Object item = queue.poll();
                if (item == null)
                {
                    break;
                }
                delivered++;
                if (item instanceof AgentEvent)
                {
                    final AgentEvent event = (AgentEvent)item;
                    bytes += event.footprintBytes();
                    handler.onEvent(event);
                }
                else
                {
                    bytes += Notice.FOOTPRINT_BYTES;
                    ((Notice)item).dispatch(handler);
                }
            }
        }
        finally
        {
            POLLED.setRelease(this, (long)POLLED.getOpaque(this) + delivered);
            POLLED_BYTES.setRelease(this, (long)POLLED_BYTES.getOpaque(this) + bytes);
        }
        return delivered;
    }

    /**
     * Answers this subscription's {@link HistorySource#fetch}: the same as
     * {@link AgentWire#backfill(Subscription, Backfill)} on the engine it belongs to. Any thread.
     *
     * @param backfill the stream as the store holds it, for this subscription's user.
     * @return the position, or {@link PublishStatus#CLOSED}.
     */
    public long backfill(final Backfill backfill)
    {
        return owner.backfill(this, backfill);
    }

    /**
     * Ends the subscription: the spine removes it in order with the user's events. Idempotent, any thread.
     */
    public void close()
    {
        if (UNSUBSCRIBE_REQUESTED.compareAndSet(this, 0, 1))
        {
            owner.unsubscribe(this);
        }
    }

    // Slice-thread side.

    SubscriberListener listener()
    {
        return listener;
    }

    /**
     * @return false when the queue was full: the caller must cut the subscription as a slow consumer.
     */
    boolean offerEvent(final AgentEvent event)
    {
        return offer(event, event.footprintBytes());
    }

    boolean offerNotice(final Notice notice)
    {
        return offer(notice, Notice.FOOTPRINT_BYTES);
    }

    /**
     * The closing notice goes past the bounds, so a full-but-draining subscription still learns it ended after
     * its last event.
     */
    void offerClosing(final int reason)
    {
        closeReason = reason;
        OFFERED.setRelease(this, (long)OFFERED.getOpaque(this) + 1);
        OFFERED_BYTES.setRelease(this, (long)OFFERED_BYTES.getOpaque(this) + Notice.FOOTPRINT_BYTES);
        queue.offer(Notice.closed(reason));
        signal();
    }

    void markSlow()
    {
        closeReason = CloseReason.SLOW_CONSUMER;
    }

    void markClosed(final int reason)
    {
        closeReason = reason;
    }

    private boolean offer(final Object item, final int bytes)
    {
        final long count = (long)OFFERED.getOpaque(this);
        final long queuedBytes = (long)OFFERED_BYTES.getOpaque(this);
        if (count - (long)POLLED.getAcquire(this) >= maxEvents ||
            queuedBytes - (long)POLLED_BYTES.getAcquire(this) + bytes > maxBytes)
        {
            return false;
        }
        // Counted before it is visible, so the poller can never have taken more than was counted.
        OFFERED.setRelease(this, count + 1);
        OFFERED_BYTES.setRelease(this, queuedBytes + bytes);
        queue.offer(item);
        signal();
        return true;
    }

    private void signal()
    {
        if ((int)SIGNALLED.getVolatile(this) == 0 && SIGNALLED.compareAndSet(this, 0, 1))
        {
            listener.onAvailable(this);
        }
    }

    @Override
    public String toString()
    {
        return "Subscription{id=" + id + ", user=" + userId + ", closeReason=" + CloseReason.name(closeReason) + '}';
    }
}
