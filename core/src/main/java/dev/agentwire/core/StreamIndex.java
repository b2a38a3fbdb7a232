package dev.agentwire.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Where one user's stream is in its slice's log: the log position and record length of each seq from
 * {@code firstSeq} to {@code lastSeq}, in a ring of entries indexed by seq. Written by the owning slice only; read by
 * that user's subscriptions on their transports' threads, which is why everything here is published with release
 * stores.
 * <p>
 * An entry is two longs side by side (position, then length): when the history is full, the seq appended takes the
 * entry of the seq it drops, so the slice learns what it drops and records what it adds in one cache line, without
 * reading the dropped record from the log (cold by then: a whole round of every user's history ago).
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
        return ring.length == 0 ? -1 : ring[entry(ring, seq)];
    }

    /** @return where a seq's entry (its position; its length follows) starts in a ring. */
    private static int entry(final long[] ring, final long seq)
    {
        return ((int)seq & ((ring.length >> 1) - 1)) << 1;
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
        return ring[entry(ring, seq)];
    }

    /** @return the record length of a held seq (the slice's side). */
    int heldLength(final long seq)
    {
        final long[] ring = (long[])POSITIONS.get(this);
        return (int)ring[entry(ring, seq) + 1];
    }

    /**
     * Records the next seq's position and record length, and publishes it. The ring must have room
     * ({@link #ensureRoom}).
     */
    void append(final long seq, final long position, final int length)
    {
        final long[] ring = (long[])POSITIONS.get(this);
        final int at = entry(ring, seq);
        ring[at] = position;
        ring[at + 1] = length;
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
        final int entries = ring.length >> 1;
        final long held = size();
        if (held < entries)
        {
            return true;
        }
        if (entries >= maxPositions)
        {
            return false;
        }
        final long[] grown = new long[Math.max(8, entries * 2) << 1];
        final long first = firstSeq();
        for (long seq = first; seq <= lastSeq(); seq++)
        {
            final int from = entry(ring, seq);
            final int to = entry(grown, seq);
            grown[to] = ring[from];
            grown[to + 1] = ring[from + 1];
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
