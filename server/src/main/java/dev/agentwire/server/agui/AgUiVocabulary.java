package dev.agentwire.server.agui;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * AG-UI's words, stated once for the whole server: the type prefix native events carry on the stream, the parts a
 * run holds open (each start event, the field that names the part, its content and end events) and the fields AG-UI
 * defines for a start event. The ingest rules ({@link AgUiRules}), the outbound mapping ({@link AgUiOutboundStage})
 * and the prelude ({@link AgUiPrelude}) read them from here; {@code clients/js/src/agent.ts} states the same pairs
 * for the browser, and a test compares the two.
 */
final class AgUiVocabulary
{
    /** Native AG-UI events ({@code POST /v1/ag-ui/events}) are custom types {@code ag-ui.<type in lower case>}. */
    static final String PREFIX = "ag-ui.";

    /** Every AG-UI 1.0 event type; anything else is refused. */
    static final Set<String> TYPES = Set.of("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
        "TEXT_MESSAGE_CHUNK", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_CHUNK",
        "TOOL_CALL_RESULT", "STATE_SNAPSHOT", "STATE_DELTA", "MESSAGES_SNAPSHOT", "ACTIVITY_SNAPSHOT", "ACTIVITY_DELTA",
        "RAW", "CUSTOM", "RUN_STARTED", "RUN_FINISHED", "RUN_ERROR", "STEP_STARTED", "STEP_FINISHED", "REASONING_START",
        "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END", "REASONING_MESSAGE_CHUNK",
        "REASONING_END", "REASONING_ENCRYPTED_VALUE", "SUBAGENT_STARTED", "SUBAGENT_FINISHED", "SUBAGENT_ERROR");

    /** Start event type → the field whose value names the part it opens. In AG-UI's order of kinds. */
    static final Map<String, String> OPENS = ordered(
        "TEXT_MESSAGE_START", "messageId",
        "TOOL_CALL_START", "toolCallId",
        "REASONING_START", "messageId",
        "REASONING_MESSAGE_START", "messageId",
        "STEP_STARTED", "stepName");

    /** End event type → the start event type it closes. */
    static final Map<String, String> CLOSES = ordered(
        "TEXT_MESSAGE_END", "TEXT_MESSAGE_START",
        "TOOL_CALL_END", "TOOL_CALL_START",
        "REASONING_END", "REASONING_START",
        "REASONING_MESSAGE_END", "REASONING_MESSAGE_START",
        "STEP_FINISHED", "STEP_STARTED");

    /** Content event type → the start event type whose part it continues (the part must be open). */
    static final Map<String, String> CONTINUES = ordered(
        "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_START",
        "TOOL_CALL_ARGS", "TOOL_CALL_START",
        "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_START");

    /** The fields AG-UI defines for start events: what the prelude re-opens a part with, nothing else. */
    static final String[] START_FIELDS = {"type", "messageId", "role", "name", "toolCallId", "toolCallName",
        "parentMessageId", "stepName", "timestamp"};

    /** Event types that end a run. */
    static final String RUN_STARTED = "RUN_STARTED";
    static final String RUN_FINISHED = "RUN_FINISHED";
    static final String RUN_ERROR = "RUN_ERROR";

    private AgUiVocabulary()
    {
    }

    /** @return the stream type of a native event ({@code TEXT_MESSAGE_START} → {@code ag-ui.text_message_start}). */
    static String streamType(final String agUiType)
    {
        return PREFIX + agUiType.toLowerCase(Locale.ROOT);
    }

    /** @return a native stream type's AG-UI type: {@code ag-ui.text_message_start} → {@code TEXT_MESSAGE_START}. */
    static String agUiType(final String streamType)
    {
        return streamType.substring(PREFIX.length()).toUpperCase(Locale.ROOT);
    }

    /** @return a part kind as rules name it: {@code tool_call} for {@code TOOL_CALL_START}, {@code step} for steps. */
    static String kind(final String startType)
    {
        final String lower = startType.toLowerCase(Locale.ROOT);
        return lower.substring(0, lower.lastIndexOf('_'));
    }

    /** @return {@code text} as the JSON string token it is written as (for comparing names without decoding). */
    static byte[] token(final String text)
    {
        return ('"' + text + '"').getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, String> ordered(final String... pairs)
    {
        final Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2)
        {
            map.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(map);
    }
}
