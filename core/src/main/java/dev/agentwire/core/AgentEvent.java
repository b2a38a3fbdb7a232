package dev.agentwire.core;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One event as delivered to one user: a view over where the event is stored, valid only during the call that
 * hands it over ({@link SubscriptionHandler#onEvent}, {@link FrameEncoder}). Keep nothing from it but what you
 * copy, or keep {@link #copy()}. The engine reuses these views, so delivering an event makes no object.
 * <p>
 * {@link #seq()} is the event's number in that user's stream (1, 2, 3, … with no gaps) and {@link #epoch()} names
 * the stream: a client that remembers both can resume after a reconnect. A room or broadcast event takes a number
 * in each member's stream. The string accessors decode (allocate); the frame and payload accessors do not.
 */
public final class AgentEvent
{

    // Over a ring slot (what an encoder sees) or over a log record (what a reader sees).
    private EventSlot slot;
    private DirectBuffer record;
    private int recordOffset;

    private String userId;
    private long epoch;
    private long seq;
    // Decoded lazily from a record, once per view.
    private String type;
    private String runId;
    private String threadId;
    private String eventId;
    private String room;
    private boolean stringsDecoded;

    /** Views are made by the engine. */
    AgentEvent()
    {
    }

    AgentEvent wrapSlot(final EventSlot slot, final String userId, final long epoch, final long seq)
    {
        this.slot = slot;
        this.record = null;
        this.userId = userId;
        this.epoch = epoch;
        this.seq = seq;
        return this;
    }

    AgentEvent wrapRecord(final DirectBuffer buffer, final int offset, final String userId)
    {
        this.slot = null;
        this.record = buffer;
        this.recordOffset = offset;
        this.userId = userId;
        this.epoch = buffer.getLong(offset + SliceLog.EPOCH_OFFSET);
        this.seq = buffer.getLong(offset + SliceLog.SEQ_OFFSET);
        stringsDecoded = false;
        return this;
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

    /** @return the spine position the publish returned for this event (-1 for one a store answered). */
    public long position()
    {
        return slot != null ? slot.position : record.getLong(recordOffset + SliceLog.POSITION_OFFSET);
    }

    /** @return the event type. */
    public String type()
    {
        return slot != null ? slot.type : strings().type;
    }

    /** @return the run id, or null. */
    public String runId()
    {
        return slot != null ? slot.runId : strings().runId;
    }

    /** @return the thread (conversation) id, or null. */
    public String threadId()
    {
        return slot != null ? slot.threadId : strings().threadId;
    }

    /** @return the producer's idempotency key, or null. */
    public String eventId()
    {
        return slot != null ? slot.eventId : strings().eventId;
    }

    /** @return the room the event was sent to, or null when it was sent to the user or broadcast. */
    public String room()
    {
        return slot != null ? slot.room() : strings().room;
    }

    /** @return true when the event was broadcast. */
    public boolean isBroadcast()
    {
        return slot != null ? slot.targetKind == EventDraft.TARGET_BROADCAST :
            (record.getInt(recordOffset + SliceLog.FLAGS_OFFSET) & SliceLog.FLAG_BROADCAST) != 0;
    }

    /** @return true when the payload is arbitrary bytes rather than a JSON object. */
    public boolean isBinary()
    {
        return slot != null ? slot.binary :
            (record.getInt(recordOffset + SliceLog.FLAGS_OFFSET) & SliceLog.FLAG_BINARY) != 0;
    }

    /** @return the event time, epoch milliseconds. */
    public long timestampMs()
    {
        return slot != null ? slot.timestampMs : record.getLong(recordOffset + SliceLog.TIMESTAMP_OFFSET);
    }

    /** @return {@link System#nanoTime()} at publish, for publish-to-delivery latency on the same JVM. */
    public long publishNs()
    {
        return slot != null ? slot.publishNs : record.getLong(recordOffset + SliceLog.PUBLISH_NS_OFFSET);
    }

    /** @return payload length in bytes. */
    public int payloadLength()
    {
        return slot != null ? slot.payloadLength : record.getInt(recordOffset + SliceLog.PAYLOAD_LENGTH_OFFSET);
    }

    /** @return the buffer holding the payload at {@link #payloadOffset()} (a view: do not keep it). */
    public DirectBuffer payloadBuffer()
    {
        return slot != null ? slot.payload() : record;
    }

    /** @return where the payload starts in {@link #payloadBuffer()}. */
    public int payloadOffset()
    {
        return slot != null ? 0 : frameOffset() + record.getInt(recordOffset + SliceLog.PAYLOAD_OFFSET_OFFSET);
    }

    /**
     * @return the buffer holding the event's encoded frame at {@link #frameOffset()}: what the engine's
     *     {@link FrameEncoder} made of it for this recipient (for the server, the WebSocket frame).
     */
    public DirectBuffer frameBuffer()
    {
        return record;
    }

    /** @return where the frame starts in {@link #frameBuffer()}. */
    public int frameOffset()
    {
        return recordOffset + SliceLog.HEADER_LENGTH + record.getInt(recordOffset + SliceLog.STRINGS_LENGTH_OFFSET);
    }

    /** @return the frame's length (0 while an encoder is making it). */
    public int frameLength()
    {
        return slot != null ? 0 : record.getInt(recordOffset + SliceLog.FRAME_LENGTH_OFFSET);
    }

    /** {@link #stringOffset} field: the event type. */
    public static final int TYPE = 0;
    /** {@link #stringOffset} field: the run id. */
    public static final int RUN_ID = 1;
    /** {@link #stringOffset} field: the thread id. */
    public static final int THREAD_ID = 2;
    /** {@link #stringOffset} field: the producer's idempotency key. */
    public static final int EVENT_ID = 3;
    /** {@link #stringOffset} field: the room. */
    public static final int ROOM = 4;

    /**
     * Where one of the event's strings is, as UTF-8 in {@link #frameBuffer()}, for a transport that writes it
     * without decoding it (decoding allocates; this does not). Only on a delivered event (not while encoding).
     *
     * @param field {@link #TYPE}, {@link #RUN_ID}, {@link #THREAD_ID}, {@link #EVENT_ID} or {@link #ROOM}.
     * @return the offset of its first byte, or -1 when the event has no such string.
     */
    public int stringOffset(final int field)
    {
        final int at = stringAt(field);
        final int length = record.getShort(at, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        return length == RecordCodec.NULL_STRING ? -1 : at + 2;
    }

    /** @return the length in bytes of the string {@link #stringOffset} finds (0 when it has none). */
    public int stringLength(final int field)
    {
        final int length = record.getShort(stringAt(field), java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
        return length == RecordCodec.NULL_STRING ? 0 : length;
    }

    private int stringAt(final int field)
    {
        if (slot != null || field < 0 || field >= RecordCodec.STRING_COUNT)
        {
            throw new IllegalArgumentException("field=" + field + " slotView=" + (slot != null));
        }
        int at = recordOffset + SliceLog.HEADER_LENGTH;
        for (int i = 0; i < field; i++)
        {
            final int length = record.getShort(at, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
            at += 2 + (length == RecordCodec.NULL_STRING ? 0 : length);
        }
        return at;
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
        final int length = payloadLength();
        dst.putBytes(index, payloadBuffer(), payloadOffset(), length);
        return length;
    }

    /**
     * Copies the payload into a byte buffer at its position, advancing it.
     *
     * @param dst the destination, with at least {@link #payloadLength()} remaining.
     */
    public void getPayload(final ByteBuffer dst)
    {
        final int length = payloadLength();
        payloadBuffer().getBytes(payloadOffset(), dst, dst.position(), length);
        dst.position(dst.position() + length);
    }

    /** @return a copy of the payload bytes (allocates). */
    public byte[] payloadBytes()
    {
        final byte[] bytes = new byte[payloadLength()];
        payloadBuffer().getBytes(payloadOffset(), bytes);
        return bytes;
    }

    /** @return the payload decoded as UTF-8 (allocates; for tests and tools). */
    public String payloadAsString()
    {
        return new String(payloadBytes(), StandardCharsets.UTF_8);
    }

    /**
     * @return a copy that stays valid after the call that handed this view over (allocates: for tests and for
     *     applications that keep events).
     */
    public AgentEvent copy()
    {
        if (slot != null)
        {
            throw new IllegalStateException("an event being encoded cannot be copied");
        }
        final int length = record.getInt(recordOffset + SliceLog.LENGTH_OFFSET);
        final UnsafeBuffer bytes = new UnsafeBuffer(new byte[length]);
        bytes.putBytes(0, record, recordOffset, length);
        return new AgentEvent().wrapRecord(bytes, 0, userId);
    }

    private AgentEvent strings()
    {
        if (!stringsDecoded)
        {
            int at = recordOffset + SliceLog.HEADER_LENGTH;
            final String[] values = new String[RecordCodec.STRING_COUNT];
            for (int i = 0; i < RecordCodec.STRING_COUNT; i++)
            {
                final int length = record.getShort(at, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
                at += 2;
                if (length != RecordCodec.NULL_STRING)
                {
                    values[i] = Utf8.get(record, at, length);
                    at += length;
                }
            }
            type = values[0];
            runId = values[1];
            threadId = values[2];
            eventId = values[3];
            room = values[4];
            stringsDecoded = true;
        }
        return this;
    }

    @Override
    public String toString()
    {
        return "AgentEvent{user=" + userId + ", epoch=" + epoch + ", seq=" + seq + ", type=" + type() +
            ", runId=" + runId() + (room() != null ? ", room=" + room() : "") + (isBroadcast() ? ", broadcast" : "") +
            ", payloadBytes=" + payloadLength() + '}';
    }
}
