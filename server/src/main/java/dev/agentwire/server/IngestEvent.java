package dev.agentwire.server;

import dev.agentwire.core.EventDraft;
import dev.agentwire.core.Outcome;

/**
 * One producer event after validation: addressing, type, ids, and the {@code data} object as compact JSON bytes
 * (or the raw bytes of a binary event).
 */
final class IngestEvent
{
    static final int TO_USER = 1;
    static final int TO_ROOM = 2;
    static final int TO_BROADCAST = 3;

    int targetKind;
    String target;
    String type;
    String runId;
    String threadId;
    String eventId;
    String toolCallId;
    byte outcome = Outcome.NONE;
    boolean binary;
    byte[] data;

    /** Fills a draft with this event (the draft keeps references; publish copies). */
    EventDraft fill(final EventDraft draft)
    {
        draft.reset();
        switch (targetKind)
        {
            case TO_USER:
                draft.toUser(target);
                break;
            case TO_ROOM:
                draft.toRoom(target);
                break;
            default:
                draft.toBroadcast();
                break;
        }
        return draft.type(type).runId(runId).threadId(threadId).eventId(eventId).toolCallId(toolCallId)
            .outcome(outcome).binary(binary).payload(data, 0, data.length);
    }
}
