package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.RawWs.RawClient;
import dev.agentwire.server.http.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What one authenticated user (or runtime) can do to the server, from raw sockets that read nothing, close with
 * output pending, flood pings or never read their acks — the second audit's defects, each with the answer it now
 * gets (docs/RELIABILITY.md, "What one user can cost"). Every test failed on the code before the fix.
 */
@Timeout(90)
class HostileClientTest
{
    /** A client socket's receive buffer that stops a non-reading client from taking much. */
    private static final int SMALL_RECEIVE_BUFFER = 4096;

    @TempDir
    Path dir;
    private ServerFixture fixture;
    private final List<RawClient> raw = new ArrayList<>();

    private ServerFixture start(final Consumer<ServerConfig.Builder> customise)
    {
        return start(customise, AgentWireConfig.builder().sliceCount(2));
    }

    private ServerFixture start(final Consumer<ServerConfig.Builder> customise, final AgentWireConfig.Builder engine)
    {
        fixture = new ServerFixture(dir, b ->
        {
            b.producerRatePerSec(1_000_000).producerBurst(1_000_000);
            customise.accept(b);
        }, engine);
        return fixture;
    }

    @AfterEach
    void stop() throws IOException
    {
        for (final RawClient client : raw)
        {
            client.close();
        }
        if (fixture != null)
        {
            fixture.close();
        }
    }

    private RawClient rawUser(final String path, final String user, final int receiveBuffer) throws IOException
    {
        final RawClient client =
            RawClient.connect(fixture.server.port(), path, Tokens.hs256(user, 60_000), receiveBuffer, false);
        raw.add(client);
        return client;
    }

    private void publishBulk(final String user, final int events, final int dataBytes) throws Exception
    {
        final String filler = "x".repeat(dataBytes);
        for (int sent = 0; sent < events; sent += 100)
        {
            final StringBuilder batch = new StringBuilder("[");
            for (int i = sent; i < Math.min(events, sent + 100); i++)
            {
                batch.append(i == sent ? "" : ",").append("{\"user\":\"").append(user)
                    .append("\",\"type\":\"app.bulk\",\"data\":{\"n\":").append(i).append(",\"fill\":\"")
                    .append(filler).append("\"}}");
            }
            assertEquals(202, fixture.publish(batch.append(']').toString()).statusCode());
        }
    }

    private URI agUiUri(final String query)
    {
        return URI.create("ws://127.0.0.1:" + fixture.server.port() + "/v1/ag-ui" + query);
    }

    /** @return how many of {@code attempts} connects in a row were refused 429. */
    private static int refusals(final URI uri, final String user, final int attempts) throws Exception
    {
        int refused = 0;
        for (int i = 0; i < attempts; i++)
        {
            refused += WsClient.refusedStatus(uri, Tokens.hs256(user, 60_000), null) == 429 ? 1 : 0;
        }
        return refused;
    }

    private HttpResponse<String> agUiPost(final String body) throws Exception
    {
        return fixture.post("/v1/ag-ui/events", body, Tokens.PRODUCER_KEY);
    }

    // 1. The AG-UI prelude.

    @Test
    void shouldStreamTheAgUiPreludeWithinTheSendWindowForClientsThatDoNotRead() throws Exception
    {
        start(b -> b.sendWindowBytes(16 * 1024));
        // 300 open text messages, each start event carrying a 20 KB field of the producer's own: 6 MB of history.
        final String extra = "y".repeat(20_000);
        final StringBuilder run = new StringBuilder("{\"user\":\"mallory\",\"events\":[" +
            "{\"type\":\"RUN_STARTED\",\"threadId\":\"t1\",\"runId\":\"r1\"}");
        for (int i = 0; i < 300; i++)
        {
            run.append(",{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"m").append(i)
                .append("\",\"role\":\"assistant\",\"extra\":\"").append(extra).append("\"}");
            if (i % 40 == 39)
            {
                assertEquals(202, agUiPost(run.append("]}").toString()).statusCode());
                run.setLength(0);
                run.append("{\"user\":\"mallory\",\"runId\":\"r1\",\"events\":[{\"type\":\"STEP_STARTED\",\"stepName\":\"s")
                    .append(i).append("\"}");
            }
        }
        assertEquals(202, agUiPost(run.append("]}").toString()).statusCode());

        // Cursor-less AG-UI sockets that never read (as many as the per-user prelude rate lets in over 3 s):
        // each prelude would repeat every open start event.
        int open = 0;
        final long untilMs = System.currentTimeMillis() + 3_000;
        while (System.currentTimeMillis() < untilMs)
        {
            try
            {
                rawUser("/v1/ag-ui", "mallory", SMALL_RECEIVE_BUFFER);
                open++;
            }
            catch (final IOException refused)
            {
                Thread.sleep(100); // 429 past the prelude rate
            }
        }
        final int sockets = open;
        assertTrue(sockets >= 3, "sockets let in: " + sockets);
        RecordingAwait.until(() -> fixture.server.connectionCount() == sockets, 10_000, "the sockets open");
        Thread.sleep(1_500);
        final long pending = fixture.server.userSocketPendingBytes();
        // Each holds at most about one send window (plus one event's overshoot), not a 6 MB prelude.
        assertTrue(pending <= sockets * 64L * 1024, "pending bytes " + pending + " over " + sockets + " send windows");
        Thread.sleep(1_000); // a prelude token for the reader

        // A client that reads gets the whole prelude: the run, each open part with AG-UI's own fields, then live.
        final WsClient reader = WsClient.connect(agUiUri(""),
            Tokens.hs256("mallory", 60_000));
        try
        {
            final List<JsonNode> prelude = new ArrayList<>();
            final long deadline = System.currentTimeMillis() + 30_000;
            while (prelude.isEmpty() || !"agentwire.live".equals(prelude.get(prelude.size() - 1).path("name").asText()))
            {
                assertTrue(System.currentTimeMillis() < deadline, "the prelude ended within 30 s: " + prelude.size());
                prelude.add(reader.next(30_000));
            }
            // The welcome, the run, 300 messages and 7 steps still open, then live.
            assertEquals(1 + 1 + 300 + 7 + 1, prelude.size());
            final long starts = prelude.stream().filter(m -> "TEXT_MESSAGE_START".equals(m.path("type").asText()))
                .count();
            assertEquals(300, starts);
            assertTrue(prelude.stream().noneMatch(m -> m.has("extra")), "producer fields are not repeated");
            assertTrue(prelude.stream().filter(m -> "TEXT_MESSAGE_START".equals(m.path("type").asText()))
                .allMatch(m -> "assistant".equals(m.path("role").asText()) &&
                m.path("metadata").path("agentwire").path("prelude").asBoolean()));
        }
        finally
        {
            reader.close();
        }
    }

    @Test
    void shouldLimitCursorlessAgUiConnectsPerUser() throws Exception
    {
        start(b -> { });
        final int refused = refusals(agUiUri(""), "loop", 12);
        assertTrue(refused >= 8, "a reconnect loop without a cursor is limited: " + refused + " of 12 refused");
        // With a cursor there is no prelude to pay for: not limited.
        WsClient.connect(agUiUri("?epoch=0&after=0"), Tokens.hs256("loop", 60_000)).close();
        // Another user is not affected.
        WsClient.connect(agUiUri(""), Tokens.hs256("bystander", 60_000)).close();
    }

    @Test
    void shouldLimitReconnectLoopsPerUser() throws Exception
    {
        start(b -> { });
        final int refused = refusals(fixture.ws(null), "looper", 40);
        // A burst of 20, then 10 a second: a tight loop of 40 meets the bound.
        assertTrue(refused >= 5, "a reconnect loop is limited: " + refused + " of 40 refused");
        assertEquals(101, WsClient.refusedStatus(fixture.ws(null), Tokens.hs256("bystander", 60_000), null));
    }

    // 2. A client's close with output pending.

    @Test
    void shouldEndTheSocketWhenAClientClosesWhileOutputIsPending() throws Exception
    {
        start(b -> { });
        final List<RawClient> closers = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            closers.add(rawUser("/v1/ws", "quitter", SMALL_RECEIVE_BUFFER));
        }
        RecordingAwait.until(() -> fixture.server.connectionCount() == 4, 10_000, "four sockets open");
        publishBulk("quitter", 1_000, 8_000);
        RecordingAwait.until(() -> fixture.server.userSocketPendingBytes() > 0, 10_000, "output pending");
        for (final RawClient client : closers)
        {
            client.sendClose(1000);
        }
        // The server's answer waits behind output the client never reads: the socket ends at the close timeout.
        RecordingAwait.until(() -> fixture.server.connectionCount() == 0,
            dev.agentwire.server.websocket.WebSocketConnection.CLOSE_TIMEOUT_MS + 5_000, "every socket ended");
        assertEquals(0, fixture.server.connectionCount());
        for (final RawClient client : closers)
        {
            assertTrue(client.drainToEnd(10_000), "the client sees the end of the TCP stream");
        }
    }

    // 3. Close codes 1012-1014 from the client.

    @Test
    void shouldEchoCloseCodes1012To1014AndEndTheSocketAtOnce() throws Exception
    {
        start(b -> { });
        for (final int code : new int[] {1012, 1013, 1014})
        {
            final RawClient client = rawUser("/v1/ws", "echo", 0);
            client.awaitFrame(RawWs.TEXT);
            final long startNs = System.nanoTime();
            client.sendClose(code);
            assertEquals(code, client.awaitCloseCode(), "the server echoes " + code);
            client.awaitEndOfStream();
            final long tookMs = (System.nanoTime() - startNs) / 1_000_000;
            assertTrue(tookMs < 1_000, "close " + code + " took " + tookMs + " ms (a 1002 waited out 2 s)");
        }
    }

    // 4. Producer acks.

    @Test
    void shouldAnswerEveryProducerFrameEvenWhenTheRuntimeReadsLate() throws Exception
    {
        start(b -> { });
        final RawClient producer = RawClient.connect(fixture.server.port(), "/v1/producer", Tokens.PRODUCER_KEY,
            SMALL_RECEIVE_BUFFER, false);
        raw.add(producer);
        final int frames = 60_000;
        final AtomicInteger written = new AtomicInteger();
        final Thread writer = new Thread(() ->
        {
            try
            {
                for (int i = 0; i < frames; i++)
                {
                    producer.sendFrame(0x80 | RawWs.TEXT, ("{\"ref\":\"" + i + "\",\"user\":\"sink\",\"type\":" +
                        "\"app.tick\",\"data\":{\"i\":" + i + "}}").getBytes(StandardCharsets.UTF_8));
                    written.incrementAndGet();
                }
            }
            catch (final IOException ex)
            {
                // the assertion below reports how far it got
            }
        }, "producer-writer");
        writer.setDaemon(true);
        writer.start();
        // Read nothing for a while: the answers fill the window and the server stops reading the runtime.
        Thread.sleep(3_000);
        final boolean[] answered = new boolean[frames];
        int answers = 0;
        final long deadline = System.currentTimeMillis() + 60_000;
        while (answers < frames && System.currentTimeMillis() < deadline)
        {
            final RawWs.Frame frame = producer.readFrame();
            if (frame.opcode != RawWs.TEXT)
            {
                assertFalse(frame.opcode == RawWs.CLOSE, "closed with " + frame.closeCode() + " after " + answers);
                continue;
            }
            final JsonNode answer = Json.MAPPER.readTree(frame.payload);
            final int ref = Integer.parseInt(answer.path("ref").asText());
            assertFalse(answered[ref], "answered twice: " + ref);
            answered[ref] = true;
            answers++;
        }
        writer.join(10_000);
        assertEquals(frames, written.get(), "every frame was written");
        assertEquals(frames, answers, "every frame answered (ack or nack), none dropped");
        // The runtime caught up: it is read again (a pause that outlived its backlog would stall it for good).
        producer.sendFrame(0x80 | RawWs.TEXT, ("{\"ref\":\"after\",\"user\":\"sink\",\"type\":\"app.tick\"," +
            "\"data\":{}}").getBytes(StandardCharsets.UTF_8));
        assertEquals("after", Json.MAPPER.readTree(producer.awaitFrame(RawWs.TEXT).payload).path("ref").asText());
    }

    // 5. Pings from a client that does not read.

    @Test
    void shouldNotGrowPendingOutputWithPongsForAClientThatDoesNotRead() throws Exception
    {
        start(b -> b.inboundRatePerSec(100_000).inboundBurst(100_000));
        final RawClient pinger = rawUser("/v1/ws", "pinger", SMALL_RECEIVE_BUFFER);
        RecordingAwait.until(() -> fixture.server.connectionCount() == 1, 10_000, "socket open");
        publishBulk("pinger", 1_000, 8_000);
        RecordingAwait.until(() -> fixture.server.userSocketPendingBytes() > 0, 10_000, "output pending");
        Thread.sleep(500);
        final long before = fixture.server.userSocketPendingBytes();
        final byte[] payload = new byte[125];
        for (int i = 0; i < 3_000; i++)
        {
            pinger.sendFrame(0x80 | RawWs.PING, payload);
        }
        Thread.sleep(1_000);
        final long after = fixture.server.userSocketPendingBytes();
        // One owed pong at most, not 3,000 (375 KB) of them.
        assertTrue(after - before <= 2 * 127, "pending grew by " + (after - before) + " bytes");
        assertEquals(1, fixture.server.connectionCount());
    }

    @Test
    void shouldCloseAProducerSocketThatFloodsPings() throws Exception
    {
        start(b -> { });
        final RawClient producer = RawClient.connect(fixture.server.port(), "/v1/producer", Tokens.PRODUCER_KEY, 0,
            false);
        raw.add(producer);
        final Thread flood = new Thread(() ->
        {
            try
            {
                for (int i = 0; i < 5_000; i++)
                {
                    producer.sendFrame(0x80 | RawWs.PING, new byte[8]);
                }
            }
            catch (final IOException closed)
            {
                // the server closed the socket: expected
            }
        }, "ping-flood");
        flood.setDaemon(true);
        flood.start();
        assertEquals(4002, producer.awaitCloseCode());
        flood.join(10_000);
    }
}
