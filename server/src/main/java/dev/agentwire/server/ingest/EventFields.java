package dev.agentwire.server.ingest;

import com.fasterxml.jackson.core.JsonToken;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;

/**
 * What one event's top level and its data's top level said, as read by {@link IngestParser}, and the data rules of
 * the five agent types (which data fields each requires, and of what kind). One per parsing thread, reset per
 * event: reading an event allocates only what it keeps.
 */
final class EventFields
{
    /** The data's top-level fields the five agent types require, by index ({@link #AGENT} …). */
    static final String[] DATA_STRINGS = {"agent", "text", "tool_call_id", "tool", "outcome", "args",
        "result", "error"};
    /** The data fields as messages name them. */
    static final String[] DATA_LABELS = new String[DATA_STRINGS.length];

    static
    {
        for (int i = 0; i < DATA_STRINGS.length; i++)
        {
            DATA_LABELS[i] = "data." + DATA_STRINGS[i];
        }
    }

    static final int AGENT = 0;
    static final int TEXT = 1;
    static final int TOOL_CALL_ID = 2;
    static final int TOOL = 3;
    static final int OUTCOME = 4;
    static final int ARGS = 5;
    static final int RESULT = 6;
    static final int ERROR = 7;
    /** A data field present but not a string. */
    static final String NOT_A_STRING = new String("not a string");
    /**
     * A data field that is a string whose value nothing reads (all but tool_call_id and outcome): its length is
     * checked, and no String is made for it. An agent_thinking's text was the largest String of every such event.
     */
    static final String UNREAD = new String("a string, not read");

    String user;
    String room;
    String type;
    int typeKind;
    String runId;
    String threadId;
    String id;
    String ref;
    JsonToken broadcast;
    boolean hasData;
    int dataStart = -1;
    int dataEnd = -1;
    // The data's top-level fields the five agent types require: a string's value, or a marker that the field
    // is there but is not a string.
    final String[] strings = new String[DATA_STRINGS.length];
    final boolean[] present = new boolean[DATA_STRINGS.length];
    /** The length of each string field, read where {@link #strings} holds {@link #UNREAD}. */
    final int[] lengths = new int[DATA_STRINGS.length];
    final TypeNames types = new TypeNames();
    final NameCache names = new NameCache();

    void reset()
    {
        user = null;
        room = null;
        type = null;
        typeKind = TypeNames.INVALID;
        runId = null;
        threadId = null;
        id = null;
        ref = null;
        broadcast = null;
        hasData = false;
        dataStart = -1;
        dataEnd = -1;
        java.util.Arrays.fill(strings, null);
        java.util.Arrays.fill(present, false);
    }

    static void checkAgentData(final String type, final EventDraft event, final EventFields data, final int at)
        throws IngestParser.Invalid
    {
        switch (type)
        {
            case EventTypes.AGENT_STARTED:
                dataText(data, AGENT, at);
                break;
            case EventTypes.AGENT_THINKING:
            case EventTypes.AGENT_ANSWER:
                dataText(data, TEXT, at);
                break;
            case EventTypes.TOOL_EXECUTING:
                event.toolCallId(dataText(data, TOOL_CALL_ID, at));
                dataText(data, TOOL, at);
                if (!data.present[ARGS])
                {
                    throw new IngestParser.Invalid(IngestParser.where(at) + ".data.args is required");
                }
                break;
            case EventTypes.TOOL_COMPLETED:
                event.toolCallId(dataText(data, TOOL_CALL_ID, at));
                requireResultOrError(data, at);
                break;
            case EventTypes.AGENT_COMPLETED:
                final byte outcome = Outcome.parse(dataText(data, OUTCOME, at));
                if (outcome == Outcome.NONE)
                {
                    throw new IngestParser.Invalid(
                        IngestParser.where(at) + ".data.outcome must be success, error or cancelled");
                }
                event.outcome(outcome);
                requireResultOrError(data, at);
                break;
            default:
                throw new IllegalStateException("type=" + type);
        }
    }

    private static void requireResultOrError(final EventFields data, final int at) throws IngestParser.Invalid
    {
        if (!data.present[RESULT] && !data.present[ERROR])
        {
            throw new IngestParser.Invalid(IngestParser.where(at) + ".data needs result or error");
        }
    }

    private static String dataText(final EventFields data, final int field, final int at) throws IngestParser.Invalid
    {
        final String name = DATA_LABELS[field];
        final String value = data.strings[field];
        if (value == null)
        {
            throw new IngestParser.Invalid(IngestParser.where(at) + "." + name + " is required");
        }
        if (value == NOT_A_STRING)
        {
            throw new IngestParser.Invalid(IngestParser.where(at) + "." + name + " must be a string");
        }
        if (value == UNREAD)
        {
            IngestParser.checkLength(data.lengths[field], at, name);
            return value;
        }
        return IngestParser.checked(value, at, name);
    }
}
