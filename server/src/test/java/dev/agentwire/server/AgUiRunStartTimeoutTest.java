package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code POST /v1/ag-ui/run} when the runtime that took the input never starts the run (it died after taking it, or
 * ignores it): the stream ends with {@code RUN_ERROR run_start_timeout} instead of leaving a stock client waiting for
 * ever; when its input reached no runtime, with {@code RUN_ERROR message_lost} at once. A run that starts in time is
 * not cut however long it then runs.
 */
@Timeout(60)
class AgUiRunStartTimeoutTest
{
    private static final long START_TIMEOUT_MS = 1_000;

    @TempDir
    Path dir;
    private ServerFixture fixture;
    private ExecutorService reader;

    @BeforeEach
    void setUp() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.agUiRunStartTimeoutMs(START_TIMEOUT_MS));
        reader = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void tearDown()
    {
        reader.shutdownNow();
        fixture.close();
    }

    @Test
    void shouldEndTheStreamWithRunErrorWhenTheRuntimeTookTheInputButNeverStartsTheRun() throws Exception
    {
        // Before: the stream stayed open with keep-alives for as long as the client waited.
        final WsClient runtime = fixture.producerSocket();
        RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "producer registered");
        final Future<List<String>> stream = post("silent-run");
        assertEquals("silent-run", runtime.nextOfType("user_message", 5_000).get("run_id").asText(),
            "the runtime took the input");

        final List<String> events = stream.get(10, TimeUnit.SECONDS);
        assertEquals(1, events.size(), events.toString());
        final JsonNode error = dev.agentwire.server.http.Json.MAPPER.readTree(events.get(0));
        assertEquals("RUN_ERROR", error.get("type").asText());
        assertEquals("run_start_timeout", error.get("code").asText());
        assertTrue(error.get("message").asText().contains(START_TIMEOUT_MS + " ms"), error.toString());
    }

    @Test
    void shouldEndTheStreamWithRunErrorMessageLostWhenTheInputReachedNoRuntime() throws Exception
    {
        // Before: the runtime that had the input died before taking it, the server told the user their message was
        // lost, and the stream waited for the start timeout anyway (run_start_timeout, after it).
        try (RawWs.RawClient dying = RawWs.RawClient.connect(fixture.server.port(), "/v1/producer?confirm=true",
            Tokens.PRODUCER_KEY, 0, false))
        {
            RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "producer registered");
            final Future<List<String>> stream = post("lost-run");
            assertEquals("lost-run", dying.nextOfType("user_message").path("run_id").asText());
            dying.reset(); // before confirming it

            final List<String> events = stream.get(10, TimeUnit.SECONDS);
            assertEquals(1, events.size(), events.toString());
            final JsonNode error = dev.agentwire.server.http.Json.MAPPER.readTree(events.get(0));
            assertEquals("RUN_ERROR", error.get("type").asText());
            assertEquals("message_lost", error.get("code").asText(), error.toString());
            assertTrue(error.get("message").asText().contains("no_agent"), error.toString());
        }
    }

    @Test
    void shouldNotCutARunThatStartedInTimeHoweverLongItRuns() throws Exception
    {
        final WsClient runtime = fixture.producerSocket();
        RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "producer registered");
        final Future<List<String>> stream = post("slow-run");
        runtime.nextOfType("user_message", 5_000);
        runtime.send("{\"ref\":\"s1\",\"user\":\"timer\",\"type\":\"agent_started\",\"run_id\":\"slow-run\"," +
            "\"thread_id\":\"th\",\"data\":{\"agent\":\"slow\"}}");
        assertEquals("accepted", runtime.nextOfType("ack", 5_000).get("status").asText());
        // Finished well after the start timeout would have passed.
        Thread.sleep(3 * START_TIMEOUT_MS);
        runtime.send("{\"ref\":\"s2\",\"user\":\"timer\",\"type\":\"agent_completed\",\"run_id\":\"slow-run\"," +
            "\"thread_id\":\"th\",\"data\":{\"outcome\":\"success\",\"result\":\"done\"}}");

        final List<String> events = stream.get(10, TimeUnit.SECONDS);
        assertTrue(events.get(0).contains("\"RUN_STARTED\""), events.toString());
        assertTrue(events.get(events.size() - 1).contains("\"RUN_FINISHED\""), events.toString());
        assertTrue(events.stream().noneMatch(e -> e.contains("RUN_ERROR")), events.toString());
    }

    @Test
    void shouldHoldNothingOfAStreamOnceItEnded() throws Exception
    {
        // Before: each stream's next keep-alive (15 s) and start check (the limit) were left scheduled, and held the
        // finished stream and its buffers until they ran: 500 short runs left 500 streams on the heap.
        final WsClient runtime = fixture.producerSocket();
        RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "producer registered");
        final int runs = 40;
        for (int i = 0; i < runs; i++)
        {
            final Future<List<String>> stream = post("short-" + i);
            runtime.nextOfType("user_message", 5_000);
            runtime.send("{\"user\":\"timer\",\"type\":\"agent_started\",\"run_id\":\"short-" + i +
                "\",\"thread_id\":\"th\",\"data\":{\"agent\":\"short\"}}");
            runtime.send("{\"user\":\"timer\",\"type\":\"agent_completed\",\"run_id\":\"short-" + i +
                "\",\"thread_id\":\"th\",\"data\":{\"outcome\":\"success\",\"result\":\"ok\"}}");
            final List<String> events = stream.get(10, TimeUnit.SECONDS);
            assertTrue(events.get(events.size() - 1).contains("RUN_FINISHED"), events.toString());
            if (i % 10 == 9)
            {
                Thread.sleep(1_100); // within the user's connect rate (10 a second)
            }
        }
        // The JVM's own count, after the full collection jcmd's histogram makes first.
        final Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
            Long.toString(ProcessHandle.current().pid()), "GC.class_histogram").redirectErrorStream(true).start();
        final String histogram = new String(jcmd.getInputStream().readAllBytes());
        assertTrue(jcmd.waitFor(30, TimeUnit.SECONDS) && jcmd.exitValue() == 0, histogram);
        long held = 0;
        for (final String line : histogram.split("\n"))
        {
            final String[] columns = line.trim().split("\\s+");
            if (columns.length >= 4 && columns[3].equals("dev.agentwire.server.sse.AgUiRunStream"))
            {
                held = Long.parseLong(columns[1]);
            }
        }
        assertTrue(held <= 2, runs + " streams ended, " + held + " still held");
    }

    /** Posts an input for {@code runId} as user {@code timer}: the stream's {@code data:} lines, once it ends. */
    private Future<List<String>> post(final String runId) throws Exception
    {
        final HttpRequest request = HttpRequest.newBuilder(fixture.http("/v1/ag-ui/run"))
            .header("Authorization", "Bearer " + Tokens.hs256("timer", 60_000))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"threadId\":\"th\",\"runId\":\"" + runId + "\"," +
                "\"messages\":[{\"id\":\"m\",\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[],\"context\":[]," +
                "\"state\":{},\"forwardedProps\":{}}"))
            .build();
        final HttpResponse<java.util.stream.Stream<String>> response =
            WsClient.HTTP.send(request, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, response.statusCode());
        return reader.submit(() -> response.body().filter(line -> line.startsWith("data: "))
            .map(line -> line.substring(6)).collect(Collectors.toList()));
    }
}
