package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code POST /v1/ag-ui/events} over real HTTP and sockets: a valid run is sequenced into the user's stream and
 * delivered as sent on {@code /v1/ag-ui} (cursor added) and as {@code ag-ui.*} events on {@code /v1/ws}; a batch that
 * breaks an AG-UI run rule is refused whole, naming the rule, and nothing of it is delivered.
 */
@Timeout(60)
class AgUiIngestTest
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

    private HttpResponse<String> post(final String body) throws Exception
    {
        return server.post("/v1/ag-ui/events", body, Tokens.PRODUCER_KEY);
    }

    private WsClient socket(final String path, final String user) throws Exception
    {
        final WsClient client = WsClient.connect(URI.create("ws://127.0.0.1:" + server.server.port() + path),
            Tokens.hs256(user, 60_000));
        clients.add(client);
        return client;
    }

    @Test
    void shouldSequenceANativeRunAcrossBatchesAndDeliverItAsSent() throws Exception
    {
        final WsClient agUi = socket("/v1/ag-ui", "nat");
        final WsClient ws = socket("/v1/ws", "nat");
        agUi.next(10_000); // welcome
        agUi.next(10_000); // live
        ws.nextOfType("welcome", 10_000);

        assertEquals(202, post("{\"user\":\"nat\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t1\",\"runId\":\"n1\"}," +
            "{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"m1\",\"role\":\"assistant\"}," +
            "{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"m1\",\"delta\":\"Hel\",\"metadata\":{\"mine\":1}}]}")
            .statusCode());
        // The run goes on in a second batch, named by runId.
        final HttpResponse<String> second = post("{\"user\":\"nat\",\"runId\":\"n1\",\"events\":[" +
            "{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"m1\",\"delta\":\"lo\"}," +
            "{\"type\":\"TEXT_MESSAGE_END\",\"messageId\":\"m1\"}," +
            "{\"type\":\"TOOL_CALL_START\",\"toolCallId\":\"k1\",\"toolCallName\":\"search\"}," +
            "{\"type\":\"TOOL_CALL_ARGS\",\"toolCallId\":\"k1\",\"delta\":\"{}\"}," +
            "{\"type\":\"TOOL_CALL_END\",\"toolCallId\":\"k1\"}," +
            "{\"type\":\"TOOL_CALL_RESULT\",\"messageId\":\"r1\",\"toolCallId\":\"k1\",\"content\":\"ok\"}," +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t1\",\"runId\":\"n1\"}]}");
        assertEquals(202, second.statusCode(), second.body());
        assertEquals(7, Json.MAPPER.readTree(second.body()).get("accepted").asInt());

        final List<JsonNode> events = agUi.collect(m -> true, 10, 10_000);
        final String[] types = {"RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT",
            "TEXT_MESSAGE_END", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_RESULT",
            "RUN_FINISHED"};
        for (int i = 0; i < types.length; i++)
        {
            final JsonNode e = events.get(i);
            assertEquals(types[i], e.get("type").asText());
            assertEquals(i + 1, e.get("metadata").get("agentwire").get("seq").asLong());
            assertEquals("n1", e.get("metadata").get("agentwire").get("runId").asText());
            assertEquals("t1", e.get("metadata").get("agentwire").get("threadId").asText());
        }
        assertEquals("Hel", events.get(2).get("delta").asText());
        assertEquals(1, events.get(2).get("metadata").get("mine").asInt(), "the producer's own metadata stays");
        AgUiJudge.assertVerifies(events);

        final List<JsonNode> plain = ws.collect(WsClient::isEvent, 10, 10_000);
        assertEquals("ag-ui.run_started", plain.get(0).get("type").asText());
        assertEquals("n1", plain.get(0).get("run_id").asText());
        assertEquals("RUN_FINISHED", plain.get(9).get("data").get("type").asText());
    }

    @Test
    void shouldRefuseABatchThatBreaksARunRuleWholeAndDeliverNothingOfIt() throws Exception
    {
        final WsClient ws = socket("/v1/ws", "rul");
        ws.nextOfType("welcome", 10_000);

        assertRefused(post("{\"user\":\"rul\",\"events\":[{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"m\"}]}"),
            "run_not_started", 0);
        assertRefused(post("{\"user\":\"rul\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"a\"}," +
            "{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"m\",\"delta\":\"x\"}]}"), "text_message_not_started", 1);
        assertRefused(post("{\"user\":\"rul\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"a\"}," +
            "{\"type\":\"TOOL_CALL_START\",\"toolCallId\":\"k\",\"toolCallName\":\"s\"}," +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"a\"}]}"), "run_has_open_parts", 2);
        assertRefused(post("{\"user\":\"rul\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"a\"}," +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"b\"}]}"), "run_already_started", 1);
        assertRefused(post("{\"user\":\"rul\",\"events\":[{\"type\":\"NOT_AG_UI\"}]}"), "unknown_event_type", 0);
        // A refused batch left no state behind: run a starts now, once, and ends; after its end nothing more.
        assertEquals(202, post("{\"user\":\"rul\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"a\"}," +
            "{\"type\":\"RUN_ERROR\",\"message\":\"boom\"}]}").statusCode());
        assertRefused(post("{\"user\":\"rul\",\"runId\":\"a\",\"events\":[{\"type\":\"CUSTOM\",\"name\":\"x\"," +
            "\"value\":1}]}"), "run_finished", -1);
        assertRefused(post("{\"user\":\"rul\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"a\"}]}"), "run_finished", 0);
        assertEquals(400, post("{\"events\":[]}").statusCode());
        assertEquals(400, post("not json").statusCode());
        assertEquals(401, server.post("/v1/ag-ui/events", "{}", null).statusCode());

        // What reached the user: the accepted batch only, from seq 1.
        final List<JsonNode> events = ws.collect(WsClient::isEvent, 2, 10_000);
        assertEquals(1, events.get(0).get("seq").asLong());
        assertEquals("ag-ui.run_started", events.get(0).get("type").asText());
        assertEquals("ag-ui.run_error", events.get(1).get("type").asText());
        assertTrue(ws.messages.stream().noneMatch(WsClient::isEvent), ws.messages.toString());
    }

    @Test
    void shouldTakeNativeAgUiOnTheProducerSocketAsOverHttpContinuingTheSameRun() throws Exception
    {
        final WsClient agUi = socket("/v1/ag-ui", "sock");
        agUi.next(10_000);
        agUi.next(10_000);
        assertEquals(202, post("{\"user\":\"sock\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"s1\"}]}").statusCode());

        final WsClient producer = server.producerSocket();
        producer.send("{\"ref\":\"bad\",\"ag_ui\":{\"user\":\"sock\",\"runId\":\"s1\",\"events\":[" +
            "{\"type\":\"TOOL_CALL_END\",\"toolCallId\":\"nope\"}]}}");
        final JsonNode nack = producer.nextOfType("nack", 10_000); // after the presence frames
        assertEquals("nack", nack.get("type").asText(), nack.toString());
        assertEquals("bad", nack.get("ref").asText());
        assertEquals(422, nack.get("status").asInt());
        assertEquals("tool_call_not_started", nack.get("code").asText());

        producer.send("{\"ref\":\"ok\",\"ag_ui\":{\"user\":\"sock\",\"runId\":\"s1\",\"events\":[" +
            "{\"type\":\"STEP_STARTED\",\"stepName\":\"plan\"},{\"type\":\"STEP_FINISHED\",\"stepName\":\"plan\"}," +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"s1\"}]}}");
        final JsonNode ack = producer.nextOfType("ack", 10_000);
        assertEquals("ack", ack.get("type").asText(), ack.toString());
        assertEquals("ok", ack.get("ref").asText());
        assertEquals(3, ack.get("accepted").asInt());
        assertEquals(4, ack.get("results").get(2).get("seqs").get(0).get("seq").asLong());

        final List<JsonNode> events = agUi.collect(m -> true, 4, 10_000);
        assertEquals(List.of("RUN_STARTED", "STEP_STARTED", "STEP_FINISHED", "RUN_FINISHED"),
            events.stream().map(e -> e.get("type").asText()).toList());
        // An ordinary event whose data mentions "ag_ui" is still an ordinary event.
        producer.send("{\"ref\":\"plain\",\"user\":\"sock\",\"type\":\"app.note\",\"data\":{\"ag_ui\":true}}");
        assertEquals("plain", producer.nextOfType("ack", 10_000).get("ref").asText());
        assertEquals("app.note", agUi.next(10_000).get("name").asText());
    }

    private static void assertRefused(final HttpResponse<String> response, final String rule, final int index)
        throws Exception
    {
        assertEquals(422, response.statusCode(), response.body());
        final JsonNode body = Json.MAPPER.readTree(response.body());
        assertEquals("ag_ui_invalid", body.get("error").asText());
        assertEquals(rule, body.get("rule").asText(), response.body());
        if (index >= 0)
        {
            assertEquals(index, body.get("index").asInt(), response.body());
        }
        else
        {
            assertFalse(body.has("index"));
        }
    }
}
