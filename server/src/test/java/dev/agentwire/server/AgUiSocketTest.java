package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /v1/ag-ui} over a real socket: the five events become AG-UI groups carrying their cursor, control
 * frames become {@code CUSTOM agentwire.*}, a resume by cursor continues the same translation, and a client joining
 * midway gets a prelude. (The client package's tests check the same frames with AG-UI's own schemas and
 * {@code verifyEvents}.)
 */
@Timeout(60)
class AgUiSocketTest
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

    private WsClient agUi(final String user, final String query) throws Exception
    {
        final WsClient client = WsClient.connect(URI.create("ws://127.0.0.1:" + server.server.port() + "/v1/ag-ui" +
            (query == null ? "" : "?" + query)), Tokens.hs256(user, 60_000));
        clients.add(client);
        return client;
    }

    private void publish(final String user, final String type, final String run, final String data) throws Exception
    {
        final int status = server.publish("{\"user\":\"" + user + "\",\"type\":\"" + type + "\",\"run_id\":\"" + run +
            "\",\"thread_id\":\"th-1\",\"data\":" + data + "}").statusCode();
        assertEquals(202, status, type);
    }

    private static List<String> types(final List<JsonNode> events)
    {
        final List<String> types = new ArrayList<>();
        events.forEach(e -> types.add(e.get("type").asText()));
        return types;
    }

    @Test
    void shouldTranslateAFullRunIntoAgUiEventsCarryingTheirCursor() throws Exception
    {
        final WsClient ann = agUi("ann", null);
        final JsonNode welcome = ann.next(10_000);
        assertEquals("CUSTOM", welcome.get("type").asText());
        assertEquals("agentwire.welcome", welcome.get("name").asText());
        assertEquals("ann", welcome.get("value").get("user").asText());
        assertEquals("agentwire.live", ann.next(10_000).get("name").asText(), "an empty prelude, then live");

        publish("ann", "agent_started", "r1", "{\"agent\":\"weather\"}");
        publish("ann", "agent_thinking", "r1", "{\"text\":\"Looking up the forecast\"}");
        publish("ann", "tool_executing", "r1", "{\"tool_call_id\":\"c1\",\"tool\":\"forecast\",\"args\":{\"city\":\"Oslo\"}}");
        publish("ann", "tool_executing", "r1", "{\"tool_call_id\":\"c2\",\"tool\":\"alerts\",\"args\":{}}");
        publish("ann", "tool_completed", "r1", "{\"tool_call_id\":\"c2\",\"error\":\"alerts service down\"}");
        publish("ann", "tool_completed", "r1", "{\"tool_call_id\":\"c1\",\"result\":{\"temp\":3}}");
        publish("ann", "agent_completed", "r1", "{\"outcome\":\"success\",\"result\":\"3 degrees in Oslo\"}");

        final List<JsonNode> events = ann.collect(m -> true, 18, 10_000);
        assertEquals(List.of("RUN_STARTED",
            "REASONING_START", "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END",
            "REASONING_END",
            "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
            "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
            "TOOL_CALL_RESULT", "TOOL_CALL_RESULT",
            "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED"), types(events.subList(0, 18)));
        final long[] expectedSeq = {1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 6, 7, 7, 7, 7};
        for (int i = 0; i < 18; i++)
        {
            final JsonNode cursor = events.get(i).get("metadata").get("agentwire");
            assertEquals(expectedSeq[i], cursor.get("seq").asLong(), events.get(i).toString());
            assertEquals(welcome.get("value").get("epoch").asLong(), cursor.get("epoch").asLong());
            assertEquals("r1", cursor.get("runId").asText());
            assertEquals("th-1", cursor.get("threadId").asText());
        }
        assertEquals("th-1", events.get(0).get("threadId").asText());
        // A seq's events are numbered, so a client counts the seq as had only when it holds them all.
        assertEquals(0, events.get(1).get("metadata").get("agentwire").get("part").asInt());
        assertEquals(4, events.get(5).get("metadata").get("agentwire").get("part").asInt());
        assertEquals(5, events.get(5).get("metadata").get("agentwire").get("parts").asInt());
        assertEquals("forecast", events.get(6).get("toolCallName").asText());
        assertEquals("{\"city\":\"Oslo\"}", events.get(7).get("delta").asText());
        assertEquals("alerts service down", events.get(12).get("content").asText());
        assertEquals("c1", events.get(13).get("toolCallId").asText());
        assertEquals("{\"temp\":3}", events.get(13).get("content").asText());
        assertEquals("3 degrees in Oslo", events.get(15).get("delta").asText());
        assertEquals("success", events.get(17).get("outcome").get("type").asText());
        AgUiJudge.assertVerifies(events);
    }

    @Test
    void shouldEndAFailedRunWithRunErrorAndPassCustomTypesAsCustom() throws Exception
    {
        final WsClient bo = agUi("bo", null);
        bo.next(10_000);
        bo.next(10_000);
        publish("bo", "agent_started", "r9", "{\"agent\":\"a\"}");
        publish("bo", "app.progress", "r9", "{\"pct\":40}");
        publish("bo", "agent_completed", "r9", "{\"outcome\":\"error\",\"error\":\"model overloaded\"}");
        final List<JsonNode> events = bo.collect(m -> true, 3, 10_000);
        assertEquals(List.of("RUN_STARTED", "CUSTOM", "RUN_ERROR"), types(events));
        assertEquals("app.progress", events.get(1).get("name").asText());
        assertEquals(40, events.get(1).get("value").get("pct").asInt());
        assertEquals("model overloaded", events.get(2).get("message").asText());
        AgUiJudge.assertVerifies(events);
    }

    @Test
    void shouldResumeByCursorWithTheSameTranslation() throws Exception
    {
        final WsClient first = agUi("cy", null);
        final long epoch = first.next(10_000).get("value").get("epoch").asLong();
        first.next(10_000);
        publish("cy", "agent_started", "r2", "{\"agent\":\"a\"}");
        publish("cy", "tool_executing", "r2", "{\"tool_call_id\":\"k\",\"tool\":\"search\",\"args\":{\"q\":\"x\"}}");
        final List<JsonNode> before = new ArrayList<>(first.collect(m -> true, 4, 10_000));
        first.close();
        publish("cy", "tool_completed", "r2", "{\"tool_call_id\":\"k\",\"result\":\"found\"}");
        publish("cy", "agent_completed", "r2", "{\"outcome\":\"success\",\"result\":\"done\"}");

        final WsClient back = agUi("cy", "epoch=" + epoch + "&after=2");
        assertEquals("agentwire.welcome", back.next(10_000).get("name").asText());
        final JsonNode resumed = back.next(10_000);
        assertEquals("agentwire.resumed", resumed.get("name").asText());
        assertTrue(resumed.get("value").get("recovered").asBoolean());
        final List<JsonNode> events = back.collect(m -> true, 5, 10_000);
        assertEquals(List.of("TOOL_CALL_RESULT", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
            "RUN_FINISHED"), types(events));
        assertEquals(3, events.get(0).get("metadata").get("agentwire").get("seq").asLong());
        // What the client saw before the cut and after the resume is one run that verifies.
        before.addAll(events);
        AgUiJudge.assertVerifies(before);
    }

    @Test
    void shouldOpenEveryRunStillRunningForAClientThatJoinsMidway() throws Exception
    {
        publish("di", "agent_started", "done-run", "{\"agent\":\"a\"}");
        publish("di", "agent_completed", "done-run", "{\"outcome\":\"success\",\"result\":\"ok\"}");
        publish("di", "agent_started", "open-run", "{\"agent\":\"a\"}");
        publish("di", "agent_thinking", "open-run", "{\"text\":\"hmm\"}");

        final WsClient late = agUi("di", null);
        final JsonNode welcome = late.next(10_000);
        assertEquals("agentwire.welcome", welcome.get("name").asText());
        final JsonNode prelude = late.next(10_000);
        assertEquals("RUN_STARTED", prelude.get("type").asText(), prelude.toString());
        assertEquals("open-run", prelude.get("runId").asText());
        assertTrue(prelude.get("metadata").get("agentwire").get("prelude").asBoolean());
        assertEquals(3, prelude.get("metadata").get("agentwire").get("seq").asLong());
        final JsonNode live = late.next(10_000);
        assertEquals("agentwire.live", live.get("name").asText(), live.toString());
        assertEquals(4, live.get("value").get("seq").asLong());
        assertEquals(1, live.get("value").get("openRuns").asInt());

        publish("di", "agent_completed", "open-run", "{\"outcome\":\"cancelled\",\"error\":\"stopped by the user\"}");
        final JsonNode finished = late.next(10_000);
        assertEquals("RUN_FINISHED", finished.get("type").asText(), finished.toString());
        assertEquals("cancelled", finished.get("outcome").get("type").asText());
        assertEquals(5, finished.get("metadata").get("agentwire").get("seq").asLong());
        assertFalse(finished.get("metadata").get("agentwire").has("prelude"));
        // Nothing of the history before the join came through besides the prelude.
        assertTrue(late.messages.isEmpty(), late.messages.toString());
        AgUiJudge.assertVerifies(List.of(prelude, finished));
    }

    @Test
    void shouldOpenTheNativeMessageAndToolCallStillOpenForAClientThatJoinsMidMessage() throws Exception
    {
        final String started = "{\"user\":\"ed\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"nm\"}," +
            "{\"type\":\"TOOL_CALL_START\",\"toolCallId\":\"k\",\"toolCallName\":\"lookup\"}," +
            "{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"m\",\"role\":\"assistant\"}," +
            "{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"m\",\"delta\":\"Hal\"}]}";
        assertEquals(202, postAgUi(started));
        final WsClient late = agUi("ed", null);
        assertEquals("agentwire.welcome", late.next(10_000).get("name").asText());
        final List<JsonNode> seen = new ArrayList<>(late.collect(m -> true, 4, 10_000));
        assertEquals(List.of("RUN_STARTED", "TOOL_CALL_START", "TEXT_MESSAGE_START", "CUSTOM"),
            types(seen), seen.toString());
        assertTrue(seen.get(2).get("metadata").get("agentwire").get("prelude").asBoolean());
        assertEquals(3, seen.get(2).get("metadata").get("agentwire").get("seq").asLong());
        assertEquals(202, postAgUi("{\"user\":\"ed\",\"runId\":\"nm\",\"events\":[" +
            "{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"m\",\"delta\":\"lo\"}," +
            "{\"type\":\"TEXT_MESSAGE_END\",\"messageId\":\"m\"}," +
            "{\"type\":\"TOOL_CALL_END\",\"toolCallId\":\"k\"}," +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"nm\"}]}"));
        seen.addAll(late.collect(m -> true, 4, 10_000));
        assertEquals("lo", seen.get(4).get("delta").asText());
        AgUiJudge.assertVerifies(seen);
    }

    @Test
    void shouldEndThePreludeWhenTheHistorysLastEventIsOneThisConnectionIsNotShown() throws Exception
    {
        publish("fay", "agent_started", "open", "{\"agent\":\"a\"}");
        assertEquals(204, server.send("PUT", "/v1/rooms/hidden/members/fay").statusCode());
        assertEquals(202, server.publish("{\"room\":\"hidden\",\"type\":\"app.note\",\"data\":{}}").statusCode());

        // The token lists no room: the welcome names seq 2, which this connection passes over.
        final WsClient late = agUi("fay", null);
        assertEquals(2, late.next(10_000).get("value").get("seq").asLong());
        final JsonNode prelude = late.next(10_000);
        assertEquals("RUN_STARTED", prelude.get("type").asText(), prelude.toString());
        final JsonNode live = late.next(10_000);
        assertEquals("agentwire.live", live.get("name").asText(), live.toString());
    }

    private int postAgUi(final String body) throws Exception
    {
        return server.post("/v1/ag-ui/events", body, Tokens.PRODUCER_KEY).statusCode();
    }
}
