package dev.agentwire.server.user;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.websocket.WebSocketFrames;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.io.ExpandableDirectBufferOutputStream;

import java.io.IOException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns one connection's {@code /v1/ws} frames into AG-UI events ({@code GET /v1/ag-ui}, docs/AG-UI.md): every
 * output text frame is one AG-UI event, carrying its AgentWire cursor in {@code metadata.agentwire}.
 * <p>
 * The mapping is a function of each event alone: every AgentWire event becomes a complete AG-UI group (a tool call's
 * START/ARGS/END, a reasoning span, the final text message), so the translation of a stream cut anywhere and resumed
 * by cursor is the translation of the whole stream, and each run verifies with AG-UI's {@code verifyEvents}. The one
 * thing a client can miss by joining late is a run's {@code RUN_STARTED}: a connection opened without a cursor first
 * reads the user's history silently and then sends a <em>prelude</em>, a {@code RUN_STARTED} marked
 * {@code metadata.agentwire.prelude: true} for every run still open, before live events.
 * <p>
 * Cost: unlike {@code /v1/ws}, where frames are made once and copied, this path parses and encodes per connection
 * (a few allocations per event); it serves AG-UI front ends, not the fan-out hot path. Threading: the connection's I/O
 * thread only.
 */
final class AgUiTranslator
{
    /** Events that came in as AG-UI ({@code POST /v1/ag-ui/events}) are delivered as they were sent. */
    private static final String NATIVE_PREFIX = "ag-ui.";

    /** No prelude: frames are translated as they come. */
    private static final int PASS = 0;
    /** Opened without a cursor: waiting for the welcome that says where live begins. */
    private static final int AWAIT_WELCOME = 1;
    /** Reading the replayed history silently, up to {@link #liveSeq}, to learn the open runs. */
    private static final int TRACKING = 2;
    /** Writing the prelude, piece by piece ({@link #writeBacklog}); live frames wait behind it. */
    private static final int PRELUDE = 3;

    /** Largest output buffer an I/O thread keeps between translations (a larger one is dropped after use). */
    static final int RETAINED_BYTES = 1 << 20;
    private static final ExpandableArrayBuffer EMPTY = new ExpandableArrayBuffer(0);
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[16 * 1024]);

    /** What a native start event is re-opened with in the prelude: the fields AG-UI defines for start events. */
    private static final String[] START_FIELDS = {"type", "messageId", "role", "name", "toolCallId", "toolCallName",
        "parentMessageId", "stepName", "timestamp"};

    /** Runs seen while tracking: run id → thread id and the seq of the event that showed it first. */
    private static final class OpenRun
    {
        final String threadId;
        final long seq;
        final long epoch;
        /**
         * Native AG-UI parts still open (a text message, tool call, reasoning span or message, step): kind and id →
         * the seq of their start event and the event. The prelude opens them again, so what follows verifies.
         */
        final Map<String, JsonNode> openParts = new LinkedHashMap<>();
        final Map<String, Long> openPartSeqs = new HashMap<>();

        OpenRun(final String threadId, final long seq, final long epoch)
        {
            this.threadId = threadId;
            this.seq = seq;
            this.epoch = epoch;
        }
    }

    /** Native start and end event types (lower case, as on the stream) and the id field that pairs them. */
    private static final Map<String, String> NATIVE_OPENS = Map.of(
        "text_message_start", "messageId", "tool_call_start", "toolCallId", "reasoning_start", "messageId",
        "reasoning_message_start", "messageId", "step_started", "stepName");
    private static final Map<String, String> NATIVE_CLOSES = Map.of(
        "text_message_end", "text_message_start", "tool_call_end", "tool_call_start", "reasoning_end",
        "reasoning_start", "reasoning_message_end", "reasoning_message_start", "step_finished", "step_started");

    /**
     * The output is the I/O thread's, not the connection's: it is copied to the socket right after each call, and a
     * buffer per connection would keep the largest drain it ever translated (measured: 30 KiB per idle connection).
     */
    private static final ThreadLocal<ExpandableArrayBuffer> OUTPUT =
        ThreadLocal.withInitial(() -> new ExpandableArrayBuffer(4096));
    private static final ThreadLocal<ExpandableDirectBufferOutputStream> STREAM =
        ThreadLocal.withInitial(ExpandableDirectBufferOutputStream::new);
    private ExpandableArrayBuffer out;
    private ExpandableDirectBufferOutputStream json;
    private final Map<String, OpenRun> openRuns = new LinkedHashMap<>();
    private int mode;
    private long liveSeq;
    // The prelude being written: the runs still to open, the run being opened and its parts still to open.
    private Iterator<Map.Entry<String, OpenRun>> preludeRuns;
    private Map.Entry<String, OpenRun> preludeRun;
    private Iterator<Map.Entry<String, JsonNode>> preludeParts;
    // Frames that arrived behind the prelude (null when none wait).
    private ExpandableArrayBuffer held;
    private int heldLength;
    // The replay's resumed notice was read: from here the subscription is attached and its queue is the replay.
    private boolean replayStarted;
    private int length;
    // The AG-UI events of the AgentWire event being mapped: how many, and which one is being written. A client
    // counts a seq as had only once it holds all of its parts (a socket can drop between two of them).
    private int groupSize = 1;
    private int part;

    /**
     * @param prelude true for a connection opened without a cursor: it subscribes from the start of the user's
     *                history, and the translator turns that history into the prelude.
     */
    AgUiTranslator(final boolean prelude)
    {
        mode = prelude ? AWAIT_WELCOME : PASS;
    }

    /** @return the bytes of the last {@link #translate}'s output (valid until the next call on this thread). */
    DirectBuffer output()
    {
        return OUTPUT.get();
    }

    /**
     * Translates a run of complete server→client WebSocket frames.
     *
     * @return the length of the output in {@link #output()} (0 when every frame was absorbed by the prelude).
     */
    int translate(final DirectBuffer src, final int offset, final int srcLength)
    {
        begin();
        translateFrames(src, offset, srcLength);
        return finish();
    }

    private void translateFrames(final DirectBuffer src, final int offset, final int srcLength)
    {
        int at = offset;
        final int end = offset + srcLength;
        while (at < end)
        {
            if (mode == PRELUDE || held != null)
            {
                // Nothing overtakes the prelude, nor the frames already waiting behind it.
                hold(src, at, end - at);
                return;
            }
            final int b0 = src.getByte(at) & 0xFF;
            final int b1 = src.getByte(at + 1) & 0x7F;
            int header = 2;
            long payload = b1;
            if (b1 == 126)
            {
                payload = ((src.getByte(at + 2) & 0xFF) << 8) | (src.getByte(at + 3) & 0xFF);
                header = 4;
            }
            else if (b1 == 127)
            {
                payload = src.getLong(at + 2, java.nio.ByteOrder.BIG_ENDIAN);
                header = 10;
            }
            final int payloadOffset = at + header;
            final int payloadLength = (int)payload;
            final int opcode = b0 & 0x0F;
            boolean consumed = true;
            if (opcode == WebSocketFrames.TEXT)
            {
                consumed = onJson(src, payloadOffset, payloadLength);
            }
            else if (opcode == WebSocketFrames.BINARY)
            {
                consumed = onBinary(src, payloadOffset, payloadLength);
            }
            else
            {
                copyFrame(src, at, header + payloadLength);
            }
            if (!consumed)
            {
                // The first live event: it follows the prelude, which has just begun.
                hold(src, at, end - at);
                return;
            }
            at = payloadOffset + payloadLength;
        }
    }

    /** Keeps frames that arrived behind the prelude: at most one drain's worth, once per connection. */
    private void hold(final DirectBuffer src, final int offset, final int bytes)
    {
        if (held == null)
        {
            held = new ExpandableArrayBuffer(Math.max(1024, bytes));
        }
        held.putBytes(heldLength, src, offset, bytes);
        heldLength += bytes;
    }

    /** The I/O thread's output buffer, renewed when one large translation left it over {@link #RETAINED_BYTES}. */
    private void begin()
    {
        ExpandableArrayBuffer buffer = OUTPUT.get();
        if (buffer.capacity() > RETAINED_BYTES)
        {
            buffer = new ExpandableArrayBuffer(4096);
            OUTPUT.set(buffer);
        }
        out = buffer;
        json = STREAM.get();
        length = 0;
    }

    /** @return the output's length; the connection keeps no reference to the thread's buffers between calls. */
    private int finish()
    {
        out = null;
        json.wrap(EMPTY);
        json = null;
        return length;
    }

    /** @return false when the frame is the first live one and waits behind the prelude that just began. */
    private boolean onJson(final DirectBuffer src, final int offset, final int payloadLength)
    {
        // The frame's bytes, in the I/O thread's scratch array: parsing copies what it keeps, so one array serves all.
        byte[] bytes = SCRATCH.get();
        if (bytes.length < payloadLength)
        {
            bytes = new byte[Math.max(payloadLength, bytes.length * 2)];
            if (bytes.length <= RETAINED_BYTES)
            {
                SCRATCH.set(bytes);
            }
        }
        src.getBytes(offset, bytes, 0, payloadLength);
        if (mode == TRACKING)
        {
            // History read for the prelude: only the envelope and a native start's own fields matter, so the rest
            // of the data is skipped unread (a prelude used to parse every byte of the user's history into trees).
            final JsonNode scanned = scanned(bytes, payloadLength);
            if (scanned != null)
            {
                return isHistory(scanned.path("seq").asLong(), scanned);
            }
        }
        final JsonNode m;
        try
        {
            // Data numbers stay as sent (1e400 is not "Infinity"): the event's data is passed through, byte for byte.
            m = Json.readExact(bytes, 0, payloadLength, Json.Numbers.IN_DATA);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("the server made a frame that is not JSON", ex);
        }
        if (m.has("seq") && m.has("epoch") && m.has("data") && m.has("type"))
        {
            return onEvent(m);
        }
        final String type = m.path("type").asText();
        switch (type)
        {
            case "welcome":
                if (mode == AWAIT_WELCOME)
                {
                    liveSeq = m.path("seq").asLong();
                    mode = TRACKING;
                }
                else
                {
                    // A client's own resume: what follows is its cursor's replay, translated as it comes.
                    mode = PASS;
                    openRuns.clear();
                }
                control("agentwire.welcome", m);
                break;
            case "resumed":
                if (mode == TRACKING)
                {
                    // The client asked for no resume: this replay is the prelude's source, not news for it.
                    replayStarted = true;
                    if (m.path("to").asLong() < m.path("from").asLong() || liveSeq == 0)
                    {
                        prelude();
                    }
                    break;
                }
                control("agentwire.resumed", m);
                break;
            default:
                control("agentwire." + type, m);
                break;
        }
        return true;
    }

    /**
     * Called after a drain that left nothing queued: when the history's last events were passed over (a room this
     * connection's token does not list), the live point is reached without the event the welcome named.
     *
     * @return true when the prelude begins ({@link #writeBacklog} writes it).
     */
    boolean replayExhausted()
    {
        if (mode == TRACKING && replayStarted)
        {
            prelude();
            return true;
        }
        return false;
    }

    private boolean onEvent(final JsonNode m)
    {
        if (mode == TRACKING)
        {
            return isHistory(m.path("seq").asLong(), m);
        }
        map(m);
        return true;
    }

    /**
     * While tracking: an event up to the live point is history, read for the prelude (and the prelude follows the
     * last of it); one past it means history ended early (events withheld or evicted) and live starts with it.
     *
     * @param m the event to track, or null for one that cannot open a run (binary).
     * @return true when the event was history (read, not sent); false for the first live one, which waits behind
     *         the prelude that has just begun.
     */
    private boolean isHistory(final long seq, final JsonNode m)
    {
        if (seq > liveSeq)
        {
            prelude();
            return false;
        }
        if (m != null)
        {
            track(m);
        }
        if (seq == liveSeq)
        {
            prelude();
        }
        return true;
    }

    private void track(final JsonNode m)
    {
        final String runId = text(m, "run_id");
        if (runId == null)
        {
            return;
        }
        final String type = m.path("type").asText();
        if ("agent_completed".equals(type) || (NATIVE_PREFIX + "run_finished").equals(type) ||
            (NATIVE_PREFIX + "run_error").equals(type))
        {
            openRuns.remove(runId);
        }
        else if (isAgentEvent(type))
        {
            OpenRun run = openRuns.get(runId);
            if (run == null)
            {
                run = new OpenRun(threadOf(m, runId), m.path("seq").asLong(), m.path("epoch").asLong());
                openRuns.put(runId, run);
            }
            if (type.startsWith(NATIVE_PREFIX))
            {
                trackPart(run, type.substring(NATIVE_PREFIX.length()), m);
            }
        }
    }

    private static void trackPart(final OpenRun run, final String nativeType, final JsonNode m)
    {
        final JsonNode event = m.path("data");
        final String idField = NATIVE_OPENS.get(nativeType);
        if (idField != null)
        {
            final String key = nativeType + ':' + event.path(idField).asText();
            run.openParts.put(key, startFields(event));
            run.openPartSeqs.put(key, m.path("seq").asLong());
            return;
        }
        final String opener = NATIVE_CLOSES.get(nativeType);
        if (opener != null)
        {
            final String key = opener + ':' + event.path(NATIVE_OPENS.get(opener)).asText();
            run.openParts.remove(key);
            run.openPartSeqs.remove(key);
        }
    }

    /**
     * An event's envelope (its top-level scalars) with, as {@code data}, only the {@link #START_FIELDS} among the
     * data's scalars; everything else is skipped without being decoded.
     *
     * @return the trimmed event, or null for a frame that is not an event (a control frame, parsed whole).
     */
    private static JsonNode scanned(final byte[] bytes, final int length)
    {
        final ObjectNode m = Json.MAPPER.createObjectNode();
        boolean hasData = false;
        try (JsonParser p = Json.FACTORY.createParser(bytes, 0, length))
        {
            if (p.nextToken() != JsonToken.START_OBJECT)
            {
                return null;
            }
            for (String name = p.nextFieldName(); name != null; name = p.nextFieldName())
            {
                final JsonToken value = p.nextToken();
                if ("data".equals(name) && value == JsonToken.START_OBJECT)
                {
                    hasData = true;
                    m.set("data", scannedStartFields(p));
                }
                else if (value.isScalarValue())
                {
                    m.set(name, Json.scalar(p, value, false)); // the envelope's seq, epoch and ts are numbers
                }
                else
                {
                    hasData |= "data".equals(name);
                    p.skipChildren();
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("the server made a frame that is not JSON", ex);
        }
        return hasData && m.has("seq") && m.has("epoch") && m.has("type") ? m : null;
    }

    private static JsonNode scannedStartFields(final JsonParser p) throws IOException
    {
        final ObjectNode kept = Json.MAPPER.createObjectNode();
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName())
        {
            final JsonToken value = p.nextToken();
            if (value.isScalarValue() && isStartField(name))
            {
                kept.set(name, Json.scalar(p, value, true));
            }
            else
            {
                p.skipChildren();
            }
        }
        return kept;
    }

    private static boolean isStartField(final String name)
    {
        for (final String field : START_FIELDS)
        {
            if (field.equals(name))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * The fields AG-UI defines for a start event, and nothing else: what the prelude re-opens a part with. Fields a
     * producer added (unchecked, up to the message size each) are not kept while tracking nor repeated in the
     * prelude: before, a history of large start events held every one of them, parsed, per connection, and the
     * prelude repeated them all at once (an audit reached 60 MB per prelude and an OutOfMemoryError). Ids are bounded
     * at ingest, so a tracked part costs a few hundred bytes at most.
     */
    private static JsonNode startFields(final JsonNode event)
    {
        final ObjectNode kept = Json.MAPPER.createObjectNode();
        for (final String field : START_FIELDS)
        {
            final JsonNode value = event.get(field);
            if (value != null && value.isValueNode())
            {
                kept.set(field, value);
            }
        }
        return kept;
    }

    /** Begins the prelude: from here, {@link #writeBacklog} writes it piece by piece, within the send window. */
    private void prelude()
    {
        mode = PRELUDE;
        preludeRuns = openRuns.entrySet().iterator();
        preludeParts = null;
        preludeRun = null;
    }

    /** @return true while the user's history is being read for the prelude. */
    boolean isTracking()
    {
        return mode == TRACKING || mode == AWAIT_WELCOME;
    }

    /** @return true while the prelude, or live frames held behind it, wait to be written ({@link #writeBacklog}). */
    boolean hasBacklog()
    {
        return mode == PRELUDE || held != null;
    }

    /**
     * Writes the next piece of the prelude, then the live frames that arrived behind it, into {@link #output()}:
     * stops once {@code budgetBytes} are written (one event may pass it), so a prelude of many open runs and parts
     * goes out drain by drain, like a replay, and a client that does not read holds at most one piece.
     *
     * @return the length written to {@link #output()}.
     */
    int writeBacklog(final int budgetBytes)
    {
        begin();
        while (mode == PRELUDE && length < budgetBytes)
        {
            if (preludeParts != null && preludeParts.hasNext())
            {
                final Map.Entry<String, JsonNode> part = preludeParts.next();
                preludePart(preludeRun.getKey(), preludeRun.getValue(), part.getValue(),
                    preludeRun.getValue().openPartSeqs.get(part.getKey()));
            }
            else if (preludeRuns.hasNext())
            {
                preludeRun = preludeRuns.next();
                preludeRunStarted(preludeRun.getKey(), preludeRun.getValue());
                preludeParts = preludeRun.getValue().openParts.entrySet().iterator();
            }
            else
            {
                preludeLive();
            }
        }
        if (mode != PRELUDE && held != null && length < budgetBytes)
        {
            // What arrived behind the live point while the prelude was written: at most one drain's frames.
            final ExpandableArrayBuffer frames = held;
            final int heldBytes = heldLength;
            held = null;
            heldLength = 0;
            translateFrames(frames, 0, heldBytes);
        }
        return finish();
    }

    private void preludeRunStarted(final String runId, final OpenRun open)
    {
        final JsonGenerator g = begin("RUN_STARTED");
        try
        {
            g.writeStringField("threadId", open.threadId);
            g.writeStringField("runId", runId);
            preludeMetadata(g, open.seq, open, runId);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
    }

    private void preludeLive()
    {
        mode = PASS;
        // The prelude is whole: what follows is live. A client re-attaching to a run learns here that it has
        // every open run it is going to be told of.
        final JsonGenerator g = begin("CUSTOM");
        try
        {
            g.writeStringField("name", "agentwire.live");
            g.writeObjectFieldStart("value");
            g.writeNumberField("seq", liveSeq);
            g.writeNumberField("openRuns", openRuns.size());
            g.writeEndObject();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
        openRuns.clear();
        preludeRuns = null;
        preludeParts = null;
        preludeRun = null;
    }

    /** A native part still open (its start event as sent), marked as prelude. */
    private void preludePart(final String runId, final OpenRun run, final JsonNode start, final long seq)
    {
        final JsonGenerator g = open();
        try
        {
            copyFieldsExcept(g, start, "metadata");
            preludeMetadata(g, seq, run, runId);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
    }

    /** One AgentWire event → its AG-UI group, every member carrying the event's cursor. */
    private void map(final JsonNode m)
    {
        final String type = m.path("type").asText();
        final String runId = text(m, "run_id");
        final JsonNode data = m.path("data");
        // One event unless a case says how many it makes, before it makes them (a client needs the count: parts).
        part = 0;
        groupSize = 1;
        if (type.startsWith(NATIVE_PREFIX) && data.isObject())
        {
            nativeEvent(m, data);
            return;
        }
        final String id = "aw-" + m.path("epoch").asLong() + "-" + m.path("seq").asLong();
        switch (runId == null ? "" : type)
        {
            case "agent_started":
                event(m, "RUN_STARTED", "threadId", threadOf(m, runId), "runId", runId, null, null);
                break;
            case "agent_thinking":
            {
                final String text = data.path("text").asText("");
                groupSize = text.isEmpty() ? 4 : 5;
                event(m, "REASONING_START", "messageId", id, null, null, null, null);
                event(m, "REASONING_MESSAGE_START", "messageId", id, "role", "reasoning", null, null);
                if (!text.isEmpty())
                {
                    event(m, "REASONING_MESSAGE_CONTENT", "messageId", id, "delta", text, null, null);
                }
                event(m, "REASONING_MESSAGE_END", "messageId", id, null, null, null, null);
                event(m, "REASONING_END", "messageId", id, null, null, null, null);
                break;
            }
            case "tool_executing":
            {
                final String callId = data.path("tool_call_id").asText(id);
                final JsonNode args = data.get("args");
                final boolean hasArgs = args != null && !args.isNull();
                groupSize = hasArgs ? 3 : 2;
                event(m, "TOOL_CALL_START", "toolCallId", callId, "toolCallName", data.path("tool").asText("tool"),
                    null, null);
                if (hasArgs)
                {
                    event(m, "TOOL_CALL_ARGS", "toolCallId", callId, "delta", args.toString(), null, null);
                }
                event(m, "TOOL_CALL_END", "toolCallId", callId, null, null, null, null);
                break;
            }
            case "tool_completed":
            {
                final JsonNode error = data.get("error");
                final JsonNode result = error != null && !error.isNull() ? error : data.path("result");
                final String content = result.isTextual() ? result.asText() : result.toString();
                event(m, "TOOL_CALL_RESULT", "messageId", id, "toolCallId", data.path("tool_call_id").asText(),
                    "content", content);
                break;
            }
            case "agent_completed":
                completed(m, runId, data, id);
                break;
            default:
                custom(m, type, data);
                break;
        }
    }

    private void completed(final JsonNode m, final String runId, final JsonNode data, final String id)
    {
        final String outcome = data.path("outcome").asText("success");
        if ("error".equals(outcome))
        {
            final JsonNode error = data.path("error");
            event(m, "RUN_ERROR", "message", error.isTextual() ? error.asText() : error.toString(), "code",
                "agent_error", null, null);
            return;
        }
        final JsonNode result = data.get("result");
        final boolean answered = "success".equals(outcome) && result != null && !result.isNull();
        final String text = answered ? (result.isTextual() ? result.asText() : result.toString()) : "";
        groupSize = answered ? (text.isEmpty() ? 3 : 4) : 1;
        if (answered)
        {
            event(m, "TEXT_MESSAGE_START", "messageId", id, "role", "assistant", null, null);
            if (!text.isEmpty())
            {
                event(m, "TEXT_MESSAGE_CONTENT", "messageId", id, "delta", text, null, null);
            }
            event(m, "TEXT_MESSAGE_END", "messageId", id, null, null, null, null);
        }
        final JsonGenerator g = begin("RUN_FINISHED");
        try
        {
            g.writeStringField("threadId", threadOf(m, runId));
            g.writeStringField("runId", runId);
            g.writeObjectFieldStart("outcome");
            g.writeStringField("type", "cancelled".equals(outcome) ? "cancelled" : "success");
            g.writeEndObject();
            if (result != null && !result.isNull())
            {
                g.writeFieldName("result");
                g.writeTree(result);
            }
            cursor(g, m);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
    }

    /** An event that came in as AG-UI (POST /v1/ag-ui/events): as it was sent, with the cursor added. */
    private void nativeEvent(final JsonNode m, final JsonNode event)
    {
        final JsonGenerator g = open();
        try
        {
            copyFieldsExcept(g, event, "metadata");
            g.writeObjectFieldStart("metadata");
            final JsonNode own = event.get("metadata");
            if (own != null && own.isObject())
            {
                copyFieldsExcept(g, own, "agentwire");
            }
            g.writeFieldName("agentwire");
            cursorObject(g, m);
            g.writeEndObject();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
    }

    private void custom(final JsonNode m, final String name, final JsonNode value)
    {
        final JsonGenerator g = begin("CUSTOM");
        try
        {
            g.writeStringField("name", name);
            g.writeFieldName("value");
            g.writeTree(value);
            cursor(g, m);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
    }

    /** A control frame as a CUSTOM event named {@code agentwire.<type>}, its other fields as the value. */
    private void control(final String name, final JsonNode m)
    {
        final ObjectNode value = ((ObjectNode)m).deepCopy();
        value.remove("type");
        final JsonGenerator g = begin("CUSTOM");
        try
        {
            g.writeStringField("name", name);
            g.writeFieldName("value");
            g.writeTree(value);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
    }

    /** A binary event (its AgentWire header and payload) as {@code CUSTOM agentwire.binary}, base64. */
    private boolean onBinary(final DirectBuffer src, final int offset, final int payloadLength)
    {
        // The binary header (docs/PROTOCOL.md) has seq at 6 and epoch at 14, big-endian.
        final long seq = src.getLong(offset + 6, java.nio.ByteOrder.BIG_ENDIAN);
        if (mode == TRACKING)
        {
            return isHistory(seq, null);
        }
        final byte[] bytes = new byte[payloadLength];
        src.getBytes(offset, bytes);
        final JsonGenerator g = begin("CUSTOM");
        try
        {
            g.writeStringField("name", "agentwire.binary");
            g.writeObjectFieldStart("value");
            g.writeStringField("frame", Base64.getEncoder().encodeToString(bytes));
            g.writeEndObject();
            g.writeObjectFieldStart("metadata");
            g.writeObjectFieldStart("agentwire");
            g.writeNumberField("seq", seq);
            g.writeNumberField("epoch", src.getLong(offset + 14, java.nio.ByteOrder.BIG_ENDIAN));
            part = 0;
            groupSize = 1;
            parts(g);
            g.writeEndObject();
            g.writeEndObject();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
        return true;
    }

    private void event(final JsonNode m, final String type, final String k1, final String v1, final String k2,
        final String v2, final String k3, final String v3)
    {
        final JsonGenerator g = begin(type);
        try
        {
            g.writeStringField(k1, v1);
            if (k2 != null)
            {
                g.writeStringField(k2, v2);
            }
            if (k3 != null)
            {
                g.writeStringField(k3, v3);
            }
            cursor(g, m);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        end(g);
    }

    private void cursor(final JsonGenerator g, final JsonNode m) throws IOException
    {
        final long ts = m.path("ts").asLong(0);
        if (ts > 0)
        {
            g.writeNumberField("timestamp", ts);
        }
        g.writeObjectFieldStart("metadata");
        g.writeFieldName("agentwire");
        cursorObject(g, m);
        g.writeEndObject();
    }

    /** The {@code metadata.agentwire} object. */
    private void cursorObject(final JsonGenerator g, final JsonNode m) throws IOException
    {
        g.writeStartObject();
        g.writeNumberField("seq", m.path("seq").asLong());
        g.writeNumberField("epoch", m.path("epoch").asLong());
        parts(g);
        final String runId = text(m, "run_id");
        if (runId != null)
        {
            g.writeStringField("runId", runId);
            g.writeStringField("threadId", threadOf(m, runId));
        }
        final String room = text(m, "room");
        if (room != null)
        {
            g.writeStringField("room", room);
        }
        if (m.path("broadcast").asBoolean(false))
        {
            g.writeBooleanField("broadcast", true);
        }
        final String eventId = text(m, "id");
        if (eventId != null)
        {
            g.writeStringField("id", eventId);
        }
        g.writeEndObject();
    }

    private void parts(final JsonGenerator g) throws IOException
    {
        g.writeNumberField("part", part++);
        g.writeNumberField("parts", groupSize);
    }

    private JsonGenerator begin(final String type)
    {
        final JsonGenerator g = open();
        try
        {
            g.writeStringField("type", type);
            return g;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** An event's JSON object, opened after room for the largest frame header ({@link #end} moves it back). */
    private JsonGenerator open()
    {
        json.wrap(out, length + WebSocketFrames.MAX_HEADER_LENGTH);
        try
        {
            final JsonGenerator g = Json.MAPPER.getFactory().createGenerator((java.io.OutputStream)json);
            g.writeStartObject();
            return g;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** Writes every field of {@code object} but {@code skipped}. */
    private static void copyFieldsExcept(final JsonGenerator g, final JsonNode object, final String skipped)
        throws IOException
    {
        final Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
        while (fields.hasNext())
        {
            final Map.Entry<String, JsonNode> field = fields.next();
            if (!skipped.equals(field.getKey()))
            {
                g.writeFieldName(field.getKey());
                g.writeTree(field.getValue());
            }
        }
    }

    /** {@code metadata: {agentwire: {seq, epoch, runId, threadId, prelude: true}}} of a prelude event. */
    private static void preludeMetadata(
        final JsonGenerator g, final long seq, final OpenRun run, final String runId) throws IOException
    {
        g.writeObjectFieldStart("metadata");
        g.writeObjectFieldStart("agentwire");
        g.writeNumberField("seq", seq);
        g.writeNumberField("epoch", run.epoch);
        g.writeStringField("runId", runId);
        g.writeStringField("threadId", run.threadId);
        g.writeBooleanField("prelude", true);
        g.writeEndObject();
        g.writeEndObject();
    }

    /** Closes the event's JSON and puts the frame header in front of it, moving it back over unused header room. */
    private void end(final JsonGenerator g)
    {
        try
        {
            g.writeEndObject();
            g.close();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        final int payloadLength = json.position();
        final int header = WebSocketFrames.headerLength(payloadLength);
        out.putBytes(length + header, out, length + WebSocketFrames.MAX_HEADER_LENGTH, payloadLength);
        WebSocketFrames.putHeader(out, length, WebSocketFrames.TEXT, payloadLength);
        length += header + payloadLength;
    }

    private void copyFrame(final DirectBuffer src, final int offset, final int frameLength)
    {
        out.putBytes(length, src, offset, frameLength);
        length += frameLength;
    }

    private static boolean isAgentEvent(final String type)
    {
        return type.startsWith("agent_") || type.startsWith("tool_") || type.startsWith(NATIVE_PREFIX);
    }

    private static String threadOf(final JsonNode m, final String runId)
    {
        final String thread = text(m, "thread_id");
        return thread != null ? thread : runId;
    }

    private static String text(final JsonNode m, final String field)
    {
        final JsonNode v = m.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
