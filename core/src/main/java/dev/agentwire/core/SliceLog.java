package dev.agentwire.core;

import org.agrona.BitUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;

/**
 * One slice's log: a ring of bytes written by the slice's thread alone, read by transports' threads. Every event
 * delivered to a recipient is one record here, holding the recipient's final wire frame, so the log is both the
 * history (resume reads it) and the delivery queue (live subscriptions read it): a subscription is a cursor.
 * <p>
 * Records are 8-byte aligned and never wrap: one that would is preceded by a padding record to the end. The writer
 * announces how far it is about to write ({@code tailIntent}, release store and fence) before writing; a reader
 * copies a record, then checks that the writer's intent has not reached it (Agrona's broadcast protocol), so a
 * record overwritten while being read is never taken as valid. Overwriting a record takes it out of its user's
 * history first ({@link Evictor}), so what a user's index reaches is always intact but for that race.
 * <p>
 * The memory is native, taken lazily by the operating system as the log fills, and freed when nothing refers to
 * the log any more (a transport still polling after the engine closed reads valid memory).
 * <pre>
 *   record: length (int, aligned) | kind (int) | seq | epoch | spine position | ts | publishNs | appendMs (longs)
 *           | user slot | user generation | flags | strings length | frame length | payload offset | payload length
 *           | pad (ints) | strings (type, run id, thread id, event id, room: u16 length or 0xFFFF + UTF-8) | frame
 * </pre>
 */
final class SliceLog
{
    static final int ALIGNMENT = 8;
    static final int KIND_EVENT = 1;
    static final int KIND_PADDING = 2;

    static final int LENGTH_OFFSET = 0;
    static final int KIND_OFFSET = 4;
    static final int SEQ_OFFSET = 8;
    static final int EPOCH_OFFSET = 16;
    static final int POSITION_OFFSET = 24;
    static final int TIMESTAMP_OFFSET = 32;
    static final int PUBLISH_NS_OFFSET = 40;
    static final int APPEND_MS_OFFSET = 48;
    static final int USER_SLOT_OFFSET = 56;
    static final int USER_GENERATION_OFFSET = 60;
    static final int FLAGS_OFFSET = 64;
    static final int STRINGS_LENGTH_OFFSET = 68;
    static final int FRAME_LENGTH_OFFSET = 72;
    static final int PAYLOAD_OFFSET_OFFSET = 76;
    static final int PAYLOAD_LENGTH_OFFSET = 80;
    static final int HEADER_LENGTH = 88;

    static final int FLAG_BINARY = 1;
    static final int FLAG_BROADCAST = 2;
    static final int FLAG_ROOM = 4;

    /** Told about each record the writer is about to overwrite, oldest first, on the writer's thread. */
    interface Evictor
    {
        /**
         * @param buffer   the log's buffer.
         * @param offset   where the record starts in it.
         * @param position the record's absolute position.
         */
        void onOverwrite(UnsafeBuffer buffer, int offset, long position);
    }

    private static final Cleaner CLEANER = Cleaner.create();
    private static final VarHandle TAIL_INTENT;

    static
    {
        try
        {
            TAIL_INTENT = MethodHandles.lookup().findVarHandle(SliceLog.class, "tailIntent", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final UnsafeBuffer buffer;
    final int capacity;
    private final int mask;
    // Writer's side: where the next record goes, and the oldest record not yet overwritten.
    private long tail;
    private long head;
    @SuppressWarnings("unused")
    private volatile long tailIntent;

    /**
     * @param capacity bytes, a power of two.
     */
    SliceLog(final int capacity)
    {
        if (!BitUtil.isPowerOfTwo(capacity) || capacity < 4096)
        {
            throw new IllegalArgumentException("capacity=" + capacity + " must be a power of two >= 4096");
        }
        this.capacity = capacity;
        this.mask = capacity - 1;
        final long address = UnsafeApi.allocateMemory(capacity);
        buffer = new UnsafeBuffer(address, capacity);
        CLEANER.register(this, new Release(address));
    }

    /** Frees the memory; holds nothing that refers to the log, or the log would never be collected. */
    private static final class Release implements Runnable
    {
        private final long address;

        Release(final long address)
        {
            this.address = address;
        }

        @Override
        public void run()
        {
            UnsafeApi.freeMemory(address);
        }
    }

    /** @return the aligned length of a record holding this much after its header. */
    static int recordLength(final int stringsLength, final int frameLength)
    {
        return BitUtil.align(HEADER_LENGTH + stringsLength + frameLength, ALIGNMENT);
    }

    /** @return the offset in {@link #buffer} of the record at an absolute position. */
    int offset(final long position)
    {
        return (int)position & mask;
    }

    /**
     * Makes room for a record: tells the evictor about every record it (and a padding record, if it must wrap)
     * will overwrite, announces the write to readers, and returns where to write it. Writer's thread only; the
     * caller writes the whole record at {@code offset(position)} before publishing its position.
     *
     * @param length the record's aligned length, at most half the capacity.
     * @return the record's absolute position.
     */
    long claim(final int length, final Evictor evictor)
    {
        long position = tail;
        final int toEnd = capacity - offset(position);
        final boolean wraps = toEnd < length;
        final long newTail = position + (wraps ? toEnd : 0) + length;
        while (head < newTail - capacity)
        {
            final int at = offset(head);
            if (buffer.getInt(at + KIND_OFFSET) == KIND_EVENT)
            {
                evictor.onOverwrite(buffer, at, head);
            }
            head += buffer.getInt(at + LENGTH_OFFSET);
        }
        TAIL_INTENT.setRelease(this, newTail);
        VarHandle.releaseFence();
        if (wraps)
        {
            final int at = offset(position);
            buffer.putInt(at + LENGTH_OFFSET, toEnd);
            buffer.putInt(at + KIND_OFFSET, KIND_PADDING);
            position += toEnd;
        }
        tail = newTail;
        return position;
    }

    /**
     * Whether the record at a position is still as it was written: call after copying it (reader's side). The
     * writer announces a write before making it, so an intent past {@code position + capacity} means the bytes
     * read may have changed.
     */
    boolean isIntact(final long position)
    {
        VarHandle.acquireFence();
        return position + capacity > (long)TAIL_INTENT.getVolatile(this);
    }

    /** @return bytes of records not yet overwritten (for the stats). */
    long usedBytes()
    {
        return tail - head;
    }
}
