package dev.agentwire.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.agentwire.server.RawWs.Frame;
import dev.agentwire.server.RawWs.RawClient;
import dev.agentwire.server.websocket.WebSocketConnection;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The user socket's framing against RFC 6455, byte by byte from a raw TCP socket: what a browser never sends but a
 * broken or hostile client can. Each violation is answered with the close code the RFC gives, and the server then
 * ends the connection; every valid frame, however split, is understood.
 */
@Timeout(30)
final class WebSocketProtocolTest
{
    private static final int TEXT = RawWs.TEXT;
    private static final int BINARY = RawWs.BINARY;
    private static final int CONTINUATION = RawWs.CONTINUATION;
    private static final int CLOSE = RawWs.CLOSE;
    private static final int PING = RawWs.PING;
    private static final int PONG = RawWs.PONG;

    @TempDir
    Path dir;
    private ServerFixture fixture;

    @BeforeEach
    void start()
    {
        fixture = new ServerFixture(dir, b -> b.maxMessageBytes(4096).inboundRatePerSec(50).inboundBurst(100));
    }

    @AfterEach
    void stop()
    {
        fixture.close();
    }

    @Test
    void shouldClose1002OnAnUnmaskedClientFrame() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendUnmasked(TEXT, "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
            assertEquals(1002, client.awaitCloseCode());
            client.awaitEndOfStream();
        }
    }

    @Test
    void shouldEndTheSocketAsSoonAsTheClientEndsItsSideAfterAViolation() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            violateWithAReservedBit(client);
            client.socket().shutdownOutput();
            // Half the close timeout: the socket ends on the client's end of stream, not on the server's timer.
            client.socket().setSoTimeout((int)(WebSocketConnection.CLOSE_TIMEOUT_MS / 2));
            client.awaitEndOfStream();
        }
    }

    @Test
    void shouldEndTheSocketOfAClientThatKeepsSendingAfterAViolation() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            violateWithAReservedBit(client);
            final long startNs = System.nanoTime();
            final byte[] junk = new byte[16 * 1024];
            boolean ended = false;
            for (int i = 0; i < 64 && !ended; i++)
            {
                try
                {
                    client.socket().getOutputStream().write(junk);
                }
                catch (final java.net.SocketException reset)
                {
                    ended = true;
                }
            }
            client.socket().setSoTimeout((int)(WebSocketConnection.CLOSE_TIMEOUT_MS / 2));
            if (!ended)
            {
                ended = client.drainToEnd(WebSocketConnection.CLOSE_TIMEOUT_MS / 2);
            }
            assertTrue(ended, "the socket should end once more than MAX_READ_AFTER_CLOSE_BYTES follow the close");
            final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
            assertTrue(elapsedMs < WebSocketConnection.CLOSE_TIMEOUT_MS, "ended by the bound: " + elapsedMs + " ms");
        }
    }

    @Test
    void shouldClose1002OnAReservedBit() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            violateWithAReservedBit(client);
        }
    }

    /** Sends a text frame with RSV1 set (no extension was negotiated) and awaits the server's 1002 close. */
    private static void violateWithAReservedBit(final RawClient client) throws Exception
    {
        client.sendFrame(0x80 | 0x40 | TEXT, "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(1002, client.awaitCloseCode());
    }

    @Test
    void shouldClose1002OnAnUnknownOpcode() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(0x80 | 0x3, new byte[] {1, 2, 3});
            assertEquals(1002, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1007OnTextThatIsNotUtf8() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            // An overlong encoding of '/', then a lone continuation byte: both invalid UTF-8.
            client.sendFrame(0x80 | TEXT, new byte[] {'{', (byte)0xC0, (byte)0xAF, (byte)0x80, '}'});
            assertEquals(1007, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1007OnUtf8BrokenAcrossFragments() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            // A valid message may split a character across fragments; a truncated one at the end is invalid.
            client.sendFrame(TEXT, new byte[] {'"', (byte)0xE2, (byte)0x82});
            client.sendFrame(0x80 | CONTINUATION, new byte[] {'"'});
            assertEquals(1007, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1002OnAControlFrameOver125Bytes() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(0x80 | PING, new byte[126]);
            assertEquals(1002, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1002OnAFragmentedControlFrame() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(PING, new byte[] {1});
            assertEquals(1002, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1002OnAContinuationThatContinuesNothing() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(0x80 | CONTINUATION, "{}".getBytes(StandardCharsets.UTF_8));
            assertEquals(1002, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1002OnANewMessageInsideAFragmentedOne() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(TEXT, "{\"type\":".getBytes(StandardCharsets.UTF_8));
            client.sendFrame(0x80 | TEXT, "{}".getBytes(StandardCharsets.UTF_8));
            assertEquals(1002, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1009WhenFragmentsTogetherPassTheLimit() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            // Each fragment is small; the message they make is over maxMessageBytes (4096).
            client.sendFrame(TEXT, new byte[3000]);
            client.sendFrame(CONTINUATION, new byte[3000]);
            assertEquals(1009, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1002OnACloseWithAnInvalidCode() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(0x80 | CLOSE, new byte[] {(byte)(1005 >> 8), (byte)(1005 & 0xFF)});
            assertEquals(1002, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose1002OnACloseOfOneByte() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(0x80 | CLOSE, new byte[] {3});
            assertEquals(1002, client.awaitCloseCode());
        }
    }

    @Test
    void shouldEchoTheClientsCloseAndEndTheConnection() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            final ByteArrayOutputStream close = new ByteArrayOutputStream();
            close.write(1000 >> 8);
            close.write(1000 & 0xFF);
            close.write("bye".getBytes(StandardCharsets.UTF_8));
            client.sendFrame(0x80 | CLOSE, close.toByteArray());
            assertEquals(1000, client.awaitCloseCode());
            client.awaitEndOfStream();
        }
    }

    @Test
    void shouldAnswerAPingWithAPongCarryingItsBytes() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            final byte[] body = "are you there".getBytes(StandardCharsets.UTF_8);
            client.sendFrame(0x80 | PING, body);
            final Frame pong = client.awaitFrame(PONG);
            assertArrayEquals(body, pong.payload);
        }
    }

    @Test
    void shouldReassembleFragmentsWithAPingBetweenThem() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(TEXT, "{\"ty".getBytes(StandardCharsets.UTF_8));
            client.sendFrame(0x80 | PING, new byte[] {7});
            client.sendFrame(CONTINUATION, "pe\":\"pi".getBytes(StandardCharsets.UTF_8));
            client.sendFrame(0x80 | CONTINUATION, "ng\"}".getBytes(StandardCharsets.UTF_8));

            assertArrayEquals(new byte[] {7}, client.awaitFrame(PONG).payload);
            assertEquals("{\"type\":\"pong\"}", client.awaitFrame(TEXT).text());
        }
    }

    @Test
    void shouldReadTheFrameThatFollowsAnEmptyOneInTheSameWrite() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            // An empty ping and a message in one TCP write: the message must not be lost with the ping's read.
            client.sendFrames(
                RawClient.frame(0x80 | PING, new byte[0], true),
                RawClient.frame(0x80 | TEXT, "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8), true));
            assertEquals(0, client.awaitFrame(PONG).payload.length);
            assertEquals("{\"type\":\"pong\"}", client.awaitFrame(TEXT).text());
        }
    }

    @Test
    void shouldUnderstandAFrameDeliveredOneByteAtATime() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            // A 200-byte message takes the 16-bit length form; every byte arrives in its own TCP write.
            final StringBuilder padded = new StringBuilder("{\"type\":\"ping\",\"pad\":\"");
            while (padded.length() < 198)
            {
                padded.append('x');
            }
            padded.append("\"}");
            client.sendFrameByteByByte(0x80 | TEXT, padded.toString().getBytes(StandardCharsets.UTF_8));
            assertEquals("{\"type\":\"pong\"}", client.awaitFrame(TEXT).text());
        }
    }

    @Test
    void shouldAcceptABinaryMessageAsABadMessageNotAViolation() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(0x80 | BINARY, new byte[] {1, 2});
            final String answer = client.awaitFrame(TEXT).text();
            assertTrue(answer.contains("\"type\":\"error\""), answer);
            // The connection goes on.
            client.sendFrame(0x80 | TEXT, "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
            assertEquals("{\"type\":\"pong\"}", client.awaitFrame(TEXT).text());
        }
    }

    @Test
    void shouldClose4002OnAFloodOfEmptyContinuations() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            // Empty frames carry no bytes but each costs a token: a flood of them is a flood (burst 100).
            client.sendFrame(TEXT, new byte[0]);
            for (int i = 0; i < 500; i++)
            {
                client.sendFrame(CONTINUATION, new byte[0]);
            }
            assertEquals(4002, client.awaitCloseCode());
        }
    }

    @Test
    void shouldClose4002OnAPingFloodAndCountIt() throws Exception
    {
        // Pings cost a token like any frame: a flood is a rate-limit close (4002), counted, not an internal error.
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            for (int i = 0; i < 500; i++)
            {
                client.sendFrame(0x80 | PING, new byte[] {1});
            }
            assertEquals(4002, client.awaitCloseCode());
            // The client answers the close as a browser does: the server ends the socket then, not at its timeout.
            client.sendClose(4002);
            client.socket().setSoTimeout((int)(WebSocketConnection.CLOSE_TIMEOUT_MS / 2));
            final long deadlineNs =
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WebSocketConnection.CLOSE_TIMEOUT_MS / 2);
            while (client.socket().getInputStream().read() >= 0)
            {
                assertTrue(System.nanoTime() < deadlineNs, "the socket should end at the client's close");
            }
        }
        RecordingAwait.until(() -> fixture.server.metrics().closedWith(4002) == 1, 5_000, "the close counted");
        assertEquals(0, fixture.server.metrics().closedWith(1011));
    }

    @Test
    void shouldKeepServingOthersWhileOneClientBreaksTheProtocol() throws Exception
    {
        final WsClient bob = fixture.connect("bob");
        // Subscribed once welcomed: an event published before that is history, which a fresh connection does not
        // replay (under load the welcome came after the publish, and bob waited for events that were never his).
        assertEquals("welcome", bob.next(10_000).get("type").asText());
        try (RawClient mallory = RawClient.connect(fixture, "mallory"))
        {
            mallory.sendUnmasked(TEXT, new byte[] {1});
            assertEquals(1002, mallory.awaitCloseCode());
        }
        assertEquals(202, fixture.publish(ServerFixture.runBatch("bob", "r1")).statusCode());
        RecordingAwait.until(() -> bob.messages.stream().filter(m -> m.has("run_id")).count() == 5, 10_000,
            "bob's five events");
        assertEquals(5, bob.messages.stream().filter(m -> m.has("run_id")).count());
    }
}
