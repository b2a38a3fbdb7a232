package dev.agentwire.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Where one user's stream is in its slice's log: the log position of each seq from {@code firstSeq} to
 * {@code lastSeq}, in a ring of positions indexed by seq. Written by the owning slice only; read by that user's
 * subscriptions on their transports' threads, which is why everything here is published with release stores.
 * <p>
 * Invariants the slice keeps: every seq in [firstSeq, lastSeq] has its position in the ring and its record is
 * intact in the log but for the moment it is being overwritten (which advances firstSeq first); the ring holds at
 * least {@code lastSeq - firstSeq + 1} positions. A reader reads lastSeq, then the ring (a grown ring is published
 * before the lastSeq that needs it), then the record, then checks the record's seq and that it is intact.
 */
final class StreamIndex
{
    static final long[] NO_POSITIONS = new long[0];

    private static final VarHandle POSITIONS;
    private static final VarHandle FIRST_SEQ;
    private static final VarHandle LAST_SEQ;
    private static final VarHandle EPOCH;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            POSITIONS = lookup.findVarHandle(StreamIndex.class, "positions", long[].class);
            FIRST_SEQ = lookup.findVarHandle(StreamIndex.class, "firstSeq", long.class);
            LAST_SEQ = lookup.findVarHandle(StreamIndex.class, "lastSeq", long.class);
            EPOCH = lookup.findVarHandle(StreamIndex.class, "epoch", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final SliceLog log;
    @SuppressWarnings("unused")
    private long[] positions = NO_POSITIONS;
    @SuppressWarnings("unused")
    private long firstSeq = 1;
    @SuppressWarnings("unused")
    private long lastSeq;
    @SuppressWarnings("unused")
    private long epoch;

    StreamIndex(final SliceLog log, final long epoch)
    {
        this.log = log;
        EPOCH.setRelease(this, epoch);
    }

    // Readers' side.

    long lastSeqAcquire()
    {
        return (long)LAST_SEQ.getAcquire(this);
    }

    long firstSeqAcquire()
    {
        return (long)FIRST_SEQ.getAcquire(this);
    }

    long epochAcquire()
    {
        return (long)EPOCH.getAcquire(this);
    }

    /** @return the position of a seq, or -1 when the ring does not hold it (a reader that has fallen behind). */
    long positionOf(final long seq)
    {
        final long[] ring = (long[])POSITIONS.getAcquire(this);
        return ring.length == 0 ? -1 : ring[(int)seq & (ring.length - 1)];
    }

    // The slice's side (plain reads of its own writes).

    long firstSeq()
    {
        return (long)FIRST_SEQ.get(this);
    }

    long lastSeq()
    {
        return (long)LAST_SEQ.get(this);
    }

    long epoch()
    {
        return (long)EPOCH.get(this);
    }

    /** @return seqs held: lastSeq - firstSeq + 1. */
    long size()
    {
        return lastSeq() - firstSeq() + 1;
    }

    /** @return the position of a held seq (the slice's side). */
    long heldPosition(final long seq)
    {
        final long[] ring = (long[])POSITIONS.get(this);
        return ring[(int)seq & (ring.length - 1)];
    }

    /**
     * Records the next seq's position and publishes it. The ring must have room ({@link #ensureRoom}).
     */
    void append(final long seq, final long position)
    {
        final long[] ring = (long[])POSITIONS.get(this);
        ring[(int)seq & (ring.length - 1)] = position;
        LAST_SEQ.setRelease(this, seq);
    }

    /**
     * Grows the ring, if needed, so it holds one more seq than now, up to {@code maxPositions} (a power of two).
     *
     * @return false when the ring is at its most and full: the caller must drop the oldest seq first.
     */
    boolean ensureRoom(final int maxPositions)
    {
        final long[] ring = (long[])POSITIONS.get(this);
        final long held = size();
        if (held < ring.length)
        {
            return true;
        }
        if (ring.length >= maxPositions)
        {
            return false;
        }
        final long[] grown = new long[Math.max(8, ring.length * 2)];
        final long first = firstSeq();
        for (long seq = first; seq <= lastSeq(); seq++)
        {
            grown[(int)seq & (grown.length - 1)] = ring[(int)seq & (ring.length - 1)];
        }
        POSITIONS.setRelease(this, grown);
        return true;
    }

    /** Takes seqs below {@code seq} out of the stream's history. */
    void dropBelow(final long seq)
    {
        FIRST_SEQ.setRelease(this, seq);
    }

    /** Empties the history: nothing is held, the next seq follows {@code lastSeq}; an idle user keeps no ring. */
    void clear()
    {
        FIRST_SEQ.setRelease(this, lastSeq() + 1);
        POSITIONS.setRelease(this, NO_POSITIONS);
    }

    /** Starts the stream over (a replica following a new epoch, or a gap): nothing held, new numbers. */
    void restart(final long newEpoch, final long newLastSeq)
    {
        POSITIONS.setRelease(this, NO_POSITIONS);
        FIRST_SEQ.setRelease(this, newLastSeq + 1);
        EPOCH.setRelease(this, newEpoch);
        LAST_SEQ.setRelease(this, newLastSeq);
    }
}
