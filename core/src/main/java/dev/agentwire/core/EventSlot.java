package dev.agentwire.core;

import org.agrona.ExpandableArrayBuffer;

/**
 * One preallocated ring slot. Producers fill it in place; every slice reads it; nobody keeps it.
 * <p>
 * Events and commands (subscribe, unsubscribe, join, leave, tick, shutdown) share the slot type so that they
 * travel one ring and are ordered against each other for free: a subscribe is sequenced exactly between two
 * events, which is what makes resume gapless without any lock.
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

    /** Slice index meaning "every slice has work for this slot". */
    static final int ALL_SLICES = -1;

    static final int INITIAL_PAYLOAD_CAPACITY = 256;

    final ExpandableArrayBuffer payload = new ExpandableArrayBuffer(INITIAL_PAYLOAD_CAPACITY);

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
    int payloadLength;
    Subscription subscription;
    ReceiptTracker receipt;
    long resumeEpoch;
    long resumeAfter;
    Backfill backfill;
    // Pre-numbered recipients (replica mode), copied from the draft.
    final Recipients recipients = new Recipients();

    /** Commands carry no event fields; clearing them lets the old event's strings be collected. */
    void clearForCommand(final int kind, final int slice)
    {
        this.kind = kind;
        this.slice = slice;
        targetKind = EventDraft.TARGET_NONE;
        target = null;
        room = null;
        type = null;
        runId = null;
        threadId = null;
        eventId = null;
        binary = false;
        payloadLength = 0;
        subscription = null;
        receipt = null;
        resumeEpoch = 0;
        resumeAfter = Subscription.LIVE;
        backfill = null;
        recipients.clear();
    }
}
