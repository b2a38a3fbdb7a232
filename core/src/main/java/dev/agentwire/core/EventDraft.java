package dev.agentwire.core;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * A reusable description of one event to publish: where it goes, what it is, and its payload bytes.
 * <p>
 * A draft belongs to one thread. Keep one per producer thread and {@link #reset()} it between events: publishing
 * copies the draft into a preallocated ring slot, so neither the draft nor the payload buffer are retained and the
 * publish path allocates nothing. Strings (ids, type) are kept by reference, never copied or parsed.
 * <p>
 * The payload is opaque to the engine. For the server it is the JSON {@code data} object; for binary events it is
 * arbitrary bytes.
 */
public final class EventDraft
{
    /** Longest accepted id (user, room, run, thread, event and tool call ids), in characters. */
    public static final int MAX_ID_LENGTH = 256;

    static final byte TARGET_NONE = 0;
    static final byte TARGET_USER = 1;
    static final byte TARGET_ROOM = 2;
    static final byte TARGET_BROADCAST = 3;

    /** Made on the first {@link #payload(byte[], int, int)}: drafts given a buffer's region never need it. */
    private UnsafeBuffer payloadView;
    byte targetKind = TARGET_NONE;
    String target;
    String type;
    String runId;
    String threadId;
    String eventId;
    String toolCallId;
    byte outcome = Outcome.NONE;
    boolean binary;
    long timestampMs;
    DirectBuffer payload;
    int payloadOffset;
    int payloadLength;
    PublishReceipt receipt;
    final Recipients recipients = new Recipients();

    /** An empty draft; keep one per producer thread. */
    public EventDraft()
    {
    }

    /**
     * Clears every field so the draft can describe the next event.
     *
     * @return this draft.
     */
    public EventDraft reset()
    {
        targetKind = TARGET_NONE;
        target = null;
        type = null;
        runId = null;
        threadId = null;
        eventId = null;
        toolCallId = null;
        outcome = Outcome.NONE;
        binary = false;
        timestampMs = 0;
        payload = null;
        payloadOffset = 0;
        payloadLength = 0;
        receipt = null;
        recipients.clear();
        return this;
    }

    /**
     * Adds a recipient whose number was assigned outside this engine, for {@link AgentWire#publishSequenced}: the
     * cluster sequencer decided who receives the event and with which (epoch, seq) in each user's stream.
     *
     * @param userId the recipient.
     * @param epoch  the epoch of the recipient's stream.
     * @param seq    the event's number in that stream.
     * @return this draft.
     */
    public EventDraft recipient(final String userId, final long epoch, final long seq)
    {
        recipients.add(userId, epoch, seq);
        return this;
    }

    /** @return how many pre-numbered recipients the draft carries. */
    public int recipientCount()
    {
        return recipients.count;
    }

    /**
     * @param userId the user whose stream receives the event.
     * @return this draft.
     */
    public EventDraft toUser(final String userId)
    {
        targetKind = TARGET_USER;
        target = userId;
        return this;
    }

    /**
     * @param room the room whose members (connected or not) each receive the event in their own stream.
     * @return this draft.
     */
    public EventDraft toRoom(final String room)
    {
        targetKind = TARGET_ROOM;
        target = room;
        return this;
    }

    /**
     * Addresses every user connected when the event is sequenced.
     *
     * @return this draft.
     */
    public EventDraft toBroadcast()
    {
        targetKind = TARGET_BROADCAST;
        target = null;
        return this;
    }

    /**
     * @param type one of {@link EventTypes} or a custom namespaced type.
     * @return this draft.
     */
    public EventDraft type(final String type)
    {
        this.type = type;
        return this;
    }

    /**
     * @param runId the run this event belongs to (required for the five agent types).
     * @return this draft.
     */
    public EventDraft runId(final String runId)
    {
        this.runId = runId;
        return this;
    }

    /**
     * @param threadId the conversation the run belongs to (optional, passed through).
     * @return this draft.
     */
    public EventDraft threadId(final String threadId)
    {
        this.threadId = threadId;
        return this;
    }

    /**
     * @param eventId an optional idempotency key, unique within the event's run (or, without a run, within its
     *                target): the same key again within the dedup window is dropped and reported duplicate.
     * @return this draft.
     */
    public EventDraft eventId(final String eventId)
    {
        this.eventId = eventId;
        return this;
    }

    /**
     * @param toolCallId the tool call id (required for {@code tool_executing} and {@code tool_completed}).
     * @return this draft.
     */
    public EventDraft toolCallId(final String toolCallId)
    {
        this.toolCallId = toolCallId;
        return this;
    }

    /**
     * @param outcome one of {@link Outcome} (required for {@code agent_completed}).
     * @return this draft.
     */
    public EventDraft outcome(final byte outcome)
    {
        this.outcome = outcome;
        return this;
    }

    /**
     * @param binary true when the payload is arbitrary bytes rather than a JSON object.
     * @return this draft.
     */
    public EventDraft binary(final boolean binary)
    {
        this.binary = binary;
        return this;
    }

    /**
     * @param timestampMs the event time in epoch milliseconds; 0 (the default) lets the engine stamp it.
     * @return this draft.
     */
    public EventDraft timestampMs(final long timestampMs)
    {
        this.timestampMs = timestampMs;
        return this;
    }

    /**
     * @param receipt told each recipient's seq once the event is sequenced (null for none, the default).
     * @return this draft.
     */
    public EventDraft receipt(final PublishReceipt receipt)
    {
        this.receipt = receipt;
        return this;
    }

    /**
     * Points the payload at a region of a buffer; the bytes are copied when the event is published.
     *
     * @param buffer holding the payload.
     * @param offset of the first byte.
     * @param length in bytes.
     * @return this draft.
     */
    public EventDraft payload(final DirectBuffer buffer, final int offset, final int length)
    {
        payload = buffer;
        payloadOffset = offset;
        payloadLength = length;
        return this;
    }

    /**
     * Points the payload at a byte array; the bytes are copied when the event is published.
     *
     * @param bytes holding the payload.
     * @param offset of the first byte.
     * @param length in bytes.
     * @return this draft.
     */
    public EventDraft payload(final byte[] bytes, final int offset, final int length)
    {
        if (payloadView == null)
        {
            payloadView = new UnsafeBuffer(bytes);
        }
        else
        {
            payloadView.wrap(bytes);
        }
        return payload(payloadView, offset, length);
    }

    /**
     * Convenience for tests and examples: encodes the text as UTF-8 (this allocates).
     *
     * @param utf8 the payload text.
     * @return this draft.
     */
    public EventDraft payload(final String utf8)
    {
        final byte[] bytes = utf8.getBytes(StandardCharsets.UTF_8);
        return payload(bytes, 0, bytes.length);
    }

    /** @return the target user or room, null for broadcast. */
    public String target()
    {
        return target;
    }

    /** @return the event type. */
    public String type()
    {
        return type;
    }

    /** @return the run id. */
    public String runId()
    {
        return runId;
    }
    /** @return true when addressed to one user ({@link #target()} is the user id). */
    public boolean isToUser()
    {
        return targetKind == TARGET_USER;
    }

    /** @return true when addressed to a room ({@link #target()} is the room). */
    public boolean isToRoom()
    {
        return targetKind == TARGET_ROOM;
    }

    /** @return true when addressed to every connected user. */
    public boolean isBroadcast()
    {
        return targetKind == TARGET_BROADCAST;
    }

    /** @return the thread id, or null. */
    public String threadId()
    {
        return threadId;
    }

    /** @return the idempotency key, or null. */
    public String eventId()
    {
        return eventId;
    }

    /** @return the tool call id, or null. */
    public String toolCallId()
    {
        return toolCallId;
    }

    /** @return one of {@link Outcome}. */
    public byte outcome()
    {
        return outcome;
    }

    /** @return true for a binary payload. */
    public boolean isBinary()
    {
        return binary;
    }

    /** @return the producer's timestamp, or 0 when the engine stamps it. */
    public long timestampMs()
    {
        return timestampMs;
    }

    /** @return the payload length in bytes. */
    public int payloadLength()
    {
        return payloadLength;
    }

    /**
     * Copies the payload into {@code into} at {@code at}, for a transport that frames it with other bytes (no
     * intermediate copy).
     *
     * @throws IndexOutOfBoundsException when {@code into} has less than {@link #payloadLength()} bytes from {@code at}.
     */
    public void copyPayload(final byte[] into, final int at)
    {
        if (payloadLength > 0)
        {
            payload.getBytes(payloadOffset, into, at, payloadLength);
        }
    }

    /** @return a copy of the payload bytes (allocates: for transports that must hand the bytes on). */
    public byte[] payloadBytes()
    {
        final byte[] bytes = new byte[payloadLength];
        if (payloadLength > 0)
        {
            payload.getBytes(payloadOffset, bytes, 0, payloadLength);
        }
        return bytes;
    }
}
