package dev.agentwire.server;

import dev.agentwire.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The golden path over real sockets: a user logs in and gets the AI response — every event, in order, only to them.
 */
@Timeout(60)
class GoldenPathTest
{
    @TempDir
    Path dir;
    private ServerFixture fixture;
    private final ExecutorService runtime = Executors.newSingleThreadExecutor();

    @BeforeEach
    void setUp()
    {
        fixture = new ServerFixture(dir, b -> { });
    }

    @AfterEach
    void tearDown()
    {
        runtime.shutdownNow();
        fixture.close();
    }

    @Test
    void shouldSendWelcomeFirst() throws Exception
    {
        final WsClient alice = fixture.connect("alice");
        final JsonNode welcome = alice.next(5_000);
        assertEquals("welcome", welcome.get("type").asText());
        assertEquals("alice", welcome.get("user").asText());
        assertTrue(welcome.get("epoch").asLong() > 0);
        assertEquals(0, welcome.get("seq").asLong());
    }

    @Test
    void shouldDeliverEachOfTheFiveEventsWithItsStructure() throws Exception
    {
        final WsClient alice = fixture.connect("alice");
        final long epoch = alice.next(5_000).get("epoch").asLong();
        final HttpResponse<String> response = fixture.publish(ServerFixture.runBatch("alice", "run-1"));
        assertEquals(202, response.statusCode(), response.body());

        final List<JsonNode> events = alice.collect(WsClient::isEvent, 5, 5_000);
        final String[] types = {"agent_started", "agent_thinking", "tool_executing", "tool_completed",
            "agent_completed"};
        for (int i = 0; i < 5; i++)
        {
            final JsonNode e = events.get(i);
            assertEquals(types[i], e.get("type").asText());
            assertEquals(i + 1, e.get("seq").asLong());
            assertEquals(epoch, e.get("epoch").asLong());
            assertEquals("run-1", e.get("run_id").asText());
            assertEquals("t-run-1", e.get("thread_id").asText());
            assertTrue(e.get("ts").asLong() > 1_600_000_000_000L);
            assertTrue(e.get("data").isObject());
            assertFalse(e.has("room"));
        }
        assertEquals("run-1-1", events.get(0).get("id").asText());
        assertTrue(events.get(1).get("id").isNull());
        assertEquals("helper", events.get(0).get("data").get("agent").asText());
        assertEquals("Looking", events.get(1).get("data").get("text").asText());
        final JsonNode executing = events.get(2).get("data");
        assertEquals("c1", executing.get("tool_call_id").asText());
        assertEquals("search", executing.get("tool").asText());
        assertEquals("weather", executing.get("args").get("q").asText());
        final JsonNode completed = events.get(3).get("data");
        assertEquals("c1", completed.get("tool_call_id").asText());
        assertEquals(21, completed.get("result").get("temp").asInt());
        final JsonNode done = events.get(4).get("data");
        assertEquals("success", done.get("outcome").asText());
        assertEquals("21 degrees", done.get("result").asText());

        final JsonNode body = ServerFixture.json(response);
        assertEquals(5, body.get("accepted").asInt());
        for (int i = 0; i < 5; i++)
        {
            final JsonNode result = body.get("results").get(i);
            assertEquals("accepted", result.get("status").asText());
            assertEquals("alice", result.get("seqs").get(0).get("user").asText());
            assertEquals(i + 1, result.get("seqs").get(0).get("seq").asLong());
            assertEquals(epoch, result.get("seqs").get(0).get("epoch").asLong());
        }
    }

    @Test
    void shouldPassUnknownDataFieldsThroughUntouched() throws Exception
    {
        final WsClient bob = fixture.connect("bob");
        bob.next(5_000);
        assertEquals(202, fixture.publish("{\"user\":\"bob\",\"type\":\"agent_started\",\"run_id\":\"r\"," +
            "\"data\":{\"agent\":\"a\",\"model\":\"m-1\",\"nested\":{\"k\":[1,2,3]},\"unicode\":\"\u00e9\u4e2d\"}}")
            .statusCode());
        final JsonNode data = bob.collect(WsClient::isEvent, 1, 5_000).get(0).get("data");
        assertEquals("m-1", data.get("model").asText());
        assertEquals(3, data.get("nested").get("k").get(2).asInt());
        assertEquals("\u00e9\u4e2d", data.get("unicode").asText());
    }

    @Test
    void shouldPassDataThroughByteForByte() throws Exception
    {
        // data reaches the user as the producer wrote it: no number rewritten, no key reordered or merged.
        final WsClient bob = fixture.connect("bob");
        bob.next(5_000);
        final String data = "{ \"big\":1e400, \"z\":1,\"a\":[2 ,3],\"same\":1,\"same\":2,\"e\":\"\\u00e9\" }";
        assertEquals(202, fixture.publish("{\"user\":\"bob\",\"type\":\"app.raw\",\"data\":" + data + "}")
            .statusCode());
        bob.collect(WsClient::isEvent, 1, 5_000);
        final String frame = bob.texts.get(bob.texts.size() - 1);
        assertTrue(frame.endsWith(",\"data\":" + data + "}"), frame);
    }

    @Test
    void shouldRefuseAnEventThatGivesAKeyTwice() throws Exception
    {
        final var response = fixture.publish(
            "[{\"user\":\"bob\",\"type\":\"app.x\",\"data\":{}},{\"user\":\"bob\",\"user\":\"eve\",\"type\":\"app.x\"}]");
        assertEquals(400, response.statusCode());
        assertEquals("events[1] has the key user more than once",
            ServerFixture.json(response).get("error").get("message").asText());
    }

    @Test
    void shouldRunAConversationWithAnEmbeddedRuntimeOnlyToThatUser() throws Exception
    {
        // The embedded test runtime: answers every user_message with a full run, on its own thread.
        fixture.server.onInbound("user_message", (user, type, buffer, offset, length) ->
        {
            final String message = buffer.getStringWithoutLengthUtf8(offset, length);
            runtime.execute(() -> answer(user, message));
        });
        final WsClient carol = fixture.connect("carol");
        final WsClient dave = fixture.connect("dave");
        carol.next(5_000);
        dave.next(5_000);

        carol.send("{\"type\":\"user_message\",\"thread_id\":\"conv-1\",\"data\":{\"text\":\"What's the weather?\"}}");

        final List<JsonNode> events = carol.collect(WsClient::isEvent, 5, 10_000);
        assertEquals(List.of("agent_started", "agent_thinking", "tool_executing", "tool_completed",
            "agent_completed"), events.stream().map(e -> e.get("type").asText()).toList());
        for (final JsonNode e : events)
        {
            assertEquals("conv-1", e.get("thread_id").asText());
        }
        assertTrue(events.get(1).get("data").get("text").asText().contains("What's the weather?"));
        Thread.sleep(200);
        assertTrue(dave.messages.isEmpty(), "dave got nothing: " + dave.messages);
    }

    private void answer(final String user, final String message)
    {
        try
        {
            final JsonNode json = Json.MAPPER.readTree(message);
            final String thread = json.get("thread_id").asText();
            final String text = json.get("data").get("text").asText();
            final String run = "run-" + System.nanoTime();
            final EventDraft d = new EventDraft();
            final var wire = fixture.server.engine();
            wire.publish(d.reset().toUser(user).type(EventTypes.AGENT_STARTED).runId(run).threadId(thread)
                .payload("{\"agent\":\"weather\"}"));
            wire.publish(d.reset().toUser(user).type(EventTypes.AGENT_THINKING).runId(run).threadId(thread)
                .payload(Json.MAPPER.writeValueAsString(java.util.Map.of("text", "You asked: " + text))));
            wire.publish(d.reset().toUser(user).type(EventTypes.TOOL_EXECUTING).runId(run).threadId(thread)
                .toolCallId("w1").payload("{\"tool_call_id\":\"w1\",\"tool\":\"weather\",\"args\":{}}"));
            wire.publish(d.reset().toUser(user).type(EventTypes.TOOL_COMPLETED).runId(run).threadId(thread)
                .toolCallId("w1").payload("{\"tool_call_id\":\"w1\",\"result\":\"sunny\"}"));
            wire.publish(d.reset().toUser(user).type(EventTypes.AGENT_COMPLETED).runId(run).threadId(thread)
                .outcome(Outcome.SUCCESS).payload("{\"outcome\":\"success\",\"result\":\"Sunny.\"}"));
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    @Test
    void shouldRefuseALifecycleViolationAtTheGatewayWithTheRuleName() throws Exception
    {
        final WsClient erin = fixture.connect("erin");
        erin.next(5_000);
        final HttpResponse<String> response = fixture.publish("[" +
            "{\"user\":\"erin\",\"type\":\"agent_started\",\"run_id\":\"r9\",\"data\":{\"agent\":\"a\"}}," +
            "{\"user\":\"erin\",\"type\":\"tool_completed\",\"run_id\":\"r9\",\"data\":{\"tool_call_id\":\"nope\"," +
            "\"result\":1}}," +
            "{\"user\":\"erin\",\"type\":\"agent_thinking\",\"run_id\":\"r9\",\"data\":{\"text\":\"after\"}}]");
        assertEquals(422, response.statusCode());
        final JsonNode body = ServerFixture.json(response);
        assertEquals("tool_call_unknown", body.get("error").get("code").asText());
        assertEquals(1, body.get("accepted").asInt());
        assertEquals("accepted", body.get("results").get(0).get("status").asText());
        assertEquals("tool_call_unknown", body.get("results").get(1).get("status").asText());
        assertEquals("not_attempted", body.get("results").get(2).get("status").asText());

        final List<JsonNode> events = erin.collect(WsClient::isEvent, 1, 5_000);
        assertEquals("agent_started", events.get(0).get("type").asText());
        Thread.sleep(200);
        assertTrue(erin.messages.isEmpty(), "nothing after the refused event: " + erin.messages);
    }

    @Test
    void shouldAcceptARetriedEventIdOnceAsDuplicate() throws Exception
    {
        final WsClient fay = fixture.connect("fay");
        fay.next(5_000);
        final String event = "{\"user\":\"fay\",\"type\":\"app.note\",\"id\":\"once\",\"data\":{\"n\":1}}";
        assertEquals(202, fixture.publish(event).statusCode());
        final HttpResponse<String> retry = fixture.publish(event);
        assertEquals(202, retry.statusCode());
        assertEquals("duplicate", ServerFixture.json(retry).get("results").get(0).get("status").asText());
        fay.collect(WsClient::isEvent, 1, 5_000);
        Thread.sleep(200);
        assertTrue(fay.messages.isEmpty());
    }

    @Test
    void shouldAnswerPingWithPong() throws Exception
    {
        final WsClient gus = fixture.connect("gus");
        gus.next(5_000);
        gus.send("{\"type\":\"ping\"}");
        assertEquals("pong", gus.next(5_000).get("type").asText());
    }

    @Test
    void shouldServeHealthAndReadiness() throws Exception
    {
        final var health = WsClient.HTTP.send(java.net.http.HttpRequest.newBuilder(fixture.http("/healthz")).build(),
            HttpResponse.BodyHandlers.ofString());
        final var ready = WsClient.HTTP.send(java.net.http.HttpRequest.newBuilder(fixture.http("/readyz")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
        assertEquals(200, ready.statusCode());
        assertEquals("ready", new String(ready.body().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    }
}
