package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.Outcome;
import dev.agentwire.server.http.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The AG-UI mapping of values of every shape, over a real socket: the mapping copies values from the stored event
 * rather than re-parsing it, and must give what the documented mapping (docs/AG-UI.md) gives for each — text that is
 * a number, an object or empty, missing ids, whitespace and escapes in the producer's JSON, ids that need escaping,
 * a native event's own metadata, binary events and the answers to client messages.
 */
@Timeout(60)
class AgUiMappingTest
{
    @TempDir
    Path dir;
    private ServerFixture server;
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception
    {
        server = new ServerFixture(dir, b -> b.producerRatePerSec(100_000).producerBurst(100_000));
    }

    @AfterEach
    void tearDown()
    {
        clients.forEach(WsClient::close);
        server.close();
    }

    private WsClient agUi(final String user) throws Exception
    {
        final WsClient client = WsClient.connect(URI.create("ws://127.0.0.1:" + server.server.port() +
            "/v1/ag-ui?epoch=0&after=0"), Tokens.hs256(user, 60_000));
        clients.add(client);
        assertEquals("agentwire.welcome", client.next(10_000).get("name").asText());
        assertEquals("agentwire.resumed", client.next(10_000).get("name").asText());
        return client;
    }

    /**
     * Through the embedded engine, which checks the run lifecycle but not the shape of {@code data}: an embedding
     * runtime may publish any JSON object, and the mapping must give the documented answer for each.
     */
    private void publish(final String user, final String type, final String runId, final String threadId,
        final String toolCallId, final String data)
    {
        final EventDraft draft = new EventDraft().toUser(user).type(type).runId(runId).threadId(threadId)
            .toolCallId(toolCallId).payload(data);
        if (type.equals("agent_completed"))
        {
            draft.outcome(data.contains("\"cancelled\"") ? Outcome.CANCELLED : Outcome.SUCCESS);
        }
        final long position = server.server.engine().publish(draft);
        assertTrue(position >= 0, type + " refused: " + position);
    }

    private static JsonNode tree(final String json) throws Exception
    {
        return Json.MAPPER.readTree(json);
    }

    @Test
    void shouldMapValuesOfEveryShapeAsTheDocumentedMappingSays() throws Exception
    {
        final WsClient eve = agUi("eve");
        final String run = "r\"1\\";
        final String thread = "t-\u00e9";
        publish("eve", "agent_started", run, thread, null, "{}");
        publish("eve", "agent_thinking", run, thread, null, "{\"text\": 42}");
        publish("eve", "agent_thinking", run, thread, null, "{\"text\":{\"no\":\"text\"}}");
        publish("eve", "tool_executing", run, thread, "k",
            "{\"tool_call_id\":\"k\", \"args\": { \"q\" : \"a \\\"b\\\"\" ,\"n\": [1, 2.50] }}");
        publish("eve", "tool_completed", run, thread, "k",
            "{\"tool_call_id\":\"k\",\"result\": {\"x\": [1, {\"y\": null}]}}");
        publish("eve", "app.note", null, null, null, "{\"s\":\"x\\\"y\u00e9\",\"big\":1e400}");
        publish("eve", "agent_completed", run, thread, null, "{\"outcome\":\"success\",\"result\":{\"answer\": [3]}}");

        final List<JsonNode> events = eve.collect(m -> true, 1 + 5 + 4 + 3 + 1 + 1 + 4, 10_000);
        final JsonNode started = events.get(0);
        assertEquals("RUN_STARTED", started.get("type").asText());
        assertEquals("r\"1\\", started.get("runId").asText(), "an id that needs escaping");
        assertEquals("t-\u00e9", started.get("threadId").asText());
        assertEquals("42", events.get(3).get("delta").asText(), "a number as text");
        assertEquals(5, events.get(3).get("metadata").get("agentwire").get("parts").asInt());
        assertEquals("REASONING_MESSAGE_END", events.get(8).get("type").asText(), "an object as text is empty");
        assertEquals(4, events.get(8).get("metadata").get("agentwire").get("parts").asInt());
        assertEquals("TOOL_CALL_START", events.get(10).get("type").asText());
        assertEquals("tool", events.get(10).get("toolCallName").asText(), "no tool name: the default");
        assertEquals(tree("{\"q\":\"a \\\"b\\\"\",\"n\":[1,2.50]}"), tree(events.get(11).get("delta").asText()));
        assertEquals("{\"q\":\"a \\\"b\\\"\",\"n\":[1,2.50]}", events.get(11).get("delta").asText(),
            "compact, numbers as sent");
        assertEquals("{\"x\":[1,{\"y\":null}]}", events.get(13).get("content").asText());
        final JsonNode custom = events.get(14);
        assertEquals("app.note", custom.get("name").asText());
        assertEquals("x\"y\u00e9", custom.get("value").get("s").asText());
        assertTrue(custom.get("value").get("big").isNumber(), "a number stays a number (its text as sent: see args)");
        assertFalse(custom.get("metadata").get("agentwire").has("runId"), "no run");
        assertEquals("{\"answer\":[3]}", events.get(16).get("delta").asText());
        final JsonNode finished = events.get(18);
        assertEquals("RUN_FINISHED", finished.get("type").asText());
        assertEquals(tree("{\"answer\":[3]}"), finished.get("result"));
        assertEquals("success", finished.get("outcome").get("type").asText());
        assertEquals(3, finished.get("metadata").get("agentwire").get("part").asInt());
    }

    @Test
    void shouldDefaultMissingIdsAndEndRunsAsTheirOutcomeSays() throws Exception
    {
        final WsClient fil = agUi("fil");
        publish("fil", "agent_started", "a", null, null, "{}");
        publish("fil", "agent_completed", "a", null, null, "{\"result\":\"\"}");
        publish("fil", "agent_started", "b", null, null, "{}");
        publish("fil", "agent_completed", "b", null, null, "{\"outcome\":\"cancelled\"}");
        final List<JsonNode> events = fil.collect(m -> true, 1 + 3 + 1 + 1, 10_000);
        assertEquals("a", events.get(0).get("threadId").asText(), "a run without a thread is its own thread");
        assertEquals("TEXT_MESSAGE_START", events.get(1).get("type").asText());
        assertEquals("TEXT_MESSAGE_END", events.get(2).get("type").asText(), "an empty answer has no content");
        assertEquals(tree("\"\""), events.get(3).get("result"));
        assertEquals("RUN_FINISHED", events.get(5).get("type").asText());
        assertEquals("cancelled", events.get(5).get("outcome").get("type").asText());
        assertEquals(1, events.get(5).get("metadata").get("agentwire").get("parts").asInt());
    }

    @Test
    void shouldKeepANativeEventsOwnMetadataButNotItsClaimToTheCursor() throws Exception
    {
        final WsClient gus = agUi("gus");
        assertEquals(202, server.post("/v1/ag-ui/events", "{\"user\":\"gus\",\"events\":[{\"type\":\"RUN_STARTED\"," +
            "\"threadId\":\"t\",\"runId\":\"n1\",\"metadata\":{\"mine\":{\"a\": 1},\"agentwire\":\"forged\"}}]}",
            Tokens.PRODUCER_KEY).statusCode());
        final JsonNode event = gus.next(10_000);
        assertEquals("RUN_STARTED", event.get("type").asText());
        assertEquals("n1", event.get("runId").asText());
        assertEquals(tree("{\"a\":1}"), event.get("metadata").get("mine"));
        assertEquals(1, event.get("metadata").get("agentwire").get("seq").asLong());
        assertEquals("n1", event.get("metadata").get("agentwire").get("runId").asText());
    }

    @Test
    void shouldCarryABinaryEventsFrameAsBase64AndAnswerClientMessagesAsCustomEvents() throws Exception
    {
        final WsClient hal = agUi("hal");
        final byte[] payload = new byte[1000];
        for (int i = 0; i < payload.length; i++)
        {
            payload[i] = (byte)(i * 7);
        }
        assertEquals(202, server.postBytes("/v1/events/binary?user=hal&type=app.audio", payload).statusCode());
        final JsonNode binary = hal.next(10_000);
        assertEquals("agentwire.binary", binary.get("name").asText());
        final byte[] frame = Base64.getDecoder().decode(binary.get("value").get("frame").asText());
        assertEquals(1, ByteBuffer.wrap(frame, 6, 8).getLong(), "the binary header's seq");
        final byte[] tail = new byte[payload.length];
        System.arraycopy(frame, frame.length - payload.length, tail, 0, payload.length);
        assertArrayEquals(payload, tail, "the payload, whole");
        assertEquals(1, binary.get("metadata").get("agentwire").get("seq").asLong());

        hal.send("{\"type\":\"ping\"}");
        final JsonNode pong = hal.next(10_000);
        assertEquals("agentwire.pong", pong.get("name").asText());
        assertEquals(tree("{}"), pong.get("value"));
        hal.send("{\"type\":\"no-such-thing\"}");
        final JsonNode error = hal.next(10_000);
        assertEquals("agentwire.error", error.get("name").asText());
        assertEquals("unknown_type", error.get("value").get("code").asText());
    }

    @Test
    void shouldMapAGroupLargerThanTheSocketsBufferWholeAndInOrder() throws Exception
    {
        final WsClient ida = agUi("ida");
        // 300,000 quotes: the text escaped is 600 KB, and the group's bound passes the socket's 1 MiB buffer.
        final String text = "\"".repeat(300_000);
        publish("ida", "agent_started", "big", null, null, "{}");
        publish("ida", "agent_thinking", "big", null, null, "{\"text\":\"" + "\\\"".repeat(300_000) + "\"}");
        publish("ida", "app.after", null, null, null, "{\"n\":1}");
        final List<JsonNode> events = ida.collect(m -> true, 1 + 5 + 1, 20_000);
        assertEquals("REASONING_MESSAGE_CONTENT", events.get(3).get("type").asText());
        assertEquals(text, events.get(3).get("delta").asText(), "the whole text, escaped and read back");
        assertEquals("REASONING_END", events.get(5).get("type").asText());
        assertEquals("app.after", events.get(6).get("name").asText(), "what follows comes after, in order");
    }
}
