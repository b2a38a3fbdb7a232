package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native AG-UI runs ({@code POST /v1/ag-ui/events}) follow one set of run rules across a cluster, with no
 * stickiness: the run state lives in Redis beside the owner's stream, and a batch is stored only if the run state it
 * was checked against is still current (docs/CLUSTER.md). Before, each node kept its own run table: a run started
 * through one node could not be continued through another (422 run_not_started), and could be started again there
 * (the client then saw two RUN_STARTED of one run). And a run streamed over HTTP ({@code POST /v1/ag-ui/run}) from a
 * node whose runtime is on the other node.
 */
@Timeout(180)
class ClusterAgUiRunsTest
{
    @TempDir
    Path dir;
    private RedisProcess redis;
    private final List<ServerFixture> servers = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception
    {
        for (final ServerFixture server : servers)
        {
            server.close();
        }
        if (redis != null)
        {
            redis.close();
        }
    }

    private ServerFixture server(final String name, final boolean clustered) throws Exception
    {
        if (clustered && redis == null)
        {
            redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false);
        }
        final ServerFixture server = new ServerFixture(Files.createDirectories(dir.resolve(name)), b ->
        {
            b.producerRatePerSec(1_000_000).producerBurst(1_000_000);
            if (clustered)
            {
                b.redisUrl(redis.url());
            }
        }, AgentWireConfig.builder().sliceCount(2));
        servers.add(server);
        return server;
    }

    private static HttpResponse<String> agUi(final ServerFixture via, final String body) throws Exception
    {
        return via.post("/v1/ag-ui/events", body, Tokens.PRODUCER_KEY);
    }

    /** @return the HTTP status, and for a 422 the rule: what a producer is told. */
    private static String verdict(final HttpResponse<String> answer) throws Exception
    {
        return answer.statusCode() == 422 ?
            "422 " + ServerFixture.json(answer).get("rule").asText() : String.valueOf(answer.statusCode());
    }

    @Test
    void shouldContinueARunThroughAnotherNodeAndNeverStartItTwice() throws Exception
    {
        final ServerFixture a = server("a", true);
        final ServerFixture b = server("b", true);
        final String user = "{\"user\":\"roaming-agent\",";
        assertEquals("202", verdict(agUi(a, user + "\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"t1\"," +
            "\"runId\":\"r1\"},{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"m1\",\"role\":\"assistant\"}]}")));
        assertEquals("202", verdict(agUi(b, user + "\"runId\":\"r1\",\"events\":[{\"type\":\"TEXT_MESSAGE_CONTENT\"," +
            "\"messageId\":\"m1\",\"delta\":\"Hel\"}]}")), "a run started through a continues through b");
        assertEquals("422 run_already_started", verdict(agUi(b, user + "\"events\":[{\"type\":\"RUN_STARTED\"," +
            "\"threadId\":\"t1\",\"runId\":\"r1\"}]}")), "b knows the run is running");
        assertEquals("422 run_has_open_parts", verdict(agUi(b, user + "\"runId\":\"r1\",\"events\":[" +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t1\",\"runId\":\"r1\"}]}")), "b knows m1 is open");
        assertEquals("202", verdict(agUi(a, user + "\"runId\":\"r1\",\"events\":[{\"type\":\"TEXT_MESSAGE_END\"," +
            "\"messageId\":\"m1\"}]}")), "a sees what b added");
        assertEquals("202", verdict(agUi(b, user + "\"runId\":\"r1\",\"events\":[{\"type\":\"RUN_FINISHED\"," +
            "\"threadId\":\"t1\",\"runId\":\"r1\"}]}")));
        assertEquals("422 run_finished", verdict(agUi(a, user + "\"runId\":\"r1\",\"events\":[{\"type\":\"CUSTOM\"," +
            "\"name\":\"late\",\"value\":1}]}")), "a knows the run ended through b");
        assertEquals("422 run_finished", verdict(agUi(a, user + "\"events\":[{\"type\":\"RUN_STARTED\"," +
            "\"threadId\":\"t1\",\"runId\":\"r1\"}]}")), "an ended run's id is not used again, on any node");
    }

    @Test
    void shouldStartARunOnceWhenTwoNodesRaceToStartIt() throws Exception
    {
        final ServerFixture a = server("a", true);
        final ServerFixture b = server("b", true);
        for (int round = 0; round < 20; round++)
        {
            final String body = "{\"user\":\"racer\",\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\"," +
                "\"runId\":\"race-" + round + "\"}]}";
            final CountDownLatch go = new CountDownLatch(1);
            final CompletableFuture<String> viaA = CompletableFuture.supplyAsync(() -> race(go, a, body));
            final CompletableFuture<String> viaB = CompletableFuture.supplyAsync(() -> race(go, b, body));
            go.countDown();
            final List<String> verdicts = new ArrayList<>(List.of(viaA.get(), viaB.get()));
            verdicts.sort(null);
            assertEquals(List.of("202", "422 run_already_started"), verdicts, "round " + round);
        }
    }

    private static String race(final CountDownLatch go, final ServerFixture via, final String body)
    {
        try
        {
            go.await();
            return verdict(agUi(via, body));
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    @Test
    void shouldStreamAnAgUiRunOverHttpFromANodeWhoseRuntimeIsOnAnotherNode() throws Exception
    {
        final ServerFixture a = server("a", true);
        final ServerFixture b = server("b", true);
        final WsClient runtime = a.producerSocket();
        RecordingAwait.until(() -> a.server.producerCount() == 1, 5_000, "producer registered");
        // POST /v1/ag-ui/run to node b: until b learns of a's runtime through Redis the answer is RUN_ERROR no_agent;
        // then the input reaches the runtime on a, whose events come back on b's stream, numbered by Redis.
        final ExecutorService reader = Executors.newSingleThreadExecutor();
        try
        {
            JsonNode message = null;
            Future<List<String>> stream = null;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            for (int attempt = 0; message == null && System.nanoTime() < deadline; attempt++)
            {
                final String runId = "http-run-" + attempt;
                final java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(b.http("/v1/ag-ui/run"))
                    .header("Authorization", "Bearer " + Tokens.hs256("sse-user", 60_000))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"threadId\":\"th\",\"runId\":\"" +
                        runId + "\",\"messages\":[{\"id\":\"m\",\"role\":\"user\",\"content\":\"hi\"}]," +
                        "\"tools\":[],\"context\":[],\"state\":{},\"forwardedProps\":{}}"))
                    .build();
                final HttpResponse<java.util.stream.Stream<String>> response =
                    WsClient.HTTP.send(request, HttpResponse.BodyHandlers.ofLines());
                assertEquals(200, response.statusCode());
                stream = reader.submit(() -> response.body().filter(line -> line.startsWith("data: "))
                    .collect(java.util.stream.Collectors.toList()));
                message = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
                while (message != null && !"user_message".equals(message.get("type").asText()))
                {
                    message = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
                }
                if (message == null)
                {
                    final List<String> refused = stream.get(10, TimeUnit.SECONDS);
                    assertTrue(refused.get(0).contains("no_agent"), refused.toString());
                }
            }
            assertTrue(message != null, "the runtime on node a got the input posted on node b");
            final String runId = message.get("run_id").asText();
            assertEquals("hi", message.get("data").get("input").get("messages").get(0).get("content").asText());
            runtime.send("{\"ref\":\"s1\",\"user\":\"sse-user\",\"type\":\"agent_started\",\"run_id\":\"" + runId +
                "\",\"thread_id\":\"th\",\"data\":{\"agent\":\"remote\"}}");
            runtime.send("{\"ref\":\"s2\",\"user\":\"sse-user\",\"type\":\"agent_completed\",\"run_id\":\"" + runId +
                "\",\"thread_id\":\"th\",\"data\":{\"outcome\":\"success\",\"result\":\"hello back\"}}");
            final List<String> events = stream.get(15, TimeUnit.SECONDS);
            assertTrue(events.get(0).contains("\"RUN_STARTED\""), events.toString());
            assertTrue(events.get(events.size() - 1).contains("\"RUN_FINISHED\""), events.toString());
            assertTrue(events.stream().anyMatch(e -> e.contains("hello back")), events.toString());
        }
        finally
        {
            reader.shutdownNow();
        }
    }

    @Test
    void shouldGiveTheVerdictsOfOneNodeWhenBatchesAlternateBetweenTwoNodes() throws Exception
    {
        final ServerFixture single = server("single", false);
        final ServerFixture a = server("a", true);
        final ServerFixture b = server("b", true);
        final Random random = new Random(20261203L);
        int accepted = 0;
        int refused = 0;
        String previous = null;
        for (int i = 0; i < 300; i++)
        {
            // Now and then a producer sends its previous batch again, as it was (with its batch id, if it had one).
            final String body = previous != null && random.nextInt(10) == 0 ? previous : batch(random, i);
            previous = body;
            final String one = verdict(agUi(single, body));
            final String cluster = verdict(agUi(i % 2 == 0 ? a : b, body));
            assertEquals(one, cluster, "batch " + i + ": " + body);
            accepted += "202".equals(one) ? 1 : 0;
            refused += one.startsWith("422") ? 1 : 0;
        }
        // Both sides of the rules were exercised, not only one.
        assertTrue(accepted > 30 && refused > 30, "accepted " + accepted + " refused " + refused);
    }

    @Test
    void shouldHoldAThreadToItsInterruptOnEveryNodeAndTakeOneAnswerWhenTwoNodesRace() throws Exception
    {
        final ServerFixture a = server("a", true);
        final ServerFixture b = server("b", true);
        final WsClient runtimeA = a.producerSocket();
        final WsClient runtimeB = b.producerSocket();
        RecordingAwait.until(() -> a.server.producerCount() == 1 && b.server.producerCount() == 1, 5_000,
            "runtimes registered");
        final String user = "{\"user\":\"hitl\",";
        final String interrupt = "\"outcome\":{\"type\":\"interrupt\",\"interrupts\":[{\"id\":\"approve\"," +
            "\"reason\":\"approval\"}]}";
        assertEquals("202", verdict(agUi(a, user + "\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"th-i\"," +
            "\"runId\":\"r1\"},{\"type\":\"RUN_FINISHED\",\"threadId\":\"th-i\",\"runId\":\"r1\"," + interrupt +
            "}]}")));

        // Node b holds the thread to the interrupt raised through a: an input that does not answer it is refused.
        assertEquals("RUN_ERROR interrupt_open", input(b, "th-i", "x1", null, runtimeA, runtimeB));
        assertEquals("RUN_ERROR interrupt_unknown", input(b, "th-i", "x2",
            "[{\"interruptId\":\"nope\",\"status\":\"resolved\"}]", runtimeA, runtimeB));

        // Two tabs answer at once, through a and through b: one answer reaches a runtime, the other is refused.
        final String answer = "[{\"interruptId\":\"approve\",\"status\":\"resolved\",\"payload\":true}]";
        final ExecutorService tabs = Executors.newFixedThreadPool(2);
        try
        {
            final CountDownLatch go = new CountDownLatch(1);
            final Future<String> viaA = tabs.submit(() ->
            {
                go.await();
                return input(a, "th-i", "answer-a", answer, runtimeA, null);
            });
            final Future<String> viaB = tabs.submit(() ->
            {
                go.await();
                return input(b, "th-i", "answer-b", answer, runtimeB, null);
            });
            go.countDown();
            final List<String> outcomes = new ArrayList<>(List.of(viaA.get(30, TimeUnit.SECONDS),
                viaB.get(30, TimeUnit.SECONDS)));
            outcomes.sort(null);
            assertEquals(List.of("RUN_ERROR interrupt_unknown", "delivered"), outcomes);
        }
        finally
        {
            tabs.shutdownNow();
        }

        // A run started on a waiting thread (through a) ends the wait on every node: b runs a plain input.
        assertEquals("202", verdict(agUi(b, user + "\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"th-j\"," +
            "\"runId\":\"r2\"},{\"type\":\"RUN_FINISHED\",\"threadId\":\"th-j\",\"runId\":\"r2\"," + interrupt +
            "}]}")));
        assertEquals("RUN_ERROR interrupt_open", input(a, "th-j", "x3", null, runtimeA, runtimeB));
        assertEquals("202", verdict(agUi(a, user + "\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"th-j\"," +
            "\"runId\":\"r3\"}]}")));
        assertEquals("delivered", input(b, "th-j", "x4", null, runtimeB, null));
    }

    /**
     * Posts a user's input ({@code POST /v1/ag-ui/run}) to a node.
     *
     * @return "delivered" when a runtime got it (the stream is then left), else the RUN_ERROR's code.
     */
    private static String input(final ServerFixture via, final String threadId, final String runId,
        final String resume, final WsClient expected, final WsClient other) throws Exception
    {
        final java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(via.http("/v1/ag-ui/run"))
            .header("Authorization", "Bearer " + Tokens.hs256("hitl", 60_000))
            .header("Content-Type", "application/json")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"threadId\":\"" + threadId + "\",\"runId\":\"" +
                runId + "\",\"messages\":[],\"tools\":[],\"context\":[],\"state\":{},\"forwardedProps\":{}" +
                (resume == null ? "" : ",\"resume\":" + resume) + "}"))
            .build();
        final HttpResponse<java.io.InputStream> response =
            WsClient.HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        final ExecutorService reader = Executors.newSingleThreadExecutor();
        try (java.io.InputStream body = response.body())
        {
            final Future<String> first = reader.submit(() ->
            {
                final java.io.BufferedReader lines = new java.io.BufferedReader(
                    new java.io.InputStreamReader(body, java.nio.charset.StandardCharsets.UTF_8));
                for (String line = lines.readLine(); line != null; line = lines.readLine())
                {
                    if (line.startsWith("data: "))
                    {
                        return line.substring(6);
                    }
                }
                return "";
            });
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline)
            {
                if (first.isDone())
                {
                    final JsonNode event = dev.agentwire.server.http.Json.MAPPER.readTree(first.get());
                    return event.get("type").asText() + " " + event.path("code").asText();
                }
                final JsonNode message = expected.messages.poll(50, TimeUnit.MILLISECONDS);
                if (message != null && "user_message".equals(message.path("type").asText()))
                {
                    assertEquals(runId, message.get("run_id").asText());
                    return "delivered";
                }
                final JsonNode stray = other == null ? null : other.messages.poll();
                assertTrue(stray == null || !"user_message".equals(stray.path("type").asText()), "misrouted: " + stray);
            }
            return "neither refused nor delivered";
        }
        finally
        {
            reader.shutdownNow();
        }
    }

    /**
     * A batch of one run: a start, a message or tool call in one or two halves, a finish or an error, or one random
     * event; over a few runs, messages and tool calls, so that many batches are valid and many break a rule.
     */
    private static String batch(final Random random, final int i)
    {
        final String run = "run-" + (i / 30) + "-" + random.nextInt(2);
        final String message = "m" + random.nextInt(2);
        final String call = "c" + random.nextInt(2);
        final StringBuilder body = new StringBuilder("{\"user\":\"parity\",");
        if (random.nextInt(4) == 0)
        {
            body.append("\"id\":\"batch-").append(i).append("\",");
        }
        final int template = random.nextInt(8);
        if (template != 0)
        {
            body.append("\"runId\":\"").append(run).append("\",");
        }
        body.append("\"events\":[");
        switch (template)
        {
            case 0:
                body.append(event(0, run, message, call)).append(random.nextBoolean() ? "" :
                    "," + event(1, run, message, call));
                break;
            case 1:
                body.append(event(1, run, message, call)).append(',').append(event(2, run, message, call));
                break;
            case 2:
                body.append(event(2, run, message, call)).append(',').append(event(3, run, message, call));
                break;
            case 3:
                body.append(event(4, run, message, call)).append(',').append(event(5, run, message, call));
                break;
            case 4:
                body.append(event(6, run, message, call));
                break;
            default:
                body.append(event(random.nextInt(8), run, message, call));
                break;
        }
        return body.append("]}").toString();
    }

    private static String event(final int kind, final String run, final String message, final String call)
    {
        switch (kind)
        {
            case 0:
                return "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"" + run + "\"}";
            case 1:
                return "{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"" + message + "\",\"role\":\"assistant\"}";
            case 2:
                return "{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"" + message + "\",\"delta\":\"x\"}";
            case 3:
                return "{\"type\":\"TEXT_MESSAGE_END\",\"messageId\":\"" + message + "\"}";
            case 4:
                return "{\"type\":\"TOOL_CALL_START\",\"toolCallId\":\"" + call + "\",\"toolCallName\":\"f\"}";
            case 5:
                return "{\"type\":\"TOOL_CALL_END\",\"toolCallId\":\"" + call + "\"}";
            case 6:
                return "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"" + run + "\"}";
            default:
                return "{\"type\":\"RUN_ERROR\",\"message\":\"failed\"}";
        }
    }
}
