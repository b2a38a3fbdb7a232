package dev.agentwire.server.agui;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.server.wire.JsonScan;
import org.agrona.DirectBuffer;

/**
 * One AgentWire event → its AG-UI group (docs/AG-UI.md, "Mapping"), every member carrying the event's cursor in
 * {@code metadata.agentwire} with its place in the group ({@code part}, {@code parts}): a client counts a seq as had
 * only once it holds all of its parts. The mapping is a function of the event alone (every event becomes a complete
 * AG-UI group), so a stream cut anywhere and resumed by cursor maps to what the whole stream maps to.
 * <p>
 * Reads the event's typed view (its record's strings, flags and payload) and copies values from where they are
 * stored: no parsing into trees, no strings decoded, nothing allocated. Stateless.
 */
final class AgUiEventMapper
{
    private static final byte[] AGENT_STARTED = ascii("agent_started");
    private static final byte[] AGENT_THINKING = ascii("agent_thinking");
    private static final byte[] AGENT_ANSWER = ascii("agent_answer");
    private static final byte[] TOOL_EXECUTING = ascii("tool_executing");
    private static final byte[] TOOL_COMPLETED = ascii("tool_completed");
    private static final byte[] AGENT_COMPLETED = ascii("agent_completed");
    private static final byte[] PREFIX = ascii(AgUiVocabulary.PREFIX);

    private static final byte[] TEXT = AgUiVocabulary.token("text");
    private static final byte[] TOOL_CALL_ID = AgUiVocabulary.token("tool_call_id");
    private static final byte[] TOOL = AgUiVocabulary.token("tool");
    private static final byte[] ARGS = AgUiVocabulary.token("args");
    private static final byte[] ERROR = AgUiVocabulary.token("error");
    private static final byte[] RESULT = AgUiVocabulary.token("result");
    private static final byte[] OUTCOME = AgUiVocabulary.token("outcome");
    private static final byte[] METADATA = AgUiVocabulary.token("metadata");
    private static final byte[] AGENTWIRE = AgUiVocabulary.token("agentwire");
    private static final byte[] OUTCOME_ERROR = AgUiVocabulary.token("error");
    private static final byte[] OUTCOME_SUCCESS = AgUiVocabulary.token("success");
    private static final byte[] OUTCOME_CANCELLED = AgUiVocabulary.token("cancelled");
    private static final byte[] STREAMED = AgUiVocabulary.token("streamed");
    private static final byte[] TRUE = ascii("true");

    private AgUiEventMapper()
    {
    }

    /** Writes the event's group at the writer's position. */
    static void map(final AgentEvent e, final AgUiFrames w)
    {
        if (e.isBinary())
        {
            binary(e, w);
            return;
        }
        final DirectBuffer src = e.frameBuffer();
        final int type = e.stringOffset(AgentEvent.TYPE);
        final int typeLength = e.stringLength(AgentEvent.TYPE);
        final int data = e.payloadOffset();
        final int dataEnd = data + e.payloadLength();
        if (startsWith(src, type, typeLength, PREFIX) && JsonScan.isObject(src, JsonScan.skipWhitespace(src, data,
            dataEnd)))
        {
            nativeEvent(e, w, src, data, dataEnd);
            return;
        }
        if (e.stringOffset(AgentEvent.RUN_ID) < 0)
        {
            custom(e, w, src, type, typeLength, data, dataEnd);
        }
        else if (is(src, type, typeLength, AGENT_STARTED))
        {
            w.begin(AgUiTokens.TYPE_RUN_STARTED);
            thread(e, w.name(AgUiTokens.THREAD_ID));
            run(e, w.name(AgUiTokens.RUN_ID));
            cursor(e, w, 0, 1);
            w.end();
        }
        else if (is(src, type, typeLength, AGENT_THINKING))
        {
            thinking(e, w, src, data, dataEnd);
        }
        else if (is(src, type, typeLength, AGENT_ANSWER))
        {
            // One event per delta, whole by itself: a chunk of the run's one assistant message (its id the run's),
            // which AG-UI clients join into one message however the stream was cut and resumed.
            w.begin(AgUiTokens.TYPE_TEXT_MESSAGE_CHUNK);
            run(e, w.name(AgUiTokens.MESSAGE_ID));
            w.name(AgUiTokens.ROLE).raw(AgUiTokens.ASSISTANT)
                .name(AgUiTokens.DELTA).text(src, JsonScan.field(src, data, dataEnd, TEXT), dataEnd, "");
            cursor(e, w, 0, 1);
            w.end();
        }
        else if (is(src, type, typeLength, TOOL_EXECUTING))
        {
            toolExecuting(e, w, src, data, dataEnd);
        }
        else if (is(src, type, typeLength, TOOL_COMPLETED))
        {
            toolCompleted(e, w, src, data, dataEnd);
        }
        else if (is(src, type, typeLength, AGENT_COMPLETED))
        {
            completed(e, w, src, data, dataEnd);
        }
        else
        {
            custom(e, w, src, type, typeLength, data, dataEnd);
        }
    }

    private static void thinking(
        final AgentEvent e, final AgUiFrames w, final DirectBuffer src, final int data, final int end)
    {
        final int text = JsonScan.field(src, data, end, TEXT);
        final boolean hasText = hasText(src, text, end);
        final int parts = hasText ? 5 : 4;
        int part = 0;
        w.begin(AgUiTokens.TYPE_REASONING_START).name(AgUiTokens.MESSAGE_ID).cursorId(e.epoch(), e.seq());
        cursor(e, w, part++, parts);
        w.end();
        w.begin(AgUiTokens.TYPE_REASONING_MESSAGE_START).name(AgUiTokens.MESSAGE_ID).cursorId(e.epoch(), e.seq())
            .name(AgUiTokens.ROLE).raw(AgUiTokens.REASONING);
        cursor(e, w, part++, parts);
        w.end();
        if (hasText)
        {
            w.begin(AgUiTokens.TYPE_REASONING_MESSAGE_CONTENT).name(AgUiTokens.MESSAGE_ID).cursorId(e.epoch(), e.seq())
                .name(AgUiTokens.DELTA).text(src, text, end, "");
            cursor(e, w, part++, parts);
            w.end();
        }
        w.begin(AgUiTokens.TYPE_REASONING_MESSAGE_END).name(AgUiTokens.MESSAGE_ID).cursorId(e.epoch(), e.seq());
        cursor(e, w, part++, parts);
        w.end();
        w.begin(AgUiTokens.TYPE_REASONING_END).name(AgUiTokens.MESSAGE_ID).cursorId(e.epoch(), e.seq());
        cursor(e, w, part, parts);
        w.end();
    }

    private static void toolExecuting(
        final AgentEvent e, final AgUiFrames w, final DirectBuffer src, final int data, final int end)
    {
        final int args = JsonScan.field(src, data, end, ARGS);
        final boolean hasArgs = !JsonScan.isNull(src, args);
        final int parts = hasArgs ? 3 : 2;
        int part = 0;
        final int callId = JsonScan.field(src, data, end, TOOL_CALL_ID);
        w.begin(AgUiTokens.TYPE_TOOL_CALL_START).name(AgUiTokens.TOOL_CALL_ID);
        callId(e, w, src, callId, end);
        w.name(AgUiTokens.TOOL_CALL_NAME).text(src, JsonScan.field(src, data, end, TOOL), end, "tool");
        cursor(e, w, part++, parts);
        w.end();
        if (hasArgs)
        {
            w.begin(AgUiTokens.TYPE_TOOL_CALL_ARGS).name(AgUiTokens.TOOL_CALL_ID);
            callId(e, w, src, callId, end);
            w.name(AgUiTokens.DELTA).valueAsString(src, args, JsonScan.skipValue(src, args, end));
            cursor(e, w, part++, parts);
            w.end();
        }
        w.begin(AgUiTokens.TYPE_TOOL_CALL_END).name(AgUiTokens.TOOL_CALL_ID);
        callId(e, w, src, callId, end);
        cursor(e, w, part, parts);
        w.end();
    }

    /** {@code data.tool_call_id}, or the event's own id when it has none. */
    private static void callId(
        final AgentEvent e, final AgUiFrames w, final DirectBuffer src, final int callId, final int end)
    {
        if (JsonScan.isNull(src, callId))
        {
            w.cursorId(e.epoch(), e.seq());
        }
        else
        {
            w.text(src, callId, end, "");
        }
    }

    private static void toolCompleted(
        final AgentEvent e, final AgUiFrames w, final DirectBuffer src, final int data, final int end)
    {
        final int error = JsonScan.field(src, data, end, ERROR);
        final int result = JsonScan.isNull(src, error) ? JsonScan.field(src, data, end, RESULT) : error;
        w.begin(AgUiTokens.TYPE_TOOL_CALL_RESULT).name(AgUiTokens.MESSAGE_ID).cursorId(e.epoch(), e.seq())
            .name(AgUiTokens.TOOL_CALL_ID);
        final int callId = JsonScan.field(src, data, end, TOOL_CALL_ID);
        if (callId == JsonScan.MISSING)
        {
            w.raw(AgUiTokens.EMPTY_STRING);
        }
        else if (JsonScan.isNull(src, callId))
        {
            w.raw(AgUiTokens.NULL_TEXT);
        }
        else
        {
            w.text(src, callId, end, "");
        }
        w.name(AgUiTokens.CONTENT);
        content(w, src, result, end);
        cursor(e, w, 0, 1);
        w.end();
    }

    /** A value as text: a string as it is, anything else as its JSON (none: empty). */
    private static void content(final AgUiFrames w, final DirectBuffer src, final int value, final int end)
    {
        if (value == JsonScan.MISSING)
        {
            w.raw(AgUiTokens.EMPTY_STRING);
        }
        else if (JsonScan.isString(src, value))
        {
            w.value(src, value, JsonScan.skipValue(src, value, end));
        }
        else
        {
            w.valueAsString(src, value, JsonScan.skipValue(src, value, end));
        }
    }

    private static void completed(
        final AgentEvent e, final AgUiFrames w, final DirectBuffer src, final int data, final int end)
    {
        final int outcome = JsonScan.field(src, data, end, OUTCOME);
        final int outcomeEnd = outcome < 0 ? -1 : JsonScan.skipValue(src, outcome, end);
        final boolean noOutcome = JsonScan.isNull(src, outcome);
        if (!noOutcome && JsonScan.equals(src, outcome, outcomeEnd, OUTCOME_ERROR))
        {
            w.begin(AgUiTokens.TYPE_RUN_ERROR).name(AgUiTokens.MESSAGE);
            content(w, src, JsonScan.field(src, data, end, ERROR), end);
            w.name(AgUiTokens.CODE).raw(AgUiTokens.AGENT_ERROR);
            cursor(e, w, 0, 1);
            w.end();
            return;
        }
        final int result = JsonScan.field(src, data, end, RESULT);
        final boolean success = noOutcome || JsonScan.equals(src, outcome, outcomeEnd, OUTCOME_SUCCESS);
        // An answer streamed with agent_answer was delivered already: the completion does not repeat it.
        final int streamed = JsonScan.field(src, data, end, STREAMED);
        final boolean repeated = streamed >= 0 && JsonScan.equals(src, streamed, JsonScan.skipValue(src, streamed, end),
            TRUE);
        final boolean answered = success && !JsonScan.isNull(src, result) && !repeated;
        final int resultEnd = result < 0 ? -1 : JsonScan.skipValue(src, result, end);
        final boolean empty = answered && JsonScan.isEmptyString(src, result, end);
        final int parts = answered ? (empty ? 3 : 4) : 1;
        int part = 0;
        if (answered)
        {
            w.begin(AgUiTokens.TYPE_TEXT_MESSAGE_START).name(AgUiTokens.MESSAGE_ID).cursorId(e.epoch(), e.seq())
                .name(AgUiTokens.ROLE).raw(AgUiTokens.ASSISTANT);
            cursor(e, w, part++, parts);
            w.end();
            if (!empty)
            {
                w.begin(AgUiTokens.TYPE_TEXT_MESSAGE_CONTENT).name(AgUiTokens.MESSAGE_ID)
                    .cursorId(e.epoch(), e.seq()).name(AgUiTokens.DELTA);
                content(w, src, result, end);
                cursor(e, w, part++, parts);
                w.end();
            }
            w.begin(AgUiTokens.TYPE_TEXT_MESSAGE_END).name(AgUiTokens.MESSAGE_ID).cursorId(e.epoch(), e.seq());
            cursor(e, w, part++, parts);
            w.end();
        }
        w.begin(AgUiTokens.TYPE_RUN_FINISHED);
        thread(e, w.name(AgUiTokens.THREAD_ID));
        run(e, w.name(AgUiTokens.RUN_ID));
        w.name(AgUiTokens.OUTCOME).open().name(AgUiTokens.TYPE)
            .raw(!noOutcome && JsonScan.equals(src, outcome, outcomeEnd, OUTCOME_CANCELLED) ?
                AgUiTokens.CANCELLED : AgUiTokens.SUCCESS)
            .close();
        if (!JsonScan.isNull(src, result))
        {
            w.name(AgUiTokens.RESULT).value(src, result, resultEnd);
        }
        cursor(e, w, part, parts);
        w.end();
    }

    /** An event that came in as AG-UI: as it was sent, its own metadata kept, the cursor added. */
    private static void nativeEvent(
        final AgentEvent e, final AgUiFrames w, final DirectBuffer src, final int data, final int end)
    {
        w.begin();
        int metadata = JsonScan.MISSING;
        for (int name = JsonScan.nextField(src, data, end); name >= 0; )
        {
            final int nameEnd = JsonScan.skipString(src, name, end);
            final int value = JsonScan.valueOf(src, name, end);
            final int valueEnd = JsonScan.skipValue(src, value, end);
            if (JsonScan.equals(src, name, nameEnd, METADATA))
            {
                metadata = value;
            }
            else
            {
                w.rawName(src, name, nameEnd).value(src, value, valueEnd);
            }
            name = JsonScan.nextField(src, valueEnd, end);
        }
        w.name(AgUiTokens.METADATA).open();
        if (JsonScan.isObject(src, metadata))
        {
            for (int name = JsonScan.nextField(src, metadata, end); name >= 0; )
            {
                final int nameEnd = JsonScan.skipString(src, name, end);
                final int value = JsonScan.valueOf(src, name, end);
                final int valueEnd = JsonScan.skipValue(src, value, end);
                if (!JsonScan.equals(src, name, nameEnd, AGENTWIRE))
                {
                    w.rawName(src, name, nameEnd).value(src, value, valueEnd);
                }
                name = JsonScan.nextField(src, valueEnd, end);
            }
        }
        w.name(AgUiTokens.AGENTWIRE);
        cursorObject(e, w, 0, 1);
        w.close();
        w.end();
    }

    private static void custom(final AgentEvent e, final AgUiFrames w, final DirectBuffer src, final int type,
        final int typeLength, final int data, final int end)
    {
        w.begin(AgUiTokens.TYPE_CUSTOM).name(AgUiTokens.NAME).utf8(src, type, typeLength).name(AgUiTokens.VALUE);
        final int value = JsonScan.skipWhitespace(src, data, end);
        if (value >= end)
        {
            w.raw(AgUiTokens.NULL);
        }
        else
        {
            w.value(src, value, end);
        }
        cursor(e, w, 0, 1);
        w.end();
    }

    /** A binary event (its {@code /v1/ws} frame's header and payload) as {@code CUSTOM agentwire.binary}, base64. */
    private static void binary(final AgentEvent e, final AgUiFrames w)
    {
        final DirectBuffer frame = e.frameBuffer();
        final int at = e.frameOffset();
        final int lengthByte = frame.getByte(at + 1) & 0x7F;
        final int header = lengthByte == 127 ? 10 : lengthByte == 126 ? 4 : 2;
        w.begin(AgUiTokens.TYPE_CUSTOM).name(AgUiTokens.NAME).raw(AgUiTokens.AGENTWIRE_BINARY)
            .name(AgUiTokens.VALUE).open()
            .name(AgUiTokens.FRAME).base64(frame, at + header, e.frameLength() - header).close()
            .name(AgUiTokens.METADATA).open().name(AgUiTokens.AGENTWIRE).open()
            .name(AgUiTokens.SEQ).number(e.seq())
            .name(AgUiTokens.EPOCH).number(e.epoch())
            .name(AgUiTokens.PART).number(0)
            .name(AgUiTokens.PARTS).number(1)
            .close().close();
        w.end();
    }

    /** {@code [timestamp,] metadata: {agentwire: cursor}}: what every mapped event ends with. */
    private static void cursor(final AgentEvent e, final AgUiFrames w, final int part, final int parts)
    {
        if (e.timestampMs() > 0)
        {
            w.name(AgUiTokens.TIMESTAMP).number(e.timestampMs());
        }
        w.name(AgUiTokens.METADATA).open().name(AgUiTokens.AGENTWIRE);
        cursorObject(e, w, part, parts);
        w.close();
    }

    /** The {@code metadata.agentwire} object. */
    private static void cursorObject(final AgentEvent e, final AgUiFrames w, final int part, final int parts)
    {
        w.open()
            .name(AgUiTokens.SEQ).number(e.seq())
            .name(AgUiTokens.EPOCH).number(e.epoch())
            .name(AgUiTokens.PART).number(part)
            .name(AgUiTokens.PARTS).number(parts);
        if (e.stringOffset(AgentEvent.RUN_ID) >= 0)
        {
            run(e, w.name(AgUiTokens.RUN_ID));
            thread(e, w.name(AgUiTokens.THREAD_ID));
        }
        final DirectBuffer src = e.frameBuffer();
        final int room = e.stringOffset(AgentEvent.ROOM);
        if (room >= 0)
        {
            w.name(AgUiTokens.ROOM).utf8(src, room, e.stringLength(AgentEvent.ROOM));
        }
        if (e.isBroadcast())
        {
            w.name(AgUiTokens.BROADCAST).raw(AgUiTokens.TRUE);
        }
        final int id = e.stringOffset(AgentEvent.EVENT_ID);
        if (id >= 0)
        {
            w.name(AgUiTokens.ID).utf8(src, id, e.stringLength(AgentEvent.EVENT_ID));
        }
        w.close();
    }

    private static void run(final AgentEvent e, final AgUiFrames w)
    {
        w.utf8(e.frameBuffer(), e.stringOffset(AgentEvent.RUN_ID), e.stringLength(AgentEvent.RUN_ID));
    }

    /** The thread, or the run when the event names none (a run is its own thread then). */
    private static void thread(final AgentEvent e, final AgUiFrames w)
    {
        final int field = e.stringOffset(AgentEvent.THREAD_ID) >= 0 ? AgentEvent.THREAD_ID : AgentEvent.RUN_ID;
        w.utf8(e.frameBuffer(), e.stringOffset(field), e.stringLength(field));
    }

    /** @return true when a thinking event's text is not empty (Jackson's {@code asText("")} is not). */
    private static boolean hasText(final DirectBuffer src, final int text, final int end)
    {
        if (JsonScan.isNull(src, text))
        {
            return false;
        }
        final byte first = src.getByte(text);
        return first != '{' && first != '[' && !JsonScan.isEmptyString(src, text, end);
    }

    static boolean is(final DirectBuffer src, final int at, final int length, final byte[] expected)
    {
        return at >= 0 && JsonScan.equals(src, at, at + length, expected);
    }

    static boolean startsWith(final DirectBuffer src, final int at, final int length, final byte[] prefix)
    {
        return at >= 0 && length >= prefix.length && JsonScan.equals(src, at, at + prefix.length, prefix);
    }

    private static byte[] ascii(final String text)
    {
        return text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
