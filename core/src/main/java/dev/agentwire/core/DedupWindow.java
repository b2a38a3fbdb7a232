package dev.agentwire.core;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One stripe's accepted event ids, remembered for the dedup window. An id is scoped by its owner (the target kind
 * and the user, room or broadcast the event goes to) and its run (none for an event without a run), so equal ids of
 * two owners or two runs never collide. Entries arrive in time order, so expiry takes them from the head of a ring.
 * <p>
 * An id is remembered as a 128-bit fingerprint of its scope and itself, keyed by a secret drawn at start, in
 * primitive arrays: no object per id. Agents send an id with every event, so at tens of thousands of events a
 * second the window holds about a million ids; kept as strings and maps they were the largest part of the live heap
 * (3.2 million strings, about 220 MB, at 40,000 events/s), which the collector marked on the core the server
 * shares (benchmarks/README.md, "2026-12-07, later: agent events end to end"). Two different ids that share a
 * fingerprint would make the later one a duplicate: for ids not chosen with the secret, the chance is about one in
 * 2^128 per pair remembered together, far below any other failure of a machine.
 * <p>
 * Bounds, both honest: an id is remembered for {@code windowMs}, and all stripes together remember at most
 * {@code maxEntries} ids. At that bound the adding stripe forgets its own oldest id early (the total may pass the
 * bound by at most one id per stripe), and every id forgotten early is counted ({@code evicted}), so an operator
 * can see when the window is shorter than configured. Guarded by the stripe's lock; the total and the count are
 * shared across stripes.
 */
final class DedupWindow
{
    private static final int INITIAL_CAPACITY = 16;
    private static final int ENTRY_LONGS = 3;
    private static final int LOW = 1;
    private static final int TIME = 2;
    private static final String NONE = "";
    private static final long C1 = 0x87c37b91114253d5L;
    private static final long C2 = 0x4cf5ad432745937fL;
    /** The fingerprints' secret, one per process: ids cannot be chosen to collide without it. */
    private static final long SEED;

    static
    {
        final SecureRandom random = new SecureRandom();
        SEED = random.nextLong();
    }

    private final long windowMs;
    private final int maxEntries;
    private final AtomicInteger engineTotal;
    private final LongAdder evicted;

    // The ring, oldest first: entry number n (counted from the first id ever added) is at index n & ringMask, its
    // fingerprint's halves and its time in three neighbouring longs (one cache line for a lookup's last step).
    private long[] ring = new long[INITIAL_CAPACITY * ENTRY_LONGS];
    private int ringMask = INITIAL_CAPACITY - 1;
    private long headEntry;
    private long tailEntry;
    // Open addressing, linear probing, twice the ring's capacity (at most half full). A slot holds the fingerprint's
    // upper 32 bits, which also choose its home slot, and its entry's ring index + 1 (0: free): a lookup reads the
    // ring only on a slot whose 32 bits match, so an id not remembered costs the probe of one array.
    private long[] slots = new long[INITIAL_CAPACITY * 2];
    private int slotMask = INITIAL_CAPACITY * 2 - 1;

    // The fingerprint being computed, and the question it answers (contains then add ask about the same id).
    private long high;
    private long low;
    private int units;
    private int pending;
    private int pendingUnits;
    private long block;
    private String lastOwner;
    private String lastRun;
    private String lastId;
    private byte lastKind = -1;

    /**
     * @param windowMs    how long an id is remembered.
     * @param maxEntries  ids all stripes remember at most.
     * @param engineTotal ids all stripes remember now.
     * @param evicted     ids forgotten before their window ended.
     */
    DedupWindow(final long windowMs, final int maxEntries, final AtomicInteger engineTotal, final LongAdder evicted)
    {
        this.windowMs = windowMs;
        this.maxEntries = maxEntries;
        this.engineTotal = engineTotal;
        this.evicted = evicted;
    }

    boolean isEnabled()
    {
        return windowMs > 0;
    }

    boolean contains(final byte kind, final String owner, final String runId, final String eventId, final long nowMs)
    {
        fingerprint(kind, owner, runId, eventId);
        final int slot = find(high, low);
        return slot >= 0 && ring[indexIn(slots[slot]) * ENTRY_LONGS + TIME] >= nowMs - windowMs;
    }

    void add(final byte kind, final String owner, final String runId, final String eventId, final long nowMs)
    {
        expire(nowMs);
        fingerprint(kind, owner, runId, eventId);
        final int found = find(high, low);
        if (found >= 0)
        {
            // Still held though past its window (a clock that stepped back keeps an entry behind a later one): it
            // starts its window again where it is. contains() reads the time, so nothing held past it counts.
            ring[indexIn(slots[found]) * ENTRY_LONGS + TIME] = nowMs;
            return;
        }
        // Only an id that takes a new entry makes room for itself at the bound.
        if (size() > 0 && engineTotal.get() >= maxEntries)
        {
            removeOldest();
            evicted.increment();
        }
        if (size() == ringMask + 1)
        {
            grow();
        }
        final int index = (int)(tailEntry++) & ringMask;
        ring[index * ENTRY_LONGS] = high;
        ring[index * ENTRY_LONGS + LOW] = low;
        ring[index * ENTRY_LONGS + TIME] = nowMs;
        insert(index);
        engineTotal.incrementAndGet();
    }

    void expire(final long nowMs)
    {
        final long cutoffMs = nowMs - windowMs;
        while (size() > 0 && ring[((int)headEntry & ringMask) * ENTRY_LONGS + TIME] < cutoffMs)
        {
            removeOldest();
        }
    }

    int size()
    {
        return (int)(tailEntry - headEntry);
    }

    /**
     * The 128-bit fingerprint of (kind, owner, run, id) into {@link #high} and {@link #low}: the 16-bit units of each
     * string, each string after its length (so "ab" + "c" and "a" + "bc" differ), taken 64 bits at a time and mixed
     * in two lanes as MurmurHash3's x64 128-bit variant mixes its blocks, then finalised with its avalanche.
     */
    private void fingerprint(final byte kind, final String owner, final String runId, final String eventId)
    {
        final String ownerKey = owner == null ? NONE : owner;
        final String runKey = runId == null ? NONE : runId;
        if (kind == lastKind && ownerKey == lastOwner && runKey == lastRun && eventId == lastId)
        {
            return;
        }
        high = SEED;
        low = ~SEED;
        units = 0;
        pending = 0;
        pendingUnits = 0;
        block = 0;
        absorb(kind);
        absorbString(ownerKey);
        absorbString(runKey);
        absorbString(eventId);
        if (pendingUnits > 0)
        {
            mixBlock(block, ++pending);
        }
        high ^= units;
        low ^= units;
        high += low;
        low += high;
        high = avalanche(high);
        low = avalanche(low);
        high += low;
        low += high;
        lastKind = kind;
        lastOwner = ownerKey;
        lastRun = runKey;
        lastId = eventId;
    }

    private void absorbString(final String s)
    {
        final int length = s.length();
        absorb(length >>> 16);
        absorb(length & 0xFFFF);
        for (int i = 0; i < length; i++)
        {
            absorb(s.charAt(i));
        }
    }

    /** Takes one 16-bit unit; every four make a 64-bit word, every two words a block of both lanes. */
    private void absorb(final int unit)
    {
        block |= (long)(unit & 0xFFFF) << (pendingUnits << 4);
        units++;
        if (++pendingUnits == 4)
        {
            mixBlock(block, ++pending);
            block = 0;
            pendingUnits = 0;
        }
    }

    /** Word {@code count} (from 1) goes to the high lane when odd, the low lane when even. */
    private void mixBlock(final long word, final int count)
    {
        if ((count & 1) == 1)
        {
            long k = word * C1;
            k = Long.rotateLeft(k, 31) * C2;
            high ^= k;
            high = Long.rotateLeft(high, 27) + low;
            high = high * 5 + 0x52dce729;
        }
        else
        {
            long k = word * C2;
            k = Long.rotateLeft(k, 33) * C1;
            low ^= k;
            low = Long.rotateLeft(low, 31) + high;
            low = low * 5 + 0x38495ab5;
        }
    }

    private static long avalanche(final long value)
    {
        long k = value;
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    /** @return the slot holding the fingerprint, or -1. */
    private int find(final long hi, final long lo)
    {
        final int tag = (int)(hi >>> 32);
        for (int slot = tag & slotMask; slots[slot] != 0; slot = (slot + 1) & slotMask)
        {
            final long value = slots[slot];
            if ((int)(value >>> 32) == tag)
            {
                final int at = indexIn(value) * ENTRY_LONGS;
                if (ring[at] == hi && ring[at + LOW] == lo)
                {
                    return slot;
                }
            }
        }
        return -1;
    }

    /** @return the ring index a non-free slot holds. */
    private static int indexIn(final long slotValue)
    {
        return (int)slotValue - 1;
    }

    private void insert(final int index)
    {
        final int tag = (int)(ring[index * ENTRY_LONGS] >>> 32);
        int slot = tag & slotMask;
        while (slots[slot] != 0)
        {
            slot = (slot + 1) & slotMask;
        }
        slots[slot] = ((long)tag << 32) | (index + 1);
    }

    /** Forgets the oldest entry: its slot is emptied, and the probe run after it closes up (backward shift). */
    private void removeOldest()
    {
        final int index = (int)headEntry & ringMask;
        int hole = (int)(ring[index * ENTRY_LONGS] >>> 32) & slotMask;
        while (indexIn(slots[hole]) != index)
        {
            hole = (hole + 1) & slotMask;
        }
        // Each later entry of the run moves into the hole unless its home slot lies after the hole.
        int next = (hole + 1) & slotMask;
        while (slots[next] != 0)
        {
            final int home = (int)(slots[next] >>> 32) & slotMask;
            if (((next - home) & slotMask) >= ((next - hole) & slotMask))
            {
                slots[hole] = slots[next];
                hole = next;
            }
            next = (next + 1) & slotMask;
        }
        slots[hole] = 0;
        headEntry++;
        engineTotal.decrementAndGet();
    }

    /** Twice the ring, its entries at their new indexes, and the index made again over them. */
    private void grow()
    {
        final int capacity = (ringMask + 1) * 2;
        final long[] newRing = new long[capacity * ENTRY_LONGS];
        final int newMask = capacity - 1;
        for (long entry = headEntry; entry < tailEntry; entry++)
        {
            System.arraycopy(ring, ((int)entry & ringMask) * ENTRY_LONGS, newRing, ((int)entry & newMask) * ENTRY_LONGS,
                ENTRY_LONGS);
        }
        ring = newRing;
        ringMask = newMask;
        slots = new long[capacity * 2];
        slotMask = slots.length - 1;
        for (long entry = headEntry; entry < tailEntry; entry++)
        {
            insert((int)entry & ringMask);
        }
    }
}
