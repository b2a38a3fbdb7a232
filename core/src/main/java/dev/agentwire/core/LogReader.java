package dev.agentwire.core;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A reader of one user's stream in its slice's log: the one place that reads log records, for every way a
 * {@link Subscription} delivers ({@code poll}, {@code drainTo}, {@code encodeTo}). {@link #locate} finds the record
 * of {@link #nextSeq()} (in a backfill prefix, then the log); the caller copies what it needs, checks the record
 * stayed intact while it copied (the log is a single-writer ring that overwrites: a reader never locks it, and a
 * reader that was lapped is cut by the slice), and {@link #advance}s.
 * <p>
 * Threading: the slice attaches it before it offers the welcome; from then on one transport thread at a time reads
 * it. The cursor it publishes ({@link #cursor()}) is read by the slice.
 */
final class LogReader
{
    /** {@link #locate}: a room event the sink may not see was passed over. */
    static final int WITHHELD = -2;

    private static final VarHandle CURSOR;

    static
    {
        try
        {
            CURSOR = MethodHandles.lookup().findVarHandle(LogReader.class, "cursor", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final String userId;
    /** The next seq the reader will take, published for the slice's check of what it still needs. */
    @SuppressWarnings("unused")
    private long cursor;

    // Set by the slice at attach, before the welcome that hands the reader over.
    private StreamIndex index;
    private long epoch;
    private long logFromSeq;
    private BackfillFrames prefix;

    // The reader's own state.
    private boolean attached;
    private long nextSeq;
    private UnsafeBuffer scratch;
    private long lastPublishNs;
    private final AgentEvent view = new AgentEvent();

    LogReader(final String userId)
    {
        this.userId = userId;
    }

    void attach(final StreamIndex index, final long epoch, final long startSeq, final BackfillFrames prefix,
        final long logFromSeq)
    {
        this.index = index;
        this.epoch = epoch;
        this.nextSeq = startSeq;
        this.prefix = prefix;
        this.logFromSeq = logFromSeq;
        CURSOR.setRelease(this, Math.max(startSeq, logFromSeq));
    }

    /** Set by the notices: a reader reads events only once its welcome (or resumed answer) was delivered. */
    void attached(final boolean attached)
    {
        this.attached = attached;
    }

    boolean isAttachedTo(final StreamIndex other)
    {
        return index == other;
    }

    /** @return the next seq the reader needs from the log; seqs it reads from a backfill prefix do not count. */
    long cursor()
    {
        return (long)CURSOR.getAcquire(this);
    }

    long nextSeq()
    {
        return nextSeq;
    }

    /** @return events of the stream not read yet (0 before the welcome is read). */
    long queuedCount()
    {
        final StreamIndex at = index;
        return attached && at != null ? Math.max(0, at.lastSeqAcquire() - nextSeq + 1) : 0;
    }

    /** @return the view {@link #copyRecord} positioned. */
    AgentEvent view()
    {
        return view;
    }

    /** @return when the last frame {@link #copyNextFrame} copied was published. */
    long lastPublishNs()
    {
        return lastPublishNs;
    }


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
    int locate(final long limitSeq, final FrameSink sink)
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
    boolean copyRecord()
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
    boolean nextEvent(final long limitSeq)
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
    int copyNextFrame(
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

    /**
     * As {@link #copyNextFrame}, the sink writing the event itself from a view of a copy of its record
     * ({@link FrameSink#onEvent}).
     *
     * @return bytes the sink wrote, {@link #WITHHELD}, or -1 when there is nothing to write now (none ready, lapped,
     *         or the sink had no room: the same event comes again).
     */
    int encodeNext(
        final long limitSeq, final MutableDirectBuffer dst, final int at, final int room, final FrameSink sink)
    {
        final int found = locate(limitSeq, sink);
        if (found != 0)
        {
            return found;
        }
        if (!copyRecord())
        {
            return -1;
        }
        final int written = sink.onEvent(view, dst, at, room);
        if (written >= 0)
        {
            lastPublishNs = view.publishNs();
            advance();
        }
        return written;
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
        final int name = RecordCodec.roomOffset(source, recordOffset);
        if (name < 0)
        {
            return true; // unreadable (being overwritten): the integrity check after the copy decides
        }
        final int length = source.getShort(name - 2, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        return length > source.capacity() - name || sink.admitsRoom(source, name, length);
    }

    /** Moves past the located record. */
    void advance()
    {
        if (prefix != null && prefix.hasNext())
        {
            prefix.next();
        }
        nextSeq++;
        CURSOR.setRelease(this, Math.max(nextSeq, logFromSeq));
    }
}
