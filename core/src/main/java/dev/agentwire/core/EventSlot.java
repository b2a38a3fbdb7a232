package dev.agentwire.core;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One preallocated ring slot. Producers fill it in place; every slice reads it; nobody keeps it, and the slot itself
 * lets go of an event's objects as soon as its last reader is done ({@link #readBy}).
 * <p>
 * Events and commands (subscribe, unsubscribe, join, leave, tick, shutdown, backfill) share the slot type so that
 * they travel one ring and are ordered against each other for free: a subscribe is sequenced exactly between two
 * events, which is what makes resume gapless without any lock.
 * <p>
 * A payload of up to {@link #INLINE_PAYLOAD_BYTES} is copied into the slot's own bytes; a larger one into a buffer
 * lent by the {@link PayloadPool}, which the last slice to read the slot gives back, so a slot never holds more
 * than its inline bytes once it is read.
 */
final class EventSlot
{
    static final int KIND_EVENT = 1;
    static final int KIND_SUBSCRIBE = 2;
    static final int KIND_UNSUBSCRIBE = 3;
    static final int KIND_JOIN = 4;
    static final int KIND_LEAVE = 5;
    static final int KIND_TICK = 6;
    static final int KIND_SHUTDOWN = 7;
    static final int KIND_BACKFILL = 8;
    static final int KIND_HEAD = 9;

    /** Slice index meaning "every slice has work for this slot". */
    static final int ALL_SLICES = -1;

    /** Payload bytes a slot holds itself; larger ones are lent by the pool. */
    static final int INLINE_PAYLOAD_BYTES = 256;

    private static final System.Logger LOG = System.getLogger(EventSlot.class.getName());
    private static final VarHandle READERS_LEFT;

    static
    {
        try
        {
            READERS_LEFT = MethodHandles.lookup().findVarHandle(EventSlot.class, "readersLeft", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final UnsafeBuffer inline = new UnsafeBuffer(new byte[INLINE_PAYLOAD_BYTES]);
    private final UnsafeBuffer largeView = new UnsafeBuffer(new byte[0]);
    /** The pool's buffer while the slot holds a large payload, else null. */
    byte[] large;
    @SuppressWarnings("unused")
    private int readersLeft;

    int kind;
    int slice;
    byte targetKind;
    String target;
    String room;
    String type;
    String runId;
    String threadId;
    String eventId;
    boolean binary;
    long timestampMs;
    long publishNs;
    long position;
    int payloadLength;
    Subscription subscription;
    /** The event's receipt, or null: told each recipient's seq by the slices, completed by the last reader. */
    PublishReceipt receipt;
    long resumeEpoch;
    long resumeAfter;
    Backfill backfill;
    // Pre-numbered recipients (replica mode), copied from the draft. Their count is kept in the slot itself: most
    // events have none, and then neither the producer nor any slice loads the list's own cache lines.
    private final Recipients recipients = new Recipients();
    int recipientCount;

    /** Takes a draft's pre-numbered recipients (none for an event this engine numbers itself). */
    void recipientsFrom(final Recipients source)
    {
        if (source.count > 0 || recipientCount > 0)
        {
            recipients.copyFrom(source);
        }
        recipientCount = source.count;
    }

    /** @return the pre-numbered recipients; read only when {@link #recipientCount} is above 0. */
    Recipients recipients()
    {
        return recipients;
    }

    /** @return the payload's bytes, at offset 0. */
    DirectBuffer payload()
    {
        return large != null ? largeView : inline;
    }

    /**
     * Copies a payload into the slot: its own bytes, or the large buffer the publisher borrowed for it.
     *
     * @param largeBuffer from the pool when the payload is over {@link #INLINE_PAYLOAD_BYTES}, else null.
     * @param readers     slices that will read the slot: the last one lets go of the event ({@link #readBy}).
     */
    void putPayload(final DirectBuffer src, final int offset, final int length, final byte[] largeBuffer,
        final int readers)
    {
        payloadLength = length;
        large = largeBuffer;
        READERS_LEFT.setRelease(this, readers);
        if (largeBuffer != null)
        {
            largeView.wrap(largeBuffer);
            largeView.putBytes(0, src, offset, length);
        }
        else if (length > 0)
        {
            inline.putBytes(0, src, offset, length);
        }
    }

    /**
     * A slice is done with the event in this slot. The last of its readers (the only one, for an event to one user)
     * completes the event's receipt, every recipient numbered, and lets go of all the event referred to: a large
     * payload's buffer goes back to the pool, and the strings, the receipt and the pre-numbered recipients are
     * dropped. The count of readers left is the one the receipt waits on too, so a receipt costs no counter of its
     * own. Without this they lived until the ring came round to the slot again (65,536 events: seconds at a high
     * rate), long enough for a collector to find them live and copy them: G1's young pauses at 10,000 connections
     * took 25-50 ms, copying the ingest's objects that slots held.
     */
    void readBy(final PayloadPool pool)
    {
        if (slice == ALL_SLICES && (int)READERS_LEFT.getAndAdd(this, -1) != 1)
        {
            return;
        }
        if (large != null)
        {
            final byte[] buffer = large;
            large = null;
            largeView.wrap(inline.byteArray());
            pool.giveBack(buffer);
        }
        dropStrings();
        if (receipt != null)
        {
            final PublishReceipt done = receipt;
            receipt = null;
            try
            {
                done.onComplete();
            }
            catch (final RuntimeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "publish receipt failed on complete", ex);
            }
        }
        if (recipientCount > 0)
        {
            recipients.clear();
            recipientCount = 0;
        }
    }

    /** Tells the event's receipt, if any, one recipient's number; a failing receipt is logged, never thrown. */
    void sequenced(final String userId, final long epoch, final long seq)
    {
        if (receipt == null)
        {
            return;
        }
        try
        {
            receipt.onSequenced(userId, epoch, seq);
        }
        catch (final RuntimeException ex)
        {
            LOG.log(System.Logger.Level.WARNING, "publish receipt failed: user=" + userId + ", seq=" + seq, ex);
        }
    }

    private void dropStrings()
    {
        target = null;
        room = null;
        type = null;
        runId = null;
        threadId = null;
        eventId = null;
    }

    /**
     * The one slice a command was for has handled it: the slot lets go of the subscription and backfill it carried.
     * Otherwise a closed connection stayed reachable through its subscribe and unsubscribe slots until the ring came
     * round to them, which on a quiet server can be hours.
     */
    void commandDone()
    {
        subscription = null;
        backfill = null;
        dropStrings();
    }

    /**
     * Points this slot at a stored event (a replica's backfill) so an encoder can make its frame: a carrier that no
     * ring owns, whose payload is the entry's own array (never the pool's).
     */
    void carry(final Backfill.Entry entry)
    {
        kind = KIND_EVENT;
        targetKind = entry.room != null ? EventDraft.TARGET_ROOM :
            entry.broadcast ? EventDraft.TARGET_BROADCAST : EventDraft.TARGET_USER;
        target = entry.room;
        type = entry.type;
        runId = entry.runId;
        threadId = entry.threadId;
        eventId = entry.eventId;
        binary = entry.binary;
        timestampMs = entry.timestampMs;
        publishNs = 0;
        position = -1;
        payloadLength = entry.payload.length;
        large = entry.payload;
        largeView.wrap(entry.payload);
    }

    /** @return the room an event was sent to, or null. */
    String room()
    {
        return targetKind == EventDraft.TARGET_ROOM ? target : null;
    }

    /** Commands carry no event fields; clearing them lets the old event's strings be collected. */
    void clearForCommand(final int kind, final int slice)
    {
        this.kind = kind;
        this.slice = slice;
        targetKind = EventDraft.TARGET_NONE;
        dropStrings();
        binary = false;
        payloadLength = 0;
        large = null;
        subscription = null;
        receipt = null;
        resumeEpoch = 0;
        resumeAfter = Subscription.LIVE;
        backfill = null;
        if (recipientCount > 0)
        {
            recipients.clear();
            recipientCount = 0;
        }
    }
}
