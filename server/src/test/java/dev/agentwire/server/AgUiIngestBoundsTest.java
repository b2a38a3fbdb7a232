package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
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
 * Native AG-UI in ({@code POST /v1/ag-ui/events}) at its bounds, from the second audit's defects: a batch cut by a
 * full ring keeps its accepted part so a retry continues the run, run state is bounded and its refusals short,
 * and numbers pass through byte for byte on every AG-UI path (docs/RELIABILITY.md, "What one user can cost").
 */
@Timeout(60)
class AgUiIngestBoundsTest
{
    @TempDir
    Path dir;
    private ServerFixture fixture;

    private void start(final AgentWireConfig.Builder engine)
    {
        fixture = new ServerFixture(dir, b -> b.producerRatePerSec(1_000_000).producerBurst(1_000_000), engine);
    }

    @AfterEach
    void stop()
    {
        if (fixture != null)
        {
            fixture.close();
        }
    }

    private HttpResponse<String> agUiPost(final String body) throws Exception
    {
        return fixture.post("/v1/ag-ui/events", body, Tokens.PRODUCER_KEY);
    }

    // 1. A native AG-UI batch cut by a full ring.

    @Test
    void shouldKeepTheAcceptedPartOfANativeBatchSoARetryContinuesTheRun() throws Exception
    {
        start(AgentWireConfig.builder().sliceCount(1).ringSize(64));
        final WsClient watcher = fixture.connect("ring");
        JsonNode refused = null;
        String runId = null;
        String body = null;
        for (int attempt = 0; attempt < 20 && refused == null; attempt++)
        {
            runId = "r" + attempt;
            final StringBuilder batch = new StringBuilder("{\"user\":\"ring\",\"id\":\"b-" + attempt + "\"," +
                "\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"" + runId + "\"}");
            for (int i = 0; i < 998; i++)
            {
                batch.append(",{\"type\":\"CUSTOM\",\"name\":\"n\",\"value\":").append(i).append('}');
            }
            body = batch.append(",{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"").append(runId)
                .append("\"}]}").toString();
            final HttpResponse<String> answer = agUiPost(body);
            if (answer.statusCode() == 503)
            {
                refused = ServerFixture.json(answer);
            }
            else
            {
                assertEquals(202, answer.statusCode(), answer.body());
            }
        }
        assertTrue(refused != null, "a 1,000-event batch into a 64-slot ring was refused at least once");
        final int accepted = refused.path("accepted").asInt();
        assertTrue(accepted > 0 && accepted < 1000, "part of the batch was accepted: " + accepted);

        // The same batch, same key: what was accepted is passed over (duplicate), the rest goes on; no 422.
        HttpResponse<String> retry = agUiPost(body);
        for (int i = 0; i < 50 && retry.statusCode() == 503; i++)
        {
            Thread.sleep(100);
            retry = agUiPost(body);
        }
        assertEquals(202, retry.statusCode(), retry.body());
        final String finalRun = runId;
        final List<JsonNode> started = new ArrayList<>();
        RecordingAwait.until(() ->
        {
            started.clear();
            for (final JsonNode m : watcher.messages)
            {
                if ("ag-ui.run_finished".equals(m.path("type").asText()) && finalRun.equals(m.path("run_id").asText()))
                {
                    return true;
                }
            }
            return false;
        }, 30_000, "the run finished");
        final long startedCount = watcher.messages.stream().filter(m -> "ag-ui.run_started".equals(
            m.path("type").asText()) && finalRun.equals(m.path("run_id").asText())).count();
        assertEquals(1, startedCount, "RUN_STARTED delivered once");
        final long customs = watcher.messages.stream().filter(m -> "ag-ui.custom".equals(m.path("type").asText()) &&
            finalRun.equals(m.path("run_id").asText())).count();
        assertEquals(998, customs, "every event of the run delivered once");
    }

    // 2. Native AG-UI run state bounded.

    @Test
    void shouldBoundNativeRunStateAndAnswerShortly() throws Exception
    {
        start(AgentWireConfig.builder().sliceCount(2).maxToolCallsPerRun(16).runRetentionMs(300));
        final StringBuilder calls = new StringBuilder("{\"user\":\"u\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"big\"}");
        for (int i = 0; i < 17; i++)
        {
            calls.append(",{\"type\":\"TOOL_CALL_START\",\"toolCallId\":\"c").append(i)
                .append("\",\"toolCallName\":\"f\"}");
        }
        final HttpResponse<String> tooMany = agUiPost(calls.append("]}").toString());
        assertEquals(422, tooMany.statusCode());
        assertEquals("run_too_many_open_parts", ServerFixture.json(tooMany).path("rule").asText());

        final HttpResponse<String> longId = agUiPost("{\"user\":\"u\",\"events\":[{\"type\":\"RUN_STARTED\"," +
            "\"threadId\":\"t\",\"runId\":\"" + "r".repeat(300) + "\"}]}");
        assertEquals(422, longId.statusCode());
        assertEquals("field_too_long", ServerFixture.json(longId).path("rule").asText());

        final StringBuilder huge = new StringBuilder("{\"user\":\"u\",\"events\":[");
        for (int i = 0; i < 1_001; i++)
        {
            huge.append(i == 0 ? "" : ",").append("{\"type\":\"RAW\",\"event\":{}}");
        }
        assertEquals(400, agUiPost(huge.append("]}").toString()).statusCode());

        // A refusal naming open parts stays short, however many are open.
        final StringBuilder open = new StringBuilder("{\"user\":\"u\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"open\"}");
        for (int i = 0; i < 16; i++)
        {
            open.append(",{\"type\":\"TOOL_CALL_START\",\"toolCallId\":\"call-").append(i)
                .append("\",\"toolCallName\":\"f\"}");
        }
        assertEquals(202, agUiPost(open.append("]}").toString()).statusCode());
        final HttpResponse<String> finished = agUiPost("{\"user\":\"u\",\"runId\":\"open\",\"events\":[" +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"open\"}]}");
        assertEquals(422, finished.statusCode());
        assertTrue(finished.body().length() < 1_000, "refusal of " + finished.body().length() + " bytes");

        // Finished runs are forgotten after the run retention, and the gauge says how many are held.
        for (int i = 0; i < 20; i++)
        {
            assertEquals(202, agUiPost("{\"user\":\"u\",\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\"," +
                "\"runId\":\"done-" + i + "\"},{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"done-" + i +
                "\"}]}").statusCode());
        }
        assertTrue(fixture.metric("agentwire_ag_ui_runs") >= 20, "the finished runs are held for the retention");
        Thread.sleep(400);
        // Expiry runs at the next batch.
        assertEquals(202, agUiPost("{\"user\":\"u\",\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\"," +
            "\"runId\":\"last\"}]}").statusCode());
        assertTrue(fixture.metric("agentwire_ag_ui_runs") <= 2, "finished runs forgotten after the retention");
        assertTrue(fixture.metric("agentwire_ag_ui_runs_forgotten_total") >= 20);
    }

    // 3. Numbers passed through.

    @Test
    void shouldPassNumbersThroughByteForByteOnEveryAgUiPath() throws Exception
    {
        start(AgentWireConfig.builder().sliceCount(2));
        final WsClient ws = fixture.connect("num");
        final WsClient agUi = WsClient.connect(
            URI.create("ws://127.0.0.1:" + fixture.server.port() + "/v1/ag-ui"),
            Tokens.hs256("num", 60_000));
        try
        {
            agUi.collect(m -> "agentwire.live".equals(m.path("name").asText()), 1, 10_000);
            final String numbers = "{\"big\":1e400,\"precise\":0.30000000000000000001," +
                "\"wide\":123456789012345678901234567890.5,\"negativeZero\":-0.0,\"exp\":1E5}";
            assertEquals(202, agUiPost("{\"user\":\"num\",\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\"," +
                "\"runId\":\"n1\"},{\"type\":\"CUSTOM\",\"name\":\"nums\",\"value\":" + numbers + "}]}").statusCode());
            assertEquals(202, fixture.publish("{\"user\":\"num\",\"type\":\"app.nums\",\"data\":" + numbers + "}")
                .statusCode());
            final List<String> wsFrames = rawTexts(ws);
            final List<String> agUiFrames = rawTexts(agUi);
            for (final String frames : List.of(String.join("\n", wsFrames), String.join("\n", agUiFrames)))
            {
                assertTrue(frames.contains("1e400") && frames.contains("0.30000000000000000001") &&
                    frames.contains("123456789012345678901234567890.5") && frames.contains("-0.0") &&
                    frames.contains("1E5"), "numbers rewritten: " + frames);
                assertFalse(frames.contains("Infinity"), frames);
            }
        }
        finally
        {
            agUi.close();
        }
    }

    /** The raw text of the frames carrying the two number events, once both arrived. */
    private static List<String> rawTexts(final WsClient client) throws Exception
    {
        RecordingAwait.until(() -> client.texts.stream().filter(t -> t.contains("nums")).count() >= 2, 10_000,
            "both number events");
        final List<String> texts = new ArrayList<>();
        for (final String text : client.texts)
        {
            if (text.contains("nums"))
            {
                texts.add(text);
            }
        }
        return texts;
    }
}
