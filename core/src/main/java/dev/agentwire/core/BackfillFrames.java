package dev.agentwire.core;

import org.agrona.DirectBuffer;

/**
 * Replayed events a subscription reads before the log: what a replica's store answered that the slice's log does
 * not hold (older than its history). Records in the log's format, one after another, made once by the slice and
 * then read by the subscription's reader only.
 */
final class BackfillFrames
{
    private final DirectBuffer buffer;
    private final int end;
    private int offset;

    BackfillFrames(final DirectBuffer buffer, final int length)
    {
        this.buffer = buffer;
        this.end = length;
    }

    boolean hasNext()
    {
        return offset < end;
    }

    DirectBuffer buffer()
    {
        return buffer;
    }

    int offset()
    {
        return offset;
    }

    void next()
    {
        offset += buffer.getInt(offset + SliceLog.LENGTH_OFFSET);
    }
}
