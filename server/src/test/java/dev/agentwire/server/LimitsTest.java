package dev.agentwire.server;

import dev.agentwire.server.ingest.IngestEndpoints;
import dev.agentwire.server.websocket.CloseCodes;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input gets a clear error and loses nothing: oversize, floods, malformed frames and bodies, each with its
 * defined answer, while other clients keep being served.
 */
@Timeout(60)
class LimitsTest
{
    @TempDir
    Path dir;
    private ServerFixture fixture;

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldCloseAnOversizeMessageWith1009WhileOthersAreServed() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.maxMessageBytes(1024));
        final WsClient big = fixture.connect("big");
        final WsClient bystander = fixture.connect("bystander");
        big.next(5_000);
        bystander.next(5_000);
        big.send("{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{\"text\":\"" + "x".repeat(4_000) + "\"}}");
        assertEquals(1009, big.awaitClose(5_000));
        RecordingAwait.until(() -> fixture.server.metrics().closedWith(CloseCodes.TOO_BIG) > 0, 5_000,
            "close counted under 1009");

        fixture.publish(ServerFixture.runBatch("bystander", "r1"));
        assertEquals(5, bystander.collect(WsClient::isEvent, 5, 5_000).size());
        assertTrue(bystander.isOpen());
    }

    @Test
    void shouldAnswerMalformedAndUnknownMessagesWithAnErrorAndKeepServing() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { });
        final WsClient messy = fixture.connect("messy");
        final WsClient bystander = fixture.connect("calm");
        messy.next(5_000);
        bystander.next(5_000);

        messy.send("{not json");
        assertEquals("bad_message", messy.nextOfType("error", 5_000).get("code").asText());
        messy.send("[1,2,3]");
        assertEquals("bad_message", messy.nextOfType("error", 5_000).get("code").asText());
        messy.send("{\"type\":\"teleport\"}");
        final JsonNode unknown = messy.nextOfType("error", 5_000);
        assertEquals("unknown_type", unknown.get("code").asText());
        messy.send("{\"type\":\"user_message\",\"data\":{}}");
        assertEquals("bad_message", messy.nextOfType("error", 5_000).get("code").asText());
        messy.sendBinary(new byte[]{1, 2, 3});
        assertEquals("bad_message", messy.nextOfType("error", 5_000).get("code").asText());
        messy.send("{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{}}");
        assertEquals("no_agent", messy.nextOfType("error", 5_000).get("code").asText());

        final HttpResponse<String> toMessy = fixture.publish(ServerFixture.runBatch("messy", "messy-r1"));
        assertEquals(202, toMessy.statusCode(), toMessy.body());
        assertEquals(202, fixture.publish(ServerFixture.runBatch("calm", "calm-r1")).statusCode());
        assertEquals(5, messy.collect(WsClient::isEvent, 5, 5_000).size());
        assertEquals(5, bystander.collect(WsClient::isEvent, 5, 5_000).size());
    }

    @Test
    void shouldCloseAConnectionWith4003AtItsBadMessageBoundAndLoseNothing() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.maxBadMessages(3));
        final WsClient broken = fixture.connect("broken");
        final WsClient bystander = fixture.connect("steady");
        final long epoch = broken.next(5_000).get("epoch").asLong();
        bystander.next(5_000);
        assertEquals(202, fixture.publish(ServerFixture.runBatch("broken", "broken-r1")).statusCode());
        assertEquals(5, broken.collect(WsClient::isEvent, 5, 5_000).size());

        broken.send("{not json");
        assertEquals("bad_message", broken.nextOfType("error", 5_000).get("code").asText());
        broken.send("{\"type\":\"teleport\"}"); // an unknown type is not counted: a newer client may send it
        assertEquals("unknown_type", broken.nextOfType("error", 5_000).get("code").asText());
        broken.send("[1]");
        assertEquals("bad_message", broken.nextOfType("error", 5_000).get("code").asText());
        broken.send("{\"type\":\"ping\"}");
        assertEquals("pong", broken.nextOfType("pong", 5_000).get("type").asText());
        broken.sendBinary(new byte[]{1});
        assertEquals("bad_message", broken.nextOfType("error", 5_000).get("code").asText());
        assertEquals(4003, broken.awaitClose(5_000));

        // Nobody else noticed, and what the user's stream got meanwhile is there on the next connection.
        assertEquals(202, fixture.publish(ServerFixture.runBatch("broken", "broken-r2")).statusCode());
        assertEquals(202, fixture.publish(ServerFixture.runBatch("steady", "steady-r1")).statusCode());
        assertEquals(5, bystander.collect(WsClient::isEvent, 5, 5_000).size());
        final WsClient back = fixture.connectWith(Tokens.hs256("broken", 60_000), "epoch=" + epoch + "&after=5");
        final List<JsonNode> missed = back.collect(WsClient::isEvent, 5, 5_000);
        assertEquals(6, missed.get(0).get("seq").asLong());
        assertEquals(10, missed.get(4).get("seq").asLong());
    }

    @Test
    void shouldCloseAFloodingConnectionWith4002() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.inboundRatePerSec(5).inboundBurst(10));
        final WsClient flood = fixture.connect("flood");
        final WsClient bystander = fixture.connect("steady");
        flood.next(5_000);
        bystander.next(5_000);
        for (int i = 0; i < 50 && flood.isOpen(); i++)
        {
            try
            {
                flood.send("{\"type\":\"ping\"}");
            }
            catch (final RuntimeException closed)
            {
                break;
            }
        }
        assertEquals(4002, flood.awaitClose(5_000));
        bystander.send("{\"type\":\"ping\"}");
        assertEquals("pong", bystander.nextOfType("pong", 5_000).get("type").asText());
    }

    @Test
    void shouldAnswerProducerErrorsWithTheirStatus() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.maxBodyBytes(4096).producerRatePerSec(1).producerBurst(8));
        HttpResponse<String> response = fixture.publish("{oops");
        assertEquals(400, response.statusCode());
        assertTrue(ServerFixture.json(response).get("error").get("message").asText().startsWith("body is not valid JSON"));

        response = fixture.publish("[{\"user\":\"u\",\"type\":\"app.x\"},{\"user\":\"u\",\"type\":\"tool_executing\"," +
            "\"run_id\":\"r\",\"data\":{\"tool\":\"t\",\"args\":{}}}]");
        assertEquals(400, response.statusCode());
        assertEquals("events[1].data.tool_call_id is required",
            ServerFixture.json(response).get("error").get("message").asText(), "a batch with one bad event: nothing");

        response = fixture.publish("{\"type\":\"app.x\"}");
        assertEquals(400, response.statusCode());
        assertTrue(response.body().contains("exactly one of user, room or broadcast"));

        response = fixture.publish("{\"user\":\"u\",\"type\":\"Nope\"}");
        assertEquals(400, response.statusCode());

        response = fixture.publish("[" + "{\"user\":\"u\",\"type\":\"app.x\",\"data\":{\"p\":\"" + "y".repeat(5_000) +
            "\"}}]");
        assertEquals(413, response.statusCode());

        // Burst 8 at 1/s: however slow this machine, no more than 8 plus one per elapsed second are accepted.
        final long startedNs = System.nanoTime();
        int limited = 0;
        int accepted = 0;
        for (int i = 0; i < 16; i++)
        {
            final HttpResponse<String> r = fixture.publish("{\"user\":\"u\",\"type\":\"app.x\",\"data\":{}}");
            if (r.statusCode() == 429)
            {
                limited++;
                assertTrue(r.headers().firstValue("Retry-After").isPresent());
            }
            else
            {
                assertEquals(202, r.statusCode(), r.body());
                accepted++;
            }
        }
        final long elapsedS = (System.nanoTime() - startedNs) / 1_000_000_000L;
        assertTrue(accepted <= 8 + elapsedS + 1, "accepted " + accepted + " in " + elapsedS + " s");
        assertTrue(limited >= 1, "producer rate limit hit: " + limited);
    }

    @Test
    void shouldStillAnswerWhenTheEngineCannotNumberTheEventsInTime() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { }, dev.agentwire.core.AgentWireConfig.builder().sliceCount(1));
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch stalled = new java.util.concurrent.CountDownLatch(1);
        // An in-process subscriber whose listener blocks: it stalls the only slice (what a bug in an embedding
        // application would do).
        fixture.server.engine().subscribe("staller", new dev.agentwire.core.SubscriberListener()
        {
            @Override
            public void onAvailable(final dev.agentwire.core.Subscription subscription)
            {
                stalled.countDown();
                try
                {
                    release.await(20, java.util.concurrent.TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void onClosed(final dev.agentwire.core.Subscription subscription, final int reason)
            {
            }
        });
        try
        {
            assertTrue(stalled.await(5, java.util.concurrent.TimeUnit.SECONDS));
            final long started = System.nanoTime();
            final HttpResponse<String> response =
                fixture.publish("{\"user\":\"someone\",\"type\":\"app.note\",\"data\":{}}");
            final long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            assertEquals(202, response.statusCode(), response.body());
            final JsonNode body = ServerFixture.json(response);
            assertTrue(body.get("seqs_pending").asBoolean());
            assertEquals("accepted", body.get("results").get(0).get("status").asText());
            assertTrue(elapsedMs >= IngestEndpoints.RECEIPT_TIMEOUT_MS - 500, "waited " + elapsedMs);

            // A native AG-UI batch is answered the same way: taken, its seqs to follow.
            final HttpResponse<String> agUi = fixture.post("/v1/ag-ui/events", "{\"user\":\"someone\",\"events\":" +
                "[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"stalled-run\"}]}", Tokens.PRODUCER_KEY);
            assertEquals(202, agUi.statusCode(), agUi.body());
            assertTrue(ServerFixture.json(agUi).get("seqs_pending").asBoolean(), agUi.body());
        }
        finally
        {
            release.countDown();
        }
    }
}
