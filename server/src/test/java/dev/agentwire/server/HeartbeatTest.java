package dev.agentwire.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Heartbeats: the server pings; a peer that never answers is closed with 4005, one that answers stays (user and
 * producer sockets); a crowd that connects at once is pinged at phases spread over the period, not all in one tick.
 */
@Timeout(60)
class HeartbeatTest
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
    void shouldCloseAPeerThatNeverAnswersPingsAndKeepOneThatDoes() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.heartbeatIntervalMs(200).heartbeatTimeoutMs(800));
        final WsClient alive = fixture.connect("alive");
        alive.next(5_000);

        assertClosedAsSilent("dead");
        assertTrue(alive.isOpen(), "a peer that answers pings stays open");
        alive.send("{\"type\":\"ping\"}");
        assertEquals("pong", alive.nextOfType("pong", 5_000).get("type").asText());
    }

    @Test
    void shouldStillWatchAConnectionThatCameAfterEveryOtherLeft() throws Exception
    {
        // One I/O thread, whose clock stops while it has no connection and must start again for the next one.
        fixture = new ServerFixture(dir, b -> b.ioThreads(1).heartbeatIntervalMs(200).heartbeatTimeoutMs(800));
        final WsClient first = fixture.connect("first");
        first.next(5_000);
        first.close();
        RecordingAwait.until(() -> fixture.metric("agentwire_connections") == 0, 10_000, "the first one gone");

        assertClosedAsSilent("later");
    }

    /** A raw peer completes the upgrade, then never reads and never answers a ping: closed with 4005 in time. */
    private void assertClosedAsSilent(final String user) throws Exception
    {
        try (Socket dead = new Socket("127.0.0.1", fixture.server.port()))
        {
            dead.setSoTimeout(10_000);
            final OutputStream out = dead.getOutputStream();
            out.write(("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                "Authorization: Bearer " + Tokens.hs256(user, 60_000) + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final long started = System.nanoTime();
            final byte[] received = readUntilEof(dead.getInputStream());
            final long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            final String head = new String(received, 0, Math.min(received.length, 12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 101", head);
            assertTrue(containsClose(received, 4005), "a close frame with 4005");
            // Not at once: after about the timeout (800 ms; the first ticks find it silent for less than that).
            assertTrue(elapsedMs >= 500, "closed too early: " + elapsedMs);
        }
    }

    @Test
    void shouldCloseAProducerSocketThatNeverAnswersPingsAndGiveUsersMessagesToOneThatDoes() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.heartbeatIntervalMs(200).heartbeatTimeoutMs(800));
        final WsClient answering = fixture.producerSocket(); // the JDK's WebSocket answers pings itself
        final WsClient user = fixture.connect("asker");
        user.next(5_000);
        // A raw runtime: upgraded, reads (the pings and presence frames pass by), never answers.
        try (RawWs.RawClient silent = RawWs.RawClient.connect(fixture.server.port(), "/v1/producer",
            Tokens.PRODUCER_KEY, 0, false))
        {
            final long started = System.nanoTime();
            assertEquals(4005, silent.awaitCloseCode());
            final long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            assertTrue(elapsedMs >= 500, "closed too early: " + elapsedMs);
        }
        assertEquals(1, fixture.server.metrics().producersSilent());
        // Round robin has one runtime left, the one that answers: no prompt goes where none would be answered.
        for (int i = 0; i < 4; i++)
        {
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"p" + i + "\"}}");
            assertEquals("p" + i, answering.nextOfType("user_message", 5_000).path("data").path("text").asText());
        }
        assertTrue(answering.isOpen(), "a runtime that answers pings stays open");
    }

    @Test
    void shouldPingACrowdThatConnectedAtOnceAtPhasesSpreadOverThePeriod() throws Exception
    {
        final int crowd = 100;
        final long intervalMs = 2_000;
        fixture = new ServerFixture(dir, b -> b.heartbeatIntervalMs(intervalMs).heartbeatTimeoutMs(3 * intervalMs));
        final AtomicLongArray firstPingNs = new AtomicLongArray(crowd);
        final CountDownLatch pinged = new CountDownLatch(crowd);
        final List<CompletableFuture<WebSocket>> connecting = new ArrayList<>();
        for (int i = 0; i < crowd; i++)
        {
            final int at = i;
            connecting.add(WsClient.HTTP.newWebSocketBuilder()
                .header("Authorization", "Bearer " + Tokens.hs256("crowd-" + i, 60_000))
                .buildAsync(fixture.ws(null), new WebSocket.Listener()
                {
                    @Override
                    public CompletionStage<?> onPing(final WebSocket socket, final ByteBuffer message)
                    {
                        if (firstPingNs.compareAndSet(at, 0, System.nanoTime()))
                        {
                            pinged.countDown();
                        }
                        socket.request(1);
                        return null;
                    }
                }));
        }
        final List<WebSocket> sockets = new ArrayList<>();
        try
        {
            for (final CompletableFuture<WebSocket> socket : connecting)
            {
                sockets.add(socket.get(10, TimeUnit.SECONDS));
            }
            assertTrue(pinged.await(3 * intervalMs, TimeUnit.MILLISECONDS), "every connection pinged once");

            // With one phase for all, the crowd was pinged in one or two ticks: 50 or more within any 200 ms. Spread
            // over the 2 s period, 200 ms hold about a tenth of them.
            final long[] at = new long[crowd];
            for (int i = 0; i < crowd; i++)
            {
                at[i] = firstPingNs.get(i);
            }
            Arrays.sort(at);
            int most = 0;
            for (int first = 0, last = 0; last < crowd; last++)
            {
                while (at[last] - at[first] >= TimeUnit.MILLISECONDS.toNanos(200))
                {
                    first++;
                }
                most = Math.max(most, last - first + 1);
            }
            assertTrue(most <= crowd / 3, most + " of " + crowd + " first pings within 200 ms");
        }
        finally
        {
            for (final WebSocket socket : sockets)
            {
                socket.abort();
            }
        }
    }

    private static byte[] readUntilEof(final InputStream in) throws Exception
    {
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        final byte[] buffer = new byte[4096];
        int n;
        while ((n = in.read(buffer)) >= 0)
        {
            all.write(buffer, 0, n);
        }
        return all.toByteArray();
    }

    /** Looks for an unmasked close frame (0x88) whose payload starts with the code. */
    private static boolean containsClose(final byte[] bytes, final int code)
    {
        for (int i = 0; i + 3 < bytes.length; i++)
        {
            if ((bytes[i] & 0xFF) == 0x88 && (bytes[i + 1] & 0x7F) >= 2 &&
                (bytes[i + 2] & 0xFF) == (code >> 8) && (bytes[i + 3] & 0xFF) == (code & 0xFF))
            {
                return true;
            }
        }
        return false;
    }
}
