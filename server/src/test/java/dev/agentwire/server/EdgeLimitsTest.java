package dev.agentwire.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bounds a client meets before it is anyone: slow request heads, idle connections, connections per address
 * that never complete a request, the total connection bound (with health probes still answered), forwarded
 * addresses only from trusted proxies, and the metrics key. Raw sockets, so the test decides how bytes arrive.
 */
@Timeout(60)
final class EdgeLimitsTest
{
    @TempDir
    Path dir;
    private ServerFixture fixture;
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void tearDown() throws IOException
    {
        for (final Socket socket : sockets)
        {
            socket.close();
        }
        if (fixture != null)
        {
            fixture.close();
        }
    }

    @Test
    void shouldCloseAClientThatSendsItsHeadersTooSlowly() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.requestParseTimeoutMs(500).idleTimeoutMs(5_000));
        final Socket slow = open();
        final OutputStream out = slow.getOutputStream();
        final long startNs = System.nanoTime();
        final byte[] head = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);
        boolean closed = false;
        // One byte every 100 ms: each byte is well within any read timeout, the whole head never arrives.
        for (int i = 0; i < 100 && !closed; i++)
        {
            try
            {
                out.write(head[i % head.length]);
                out.flush();
                Thread.sleep(100);
                closed = isClosedByServer(slow, 1);
            }
            catch (final IOException reset)
            {
                closed = true;
            }
        }
        final long elapsedMs = (System.nanoTime() - startNs) / 1_000_000;
        assertTrue(closed, "a slowloris head was not cut");
        assertTrue(elapsedMs < 5_000, "cut after " + elapsedMs + " ms, parse timeout 500 ms");
        assertEquals(200, get("/healthz").statusCode(), "others are served");
    }

    @Test
    void shouldCloseAConnectionThatSendsNothing() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.idleTimeoutMs(1_000));
        final Socket silent = open();
        assertTrue(isClosedByServer(silent, 10_000), "an idle connection stays open past the idle timeout");
    }

    @Test
    void shouldCloseConnectionsPastThePendingBoundOfOneAddress() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.maxPendingConnectionsPerIp(5).idleTimeoutMs(30_000));
        final List<Socket> pending = new ArrayList<>();
        for (int i = 0; i < 5; i++)
        {
            pending.add(open());
        }
        // Two I/O threads accept: the sixth must be the sixth the server sees, not merely the sixth connected.
        RecordingAwait.until(() -> fixture.server.connectionsHeld() >= 5, 5_000, "five held");
        final Socket sixth = open();
        assertTrue(isClosedByServer(sixth, 5_000), "the sixth pending connection of one address is closed");
        // A connection that completes a request is pending no more: room for another.
        for (final Socket socket : pending)
        {
            sendHealthz(socket);
            assertTrue(readStatusLine(socket).startsWith("HTTP/1.1 200"));
        }
        final Socket another = open();
        sendHealthz(another);
        assertTrue(readStatusLine(another).startsWith("HTTP/1.1 200"));
        assertEquals(1, counter("agentwire_http_pending_refused_total"));
    }

    @Test
    void shouldAnswerHealthProbesTruthfullyAtTheConnectionBound() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.maxConnections(16).maxPendingConnectionsPerIp(1_000));
        // The JDK client keeps a pooled connection or two; fill the rest with idle sockets that count as held.
        for (int i = 0; i < 16; i++)
        {
            open();
        }
        RecordingAwait.until(() -> fixture.server.connectionsHeld() >= 16, 5_000, "16 held");
        final Socket healthz = open();
        sendHealthz(healthz);
        final String answer = readAll(healthz);
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertTrue(answer.contains("at connection capacity"), answer);
        final Socket readyz = open();
        readyz.getOutputStream().write("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(readAll(readyz).startsWith("HTTP/1.1 503"));
        final Socket events = open();
        events.getOutputStream().write(("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            .getBytes(StandardCharsets.US_ASCII));
        final String refused = readAll(events);
        assertTrue(refused.startsWith("HTTP/1.1 503") && refused.contains("at_capacity"), refused);
    }

    @Test
    void shouldCapByTheForwardedAddressOnlyBehindATrustedProxy() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.maxConnectionsPerIp(1).trustProxy("127.0.0.1"));
        assertEquals(101, upgradeStatus("ann", "203.0.113.7"));
        assertEquals(101, upgradeStatus("ben", "203.0.113.8"), "another client behind the same proxy");
        assertEquals(429, upgradeStatus("cid", "203.0.113.7"), "the same client again: its cap");
        fixture.close();

        fixture = new ServerFixture(dir, b -> b.maxConnectionsPerIp(1));
        assertEquals(101, upgradeStatus("ann", "203.0.113.7"));
        assertEquals(429, upgradeStatus("ben", "203.0.113.8"), "untrusted forwarding headers are ignored");
    }

    @Test
    void shouldGuardMetricsWithItsKeyWhenOneIsSet() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.metricsKey("metrics-key-0123456789"));
        assertEquals(401, get("/metrics").statusCode());
        final HttpResponse<String> scraped = WsClient.HTTP.send(HttpRequest.newBuilder(fixture.http("/metrics"))
            .header("Authorization", "Bearer metrics-key-0123456789").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, scraped.statusCode());
        assertTrue(scraped.body().contains("agentwire_http_connections"));
    }

    /** Upgrades a socket; a 101 is awaited until the server has counted the connection against its caps. */
    private int upgradeStatus(final String user, final String forwardedFor) throws Exception
    {
        final long opened = fixture.server.metrics().connectionsOpened();
        final Socket socket = open();
        socket.getOutputStream().write(("GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" +
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
            "X-Forwarded-For: " + forwardedFor + "\r\nAuthorization: Bearer " + Tokens.hs256(user, 60_000) +
            "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        final int status = Integer.parseInt(readStatusLine(socket).substring(9, 12));
        if (status == 101)
        {
            RecordingAwait.until(() -> fixture.server.metrics().connectionsOpened() > opened, 5_000,
                "the connection counted");
        }
        return status;
    }

    private Socket open() throws IOException
    {
        final Socket socket = new Socket("127.0.0.1", fixture.server.port());
        socket.setSoTimeout(10_000);
        sockets.add(socket);
        return socket;
    }

    private static void sendHealthz(final Socket socket) throws IOException
    {
        socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    private static String readStatusLine(final Socket socket) throws IOException
    {
        final InputStream in = socket.getInputStream();
        final StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n')
        {
            line.append((char)b);
        }
        return line.toString().trim();
    }

    /** Reads until the server closes the connection (over-capacity answers close it). */
    private static String readAll(final Socket socket) throws IOException
    {
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    /** @return true when the server closed the connection within the time (a read sees the end, or a reset). */
    private static boolean isClosedByServer(final Socket socket, final int withinMs) throws IOException
    {
        socket.setSoTimeout(withinMs);
        try
        {
            return socket.getInputStream().read() < 0;
        }
        catch (final SocketTimeoutException stillOpen)
        {
            return false;
        }
        catch (final IOException reset)
        {
            return true;
        }
        finally
        {
            socket.setSoTimeout(10_000);
        }
    }

    private HttpResponse<String> get(final String path) throws Exception
    {
        return WsClient.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fixture.server.port() + path))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private long counter(final String name) throws Exception
    {
        for (final String line : get("/metrics").body().split("\n"))
        {
            if (line.startsWith(name + " "))
            {
                return (long)Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return -1;
    }
}
