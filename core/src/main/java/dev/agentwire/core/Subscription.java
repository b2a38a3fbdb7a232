package dev.agentwire.core;

import org.agrona.MutableDirectBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One connection's view of a user's stream: a cursor into the user's history in its slice's log, plus the control
 * notices (welcome, resumed, joined, left, closed) that come in order between the user's events.
 * <p>
 * Threading: the owning slice thread attaches it and offers notices; one transport thread at a time reads it with
 * {@link #poll(SubscriptionHandler, int)} or {@link #drainTo}. {@link #close()} may be called from any thread.
 * <p>
 * Nothing is queued per event: live delivery and replay are the same read of the log, so a subscription that
 * falls behind holds no memory. It is cut ({@link CloseReason#SLOW_CONSUMER}) only when events it has not read
 * leave the user's history (the count or age bound, or the log's memory bound overwrote them); the
 * {@link SubscriberListener} is told, and a resume then says exactly what was lost.
 */
public final class Subscription
{
    /** Cursor value for "no resume: start live from now". */
    public static final long LIVE = -1;

    private static final VarHandle SIGNALLED;
    private static final VarHandle OFFERED;
    private static final VarHandle UNSUBSCRIBE_REQUESTED;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SIGNALLED = lookup.findVarHandle(Subscription.class, "signalled", int.class);
            OFFERED = lookup.findVarHandle(Subscription.class, "offered", Notice.class);
            UNSUBSCRIBE_REQUESTED = lookup.findVarHandle(Subscription.class, "unsubscribeRequested", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final long id;
    private final String userId;
    private final SubscriberListener listener;
    private final SubscriptionOwner owner;
    // The notices, in two linked lists through Notice.link: those offered and not yet taken, newest first (any
    // thread pushes with a CAS: the slice, and close() for the last one), and those the reader took, oldest first
    // (it swaps the offered list out when it has none left, and reverses it). Notices are rare, a few per
    // connection; a queue object per subscription (Agrona's, padded against false sharing) cost 232 bytes a
    // connection, the largest single object AgentWire kept for one.
    @SuppressWarnings("unused")
    private Notice offered;
    private Notice taken;
    @SuppressWarnings("unused")
    private int signalled;
    @SuppressWarnings("unused")
    private int unsubscribeRequested;
    private volatile int closeReason = CloseReason.NONE;

    // Set by the slice before it offers the welcome; read by the reader after it takes the welcome.
    private boolean resuming;
    private long startSeq;

    // The reader's own state: the notices' effect, and its place in the stream.
    private boolean ended;
    private final LogReader reader;

    Subscription(final long id, final String userId, final SubscriberListener listener,
        final SubscriptionOwner owner)
    {
        this.id = id;
        this.userId = userId;
        this.listener = listener;
        this.owner = owner;
        this.reader = new LogReader(userId);
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

    /** @return events of the stream this subscription has not read yet (0 before its welcome is read). */
    public long queuedCount()
    {
        return reader.queuedCount();
    }

    /**
     * Delivers what is ready, in order, to an in-process handler: notices, then each event as a view over a copy
     * the subscription keeps (valid during {@link SubscriptionHandler#onEvent}).
     *
     * @param handler receives the entries on this thread.
     * @param limit   the most entries to deliver in this call.
     * @return how many were delivered; when it equals {@code limit} more may remain, so poll again.
     */
    public int poll(final SubscriptionHandler handler, final int limit)
    {
        SIGNALLED.setVolatile(this, 0);
        int delivered = 0;
        while (delivered < limit && !ended)
        {
            final Notice notice = nextNotice();
            if (notice != null && notice.afterSeq < reader.nextSeq())
            {
                takeNotice(notice);
                dispatch(notice, handler);
                delivered++;
                continue;
            }
            final long limitSeq = notice == null ? Long.MAX_VALUE : notice.afterSeq;
            if (!reader.nextEvent(limitSeq))
            {
                break;
            }
            handler.onEvent(reader.view());
            delivered++;
        }
        return delivered;
    }

    /**
     * Copies what is ready, in order, into a transport's buffer: each event's frame as the engine's
     * {@link FrameEncoder} made it, and the notices between them as the sink encodes them. Whole frames only.
     *
     * @param dst      the transport's buffer.
     * @param offset   where to start writing.
     * @param capacity bytes available from {@code offset}; at least one frame's worth, or nothing moves.
     * @param sink     encodes the notices and counts the frames, on this thread.
     * @return bytes written.
     */
    public int drainTo(final MutableDirectBuffer dst, final int offset, final int capacity, final FrameSink sink)
    {
        return read(dst, offset, capacity, sink, false);
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

    /**
     * Encodes what is ready, in order, into a transport's buffer, each event by the sink itself
     * ({@link FrameSink#onEvent}, over a view of the event that cannot change under it) rather than as the engine's
     * frame: for a transport that speaks another protocol over the same stream (the server's AG-UI socket). Notices
     * between events are the sink's to encode, as in {@link #drainTo}.
     *
     * @param dst      the transport's buffer.
     * @param offset   where to start writing.
     * @param capacity bytes available from {@code offset}.
     * @param sink     encodes the events and notices, on this thread.
     * @return bytes written (0 when events were read but the sink wrote nothing for them).
     */
    public int encodeTo(final MutableDirectBuffer dst, final int offset, final int capacity, final FrameSink sink)
    {
        return read(dst, offset, capacity, sink, true);
    }

    /** The one drain loop: notices in order between the events, each event copied as framed or encoded by the sink. */
    private int read(
        final MutableDirectBuffer dst, final int offset, final int capacity, final FrameSink sink, final boolean encode)
    {
        SIGNALLED.setVolatile(this, 0);
        int at = offset;
        final int end = offset + capacity;
        while (!ended)
        {
            final Notice notice = nextNotice();
            if (notice != null && notice.afterSeq < reader.nextSeq())
            {
                final int written = encode(notice, sink, dst, at, end - at);
                if (written < 0)
                {
                    break;
                }
                takeNotice(notice);
                at += written;
                afterNotice(notice, sink);
                continue;
            }
            final long limitSeq = notice == null ? Long.MAX_VALUE : notice.afterSeq;
            final int written = encode ? reader.encodeNext(limitSeq, dst, at, end - at, sink) :
                reader.copyNextFrame(limitSeq, dst, at, end - at, sink);
            if (written == LogReader.WITHHELD)
            {
                continue;
            }
            if (written < 0)
            {
                break; // none ready, no room (the same event comes again at the next call), or lapped
            }
            at += written;
            sink.onFrame(reader.lastPublishNs());
        }
        return at - offset;
    }

    /** @return the oldest notice not yet delivered, or null (the reader's side). */
    private Notice nextNotice()
    {
        if (taken == null && OFFERED.getAcquire(this) != null)
        {
            Notice newest = (Notice)OFFERED.getAndSet(this, (Notice)null);
            Notice oldest = null;
            while (newest != null)
            {
                final Notice older = newest.link;
                newest.link = oldest;
                oldest = newest;
                newest = older;
            }
            taken = oldest;
        }
        return taken;
    }

    /** The reader has delivered the notice {@link #nextNotice} returned. */
    private void takeNotice(final Notice notice)
    {
        taken = notice.link;
        notice.link = null;
    }

    /** What a notice a sink has encoded changes for the reader. */
    private void afterNotice(final Notice notice, final FrameSink sink)
    {
        if (notice.kind == Notice.CLOSED)
        {
            ended = true;
            sink.onClosed((int)notice.a);
        }
        else if (notice.kind == Notice.WELCOME || notice.kind == Notice.RESUMED)
        {
            reader.attached(notice.kind == Notice.RESUMED || !resuming);
        }
    }

    private void dispatch(final Notice notice, final SubscriptionHandler handler)
    {
        switch (notice.kind)
        {
            case Notice.WELCOME:
                reader.attached(!resuming);
                handler.onWelcome(notice.text, notice.epoch, notice.a);
                break;
            case Notice.RESUMED:
                reader.attached(true);
                handler.onResumed(notice.flag, notice.epoch, notice.a, notice.b);
                break;
            case Notice.JOINED:
                handler.onJoined(notice.text);
                break;
            case Notice.LEFT:
                handler.onLeft(notice.text);
                break;
            case Notice.CLOSED:
                ended = true;
                handler.onClosed((int)notice.a);
                break;
            default:
                throw new IllegalStateException("notice kind=" + notice.kind);
        }
    }

    private static int encode(
        final Notice notice, final FrameSink sink, final MutableDirectBuffer dst, final int at, final int room)
    {
        switch (notice.kind)
        {
            case Notice.WELCOME:
                return sink.onWelcome(dst, at, room, notice.text, notice.epoch, notice.a);
            case Notice.RESUMED:
                return sink.onResumed(dst, at, room, notice.flag, notice.epoch, notice.a, notice.b);
            case Notice.JOINED:
                return sink.onJoined(dst, at, room, notice.text);
            case Notice.LEFT:
                return sink.onLeft(dst, at, room, notice.text);
            case Notice.CLOSED:
                return 0;
            default:
                throw new IllegalStateException("notice kind=" + notice.kind);
        }
    }

    // The slice's side.

    SubscriberListener listener()
    {
        return listener;
    }

    /**
     * Points the cursor at the stream before the welcome is offered; the reader starts from {@code startSeq} once
     * it takes the welcome.
     *
     * @param prefix   replayed events the log does not hold (a replica's backfill), read before the log, or null.
     * @param resuming a resumed notice follows the welcome: no event is read before it (the slice offers the two
     *                 one after the other, and a reader between them must not run ahead of the answer).
     */
    void attach(
        final StreamIndex index, final long epoch, final long startSeq, final BackfillFrames prefix,
        final long logFromSeq, final boolean resuming)
    {
        this.resuming = resuming;
        this.startSeq = startSeq;
        reader.attach(index, epoch, startSeq, prefix, logFromSeq);
    }

    /**
     * @return the next seq the reader needs from the log (the slice cuts it when that seq leaves the history);
     *     seqs it reads from a backfill prefix do not count.
     */
    long cursor()
    {
        return reader.cursor();
    }

    boolean isAttachedTo(final StreamIndex other)
    {
        return reader.isAttachedTo(other);
    }

    /** Queues a notice and wakes the transport. */
    void offerNotice(final Notice notice)
    {
        Notice newest;
        do
        {
            newest = (Notice)OFFERED.getVolatile(this);
            notice.link = newest;
        }
        while (!OFFERED.compareAndSet(this, newest, notice));
        signal();
    }

    /** Ends the subscription after everything up to {@code afterSeq}: the last thing it delivers. */
    void offerClosing(final int reason, final long afterSeq)
    {
        closeReason = reason;
        offerNotice(Notice.closed(reason, afterSeq));
    }

    void markSlow()
    {
        closeReason = CloseReason.SLOW_CONSUMER;
    }

    void markClosed(final int reason)
    {
        closeReason = reason;
    }

    /** New events may be ready: the transport is told once until it next reads. */
    void signal()
    {
        if ((int)SIGNALLED.getVolatile(this) == 0 && SIGNALLED.compareAndSet(this, 0, 1))
        {
            listener.onAvailable(this);
        }
    }

    @Override
    public String toString()
    {
        return "Subscription{id=" + id + ", user=" + userId + ", closeReason=" + CloseReason.name(closeReason) +
            ", startSeq=" + startSeq + '}';
    }
}
