package dev.agentwire.core;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One event as delivered to one user: immutable, safe to share between threads and to keep.
 * <p>
 * {@link #seq()} is the event's number in that user's stream (1, 2, 3, … with no gaps) and {@link #epoch()} names
 * the stream: a client that remembers both can resume after a reconnect. A room or broadcast event takes a number
 * in each member's stream; the members' copies share one payload array.
 */
public final class AgentEvent
{
    /** Fixed per-event overhead, in bytes, counted against queue and history byte bounds. */
    static final int OVERHEAD_BYTES = 96;

    private final String userId;
    private final long epoch;
    private final long seq;
    private final long position;
    private final String type;
    private final String runId;
    private final String threadId;
    private final String eventId;
    private final String room;
    private final boolean broadcast;
    private final boolean binary;
    private final long timestampMs;
    private final long publishNs;
    private final byte[] payload;

    AgentEvent(
        final String userId,
        final long epoch,
        final long seq,
        final long position,
        final String type,
        final String runId,
        final String threadId,
        final String eventId,
        final String room,
        final boolean broadcast,
        final boolean binary,
        final long timestampMs,
        final long publishNs,
        final byte[] payload)
    {
        this.userId = userId;
        this.epoch = epoch;
        this.seq = seq;
        this.position = position;
        this.type = type;
        this.runId = runId;
        this.threadId = threadId;
        this.eventId = eventId;
        this.room = room;
        this.broadcast = broadcast;
        this.binary = binary;
        this.timestampMs = timestampMs;
        this.publishNs = publishNs;
        this.payload = payload;
    }

    /** @return the user whose stream this copy belongs to. */
    public String userId()
    {
        return userId;
    }

    /** @return the epoch of the user's stream when the event was sequenced. */
    public long epoch()
    {
        return epoch;
    }

    /** @return the number of this event in the user's stream, from 1. */
    public long seq()
    {
        return seq;
    }

    /** @return the spine position the publish returned for this event. */
    public long position()
    {
        return position;
    }

    /** @return the event type. */
    public String type()
    {
        return type;
    }

    /** @return the run id, or null. */
    public String runId()
    {
        return runId;
    }

    /** @return the thread (conversation) id, or null. */
    public String threadId()
    {
        return threadId;
    }

    /** @return the producer's idempotency key, or null. */
    public String eventId()
    {
        return eventId;
    }

    /** @return the room the event was sent to, or null when it was sent to the user or broadcast. */
    public String room()
    {
        return room;
    }

    /** @return true when the event was broadcast. */
    public boolean isBroadcast()
    {
        return broadcast;
    }

    /** @return true when the payload is arbitrary bytes rather than a JSON object. */
    public boolean isBinary()
    {
        return binary;
    }

    /** @return the event time, epoch milliseconds. */
    public long timestampMs()
    {
        return timestampMs;
    }

    /** @return {@link System#nanoTime()} at publish, for publish-to-delivery latency on the same JVM. */
    public long publishNs()
    {
        return publishNs;
    }

    /** @return payload length in bytes. */
    public int payloadLength()
    {
        return payload.length;
    }

    /**
     * Copies the payload into a buffer.
     *
     * @param dst   the destination.
     * @param index where the first byte goes.
     * @return the number of bytes written.
     */
    public int getPayload(final MutableDirectBuffer dst, final int index)
    {
        dst.putBytes(index, payload);
        return payload.length;
    }

    /**
     * Copies the payload into a byte buffer at its position, advancing it.
     *
     * @param dst the destination, with at least {@link #payloadLength()} remaining.
     */
    public void getPayload(final ByteBuffer dst)
    {
        dst.put(payload);
    }

    /** @return a copy of the payload bytes. */
    public byte[] payloadBytes()
    {
        return payload.clone();
    }

    /** @return the payload decoded as UTF-8 (allocates; for tests and tools). */
    public String payloadAsString()
    {
        return new String(payload, StandardCharsets.UTF_8);
    }

    int footprintBytes()
    {
        return OVERHEAD_BYTES + payload.length;
    }

    @Override
    public String toString()
    {
        return "AgentEvent{user=" + userId + ", epoch=" + epoch + ", seq=" + seq + ", type=" + type +
            ", runId=" + runId + (room != null ? ", room=" + room : "") + (broadcast ? ", broadcast" : "") +
            ", payloadBytes=" + payload.length + '}';
    }
}
