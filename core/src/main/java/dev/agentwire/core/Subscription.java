package dev.agentwire.core;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;
import org.agrona.concurrent.UnsafeBuffer;

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

    private static final int WITHHELD = -2;

    private static final VarHandle SIGNALLED;
    private static final VarHandle UNSUBSCRIBE_REQUESTED;
    private static final VarHandle CURSOR;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SIGNALLED = lookup.findVarHandle(Subscription.class, "signalled", int.class);
            UNSUBSCRIBE_REQUESTED = lookup.findVarHandle(Subscription.class, "unsubscribeRequested", int.class);
            CURSOR = lookup.findVarHandle(Subscription.class, "cursor", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final long id;
    private final String userId;
    private final SubscriberListener listener;
    private final AgentWire owner;
    private final ManyToOneConcurrentLinkedQueue<Notice> notices = new ManyToOneConcurrentLinkedQueue<>();
    @SuppressWarnings("unused")
    private int signalled;
    @SuppressWarnings("unused")
    private int unsubscribeRequested;
    /** The next seq the reader will take, published for the slice's check of what it still needs. */
    @SuppressWarnings("unused")
    private long cursor;
    private volatile int closeReason = CloseReason.NONE;

    // Set by the slice before it offers the welcome; read by the reader after it takes the welcome.
    private StreamIndex index;
    private long epoch;
    private long startSeq;
    private long logFromSeq;
    private BackfillFrames prefix;
    private boolean resuming;

    // The reader's own state.
    private boolean attached;
    private boolean ended;
    private long nextSeq;
    private UnsafeBuffer scratch;
    private long lastPublishNs;
    private final AgentEvent view = new AgentEvent();

    Subscription(final long id, final String userId, final SubscriberListener listener, final AgentWire owner)
    {
        this.id = id;
        this.userId = userId;
        this.listener = listener;
        this.owner = owner;
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
        final StreamIndex at = index;
        return attached && at != null ? Math.max(0, at.lastSeqAcquire() - nextSeq + 1) : 0;
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
            final Notice notice = notices.peek();
            if (notice != null && notice.afterSeq < nextSeq)
            {
                notices.poll();
                dispatch(notice, handler);
                delivered++;
                continue;
            }
            final long limitSeq = notice == null ? Long.MAX_VALUE : notice.afterSeq;
            if (!nextEvent(limitSeq))
            {
                break;
            }
            handler.onEvent(view);
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
        SIGNALLED.setVolatile(this, 0);
        int at = offset;
        final int end = offset + capacity;
        while (!ended)
        {
            final Notice notice = notices.peek();
            if (notice != null && notice.afterSeq < nextSeq)
            {
                final int written = encode(notice, sink, dst, at, end - at);
                if (written < 0)
                {
                    break;
                }
                notices.poll();
                at += written;
                afterNotice(notice, sink);
                continue;
            }
            final long limitSeq = notice == null ? Long.MAX_VALUE : notice.afterSeq;
            final int written = copyNextFrame(limitSeq, dst, at, end - at, sink);
            if (written == WITHHELD)
            {
                continue;
            }
            if (written < 0)
            {
                break;
            }
            at += written;
            sink.onFrame(lastPublishNs);
        }
        return at - offset;
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
        SIGNALLED.setVolatile(this, 0);
        int at = offset;
        final int end = offset + capacity;
        while (!ended)
        {
            final Notice notice = notices.peek();
            if (notice != null && notice.afterSeq < nextSeq)
            {
                final int written = encode(notice, sink, dst, at, end - at);
                if (written < 0)
                {
                    break;
                }
                notices.poll();
                at += written;
                afterNotice(notice, sink);
                continue;
            }
            final int found = locate(notice == null ? Long.MAX_VALUE : notice.afterSeq, sink);
            if (found == WITHHELD)
            {
                continue;
            }
            if (found < 0 || !copyRecord())
            {
                break;
            }
            final int written = sink.onEvent(view, dst, at, end - at);
            if (written < 0)
            {
                break; // no room: the same event comes again at the next call
            }
            at += written;
            lastPublishNs = view.publishNs();
            advance();
            sink.onFrame(lastPublishNs);
        }
        return at - offset;
    }

    // Reading (the transport's thread). One reader serves poll, drainTo and encodeTo: locate() finds the record of
    // nextSeq (in a backfill prefix or the log), and the caller copies what it needs and checks the record was
    // intact throughout before it advances.

    /** Where {@link #locate} found the record: its buffer, offset and log position (-1 in a backfill prefix). */
    private DirectBuffer source;
    private int sourceOffset;
    private long sourcePosition;

    /**
     * Finds the record of {@link #nextSeq} when it is ready and up to {@code limitSeq}.
     *
     * @param sink asked about room events (null: every room is admitted).
     * @return 0 when found, {@link #WITHHELD} when it was a room event the sink may not see (passed over), or -1
     *         when there is nothing to read now (none ready, or lapped).
     */
    private int locate(final long limitSeq, final FrameSink sink)
    {
        if (!attached || nextSeq > limitSeq)
        {
            return -1;
        }
        if (prefix != null && prefix.hasNext())
        {
            source = prefix.buffer();
            sourceOffset = prefix.offset();
            sourcePosition = -1;
        }
        else
        {
            prefix = null;
            final long position = positionOfNext();
            if (position < 0)
            {
                return -1;
            }
            source = index.log.buffer;
            sourceOffset = index.log.offset(position);
            sourcePosition = position;
        }
        if (sink != null && (source.getInt(sourceOffset + SliceLog.FLAGS_OFFSET) & SliceLog.FLAG_ROOM) != 0)
        {
            final long seq = source.getLong(sourceOffset + SliceLog.SEQ_OFFSET);
            final long recordEpoch = source.getLong(sourceOffset + SliceLog.EPOCH_OFFSET);
            if (!admitsRoom(source, sourceOffset, sink))
            {
                // Not for this reader: passed over, provided the record was what it seemed while it was read.
                if (!isIntact() || seq != nextSeq || recordEpoch != epoch)
                {
                    return -1;
                }
                advance();
                return WITHHELD;
            }
        }
        return 0;
    }

    /** @return true when the located record is still in the log (its writer did not reach it); always in a prefix. */
    private boolean isIntact()
    {
        return sourcePosition < 0 || index.log.isIntact(sourcePosition);
    }

    /**
     * Copies the located record into the scratch buffer and positions {@link #view} on the copy: what a handler or
     * sink reads can no longer change under it.
     *
     * @return false when the record was overwritten while read (this reader fell behind: the slice cuts it).
     */
    private boolean copyRecord()
    {
        final int length = source.getInt(sourceOffset + SliceLog.LENGTH_OFFSET);
        if (length < SliceLog.HEADER_LENGTH || length > source.capacity() - sourceOffset)
        {
            return false; // a header read while the record was being overwritten
        }
        if (scratch == null || scratch.capacity() < length)
        {
            scratch = new UnsafeBuffer(new byte[Math.max(length, 512)]);
        }
        scratch.putBytes(0, source, sourceOffset, length);
        if (!isIntact() || scratch.getLong(SliceLog.SEQ_OFFSET) != nextSeq ||
            scratch.getLong(SliceLog.EPOCH_OFFSET) != epoch)
        {
            return false;
        }
        view.wrapRecord(scratch, 0, userId);
        return true;
    }

    /** Positions {@link #view} on the next event up to {@code limitSeq}, if there is one and it is intact. */
    private boolean nextEvent(final long limitSeq)
    {
        if (locate(limitSeq, null) < 0 || !copyRecord())
        {
            return false;
        }
        advance();
        return true;
    }

    /**
     * As {@link #nextEvent}, copying the event's frame into the transport's buffer.
     *
     * @return its length, {@link #WITHHELD} when the sink may not see it (passed over), or -1 when there is nothing
     *         to copy now (none ready, no room, or lapped).
     */
    private int copyNextFrame(
        final long limitSeq, final MutableDirectBuffer dst, final int at, final int room, final FrameSink sink)
    {
        final int found = locate(limitSeq, sink);
        if (found != 0)
        {
            return found;
        }
        // Read what is checked and counted before copying, then check the record was intact throughout.
        final long seq = source.getLong(sourceOffset + SliceLog.SEQ_OFFSET);
        final long recordEpoch = source.getLong(sourceOffset + SliceLog.EPOCH_OFFSET);
        final long publishNs = source.getLong(sourceOffset + SliceLog.PUBLISH_NS_OFFSET);
        final int frameOffset = sourceOffset + SliceLog.HEADER_LENGTH +
            source.getInt(sourceOffset + SliceLog.STRINGS_LENGTH_OFFSET);
        final int frameLength = source.getInt(sourceOffset + SliceLog.FRAME_LENGTH_OFFSET);
        if (frameLength > room || frameLength < 0 || frameLength > source.capacity() - frameOffset)
        {
            // Too big for the room left (the next drain has more), or a header read while it was overwritten.
            return -1;
        }
        dst.putBytes(at, source, frameOffset, frameLength);
        if (!isIntact() || seq != nextSeq || recordEpoch != epoch)
        {
            return -1;
        }
        lastPublishNs = publishNs;
        advance();
        return frameLength;
    }

    /** @return the log position of {@link #nextSeq} when it is in the stream's history and ready, else -1. */
    private long positionOfNext()
    {
        final StreamIndex at = index;
        if (nextSeq > at.lastSeqAcquire() || nextSeq < at.firstSeqAcquire())
        {
            // Nothing new yet, or this reader fell behind what the history holds: the slice cuts it.
            return -1;
        }
        return at.positionOf(nextSeq);
    }

    private static boolean admitsRoom(final DirectBuffer source, final int recordOffset, final FrameSink sink)
    {
        final int name = AgentEvent.roomOffset(source, recordOffset);
        if (name < 0)
        {
            return true; // unreadable (being overwritten): the integrity check after the copy decides
        }
        final int length = source.getShort(name - 2, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        return length > source.capacity() - name || sink.admitsRoom(source, name, length);
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
            attached = notice.kind == Notice.RESUMED || !resuming;
        }
    }

    private void advance()
    {
        if (prefix != null && prefix.hasNext())
        {
            prefix.next();
        }
        nextSeq++;
        CURSOR.setRelease(this, Math.max(nextSeq, logFromSeq));
    }

    private void dispatch(final Notice notice, final SubscriptionHandler handler)
    {
        switch (notice.kind)
        {
            case Notice.WELCOME:
                attached = !resuming;
                handler.onWelcome(notice.text, notice.epoch, notice.a);
                break;
            case Notice.RESUMED:
                attached = true;
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
        this.index = index;
        this.epoch = epoch;
        this.startSeq = startSeq;
        this.nextSeq = startSeq;
        this.prefix = prefix;
        this.logFromSeq = logFromSeq;
        CURSOR.setRelease(this, Math.max(startSeq, logFromSeq));
    }

    /**
     * @return the next seq the reader needs from the log (the slice cuts it when that seq leaves the history);
     *     seqs it reads from a backfill prefix do not count.
     */
    long cursor()
    {
        return (long)CURSOR.getAcquire(this);
    }

    boolean isAttachedTo(final StreamIndex other)
    {
        return index == other;
    }

    /** Queues a notice and wakes the transport. */
    void offerNotice(final Notice notice)
    {
        notices.offer(notice);
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
