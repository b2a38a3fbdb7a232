package dev.agentwire.core;

import org.agrona.BitUtil;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Buffers for payloads too large for a ring slot's inline bytes, in power-of-two sizes, taken by publishers and
 * returned by the last slice that reads the slot. Two bounds, so the ring can never hold memory without limit:
 * bytes lent out at once ({@code maxLentBytes}: a publish beyond it waits, or is refused by {@code tryPublish})
 * and bytes kept idle for reuse (a few megabytes per size; beyond that a returned buffer is left to the
 * collector). Steady state allocates nothing. Thread-safe.
 */
final class PayloadPool
{
    static final int SMALLEST = 512;
    private static final int IDLE_BYTES_PER_SIZE = 4 * 1024 * 1024;

    private final long maxLentBytes;
    private final ManyToManyConcurrentArrayQueue<byte[]>[] idle;
    private final AtomicLong lentBytes = new AtomicLong();

    @SuppressWarnings({"unchecked", "rawtypes"})
    PayloadPool(final int maxPayloadBytes, final long maxLentBytes)
    {
        this.maxLentBytes = maxLentBytes;
        final int sizes = sizeIndex(Math.max(SMALLEST, maxPayloadBytes)) + 1;
        idle = new ManyToManyConcurrentArrayQueue[sizes];
        for (int i = 0; i < sizes; i++)
        {
            final int size = SMALLEST << i;
            idle[i] = new ManyToManyConcurrentArrayQueue<>(Math.max(2, IDLE_BYTES_PER_SIZE / size));
        }
    }

    /**
     * @return a buffer of at least {@code length} bytes, or null when lending it would pass the bound.
     */
    byte[] borrow(final int length)
    {
        final int index = sizeIndex(length);
        final int size = SMALLEST << index;
        long lent;
        do
        {
            lent = lentBytes.get();
            if (lent + size > maxLentBytes && lent > 0)
            {
                return null;
            }
        }
        while (!lentBytes.compareAndSet(lent, lent + size));
        final byte[] buffer = idle[index].poll();
        return buffer != null ? buffer : new byte[size];
    }

    void giveBack(final byte[] buffer)
    {
        lentBytes.addAndGet(-buffer.length);
        idle[sizeIndex(buffer.length)].offer(buffer);
    }

    long lentBytes()
    {
        return lentBytes.get();
    }

    private static int sizeIndex(final int length)
    {
        return Integer.numberOfTrailingZeros(BitUtil.findNextPositivePowerOfTwo(Math.max(SMALLEST, length))) -
            Integer.numberOfTrailingZeros(SMALLEST);
    }
}
