package dev.agentwire.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

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
    private static final int TEXT = 0x1;
    private static final int BINARY = 0x2;
    private static final int CONTINUATION = 0x0;
    private static final int CLOSE = 0x8;
    private static final int PING = 0x9;
    private static final int PONG = 0xA;

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
    void shouldClose1002OnAReservedBit() throws Exception
    {
        try (RawClient client = RawClient.connect(fixture, "alice"))
        {
            client.sendFrame(0x80 | 0x40 | TEXT, "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
            assertEquals(1002, client.awaitCloseCode());
        }
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
        }
        RecordingAwait.until(() -> fixture.server.metrics().closedWith(4002) == 1, 5_000, "the close counted");
        assertEquals(0, fixture.server.metrics().closedWith(1011));
    }

    @Test
    void shouldKeepServingOthersWhileOneClientBreaksTheProtocol() throws Exception
    {
        final WsClient bob = fixture.connect("bob");
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

    /** A server frame as read off the socket. */
    private static final class Frame
    {
        final int opcode;
        final byte[] payload;

        Frame(final int opcode, final byte[] payload)
        {
            this.opcode = opcode;
            this.payload = payload;
        }

        String text()
        {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeCode()
        {
            return payload.length < 2 ? 1005 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }
    }

    /** A WebSocket client that writes whatever frames a test asks for, valid or not. */
    private static final class RawClient implements AutoCloseable
    {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        private RawClient(final Socket socket) throws IOException
        {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        static RawClient connect(final ServerFixture fixture, final String user) throws IOException
        {
            final Socket socket = new Socket("127.0.0.1", fixture.server.port());
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            final RawClient client = new RawClient(socket);
            final byte[] key = new byte[16];
            ThreadLocalRandom.current().nextBytes(key);
            final String request = "GET /v1/ws HTTP/1.1\r\n" +
                "Host: 127.0.0.1:" + fixture.server.port() + "\r\n" +
                "Upgrade: websocket\r\n" +
                "Connection: Upgrade\r\n" +
                "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n" +
                "Sec-WebSocket-Version: 13\r\n" +
                "Authorization: Bearer " + Tokens.hs256(user, 60_000) + "\r\n\r\n";
            client.out.write(request.getBytes(StandardCharsets.US_ASCII));
            client.out.flush();
            final String head = client.readHead();
            if (!head.startsWith("HTTP/1.1 101"))
            {
                socket.close();
                throw new IOException("upgrade refused: " + head);
            }
            final Frame welcome = client.readFrame();
            if (welcome.opcode != TEXT || !welcome.text().contains("\"type\":\"welcome\""))
            {
                socket.close();
                throw new IOException("expected the welcome, got opcode " + welcome.opcode);
            }
            return client;
        }

        private String readHead() throws IOException
        {
            final ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4)
            {
                final int b = in.read();
                if (b < 0)
                {
                    throw new EOFException("end of stream in the upgrade answer");
                }
                head.write(b);
                matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3)) ?
                    matched + 1 : 0;
            }
            return head.toString(StandardCharsets.US_ASCII);
        }

        void sendFrame(final int firstByte, final byte[] payload) throws IOException
        {
            out.write(frame(firstByte, payload, true));
            out.flush();
        }

        void sendFrames(final byte[]... frames) throws IOException
        {
            final ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (final byte[] frame : frames)
            {
                all.write(frame, 0, frame.length);
            }
            out.write(all.toByteArray());
            out.flush();
        }

        void sendUnmasked(final int opcode, final byte[] payload) throws IOException
        {
            out.write(frame(0x80 | opcode, payload, false));
            out.flush();
        }

        void sendFrameByteByByte(final int firstByte, final byte[] payload) throws Exception
        {
            for (final byte b : frame(firstByte, payload, true))
            {
                out.write(b);
                out.flush();
                Thread.sleep(1);
            }
        }

        static byte[] frame(final int firstByte, final byte[] payload, final boolean masked)
        {
            final ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(firstByte);
            final int maskBit = masked ? 0x80 : 0;
            if (payload.length < 126)
            {
                frame.write(maskBit | payload.length);
            }
            else if (payload.length <= 0xFFFF)
            {
                frame.write(maskBit | 126);
                frame.write(payload.length >>> 8);
                frame.write(payload.length & 0xFF);
            }
            else
            {
                frame.write(maskBit | 127);
                for (int i = 7; i >= 0; i--)
                {
                    frame.write((int)((long)payload.length >>> (8 * i)) & 0xFF);
                }
            }
            final byte[] mask = new byte[4];
            if (masked)
            {
                ThreadLocalRandom.current().nextBytes(mask);
                frame.write(mask, 0, 4);
            }
            for (int i = 0; i < payload.length; i++)
            {
                frame.write(payload[i] ^ mask[i & 3]);
            }
            return frame.toByteArray();
        }

        Frame readFrame() throws IOException
        {
            final int b0 = readByte();
            final int b1 = readByte();
            if ((b1 & 0x80) != 0)
            {
                throw new IOException("the server masked a frame");
            }
            long length = b1 & 0x7F;
            if (length == 126)
            {
                length = (readByte() << 8) | readByte();
            }
            else if (length == 127)
            {
                length = 0;
                for (int i = 0; i < 8; i++)
                {
                    length = (length << 8) | readByte();
                }
            }
            final byte[] payload = in.readNBytes((int)length);
            if (payload.length != length)
            {
                throw new EOFException("end of stream inside a frame");
            }
            return new Frame(b0 & 0x0F, payload);
        }

        private int readByte() throws IOException
        {
            final int b = in.read();
            if (b < 0)
            {
                throw new EOFException();
            }
            return b;
        }

        /** Reads frames until one of this opcode (data frames of other kinds, e.g. the welcome, are passed over). */
        Frame awaitFrame(final int opcode) throws IOException
        {
            while (true)
            {
                final Frame frame = readFrame();
                if (frame.opcode == opcode)
                {
                    return frame;
                }
                if (frame.opcode == CLOSE)
                {
                    throw new IOException("closed with " + frame.closeCode() + " while awaiting opcode " + opcode);
                }
            }
        }

        int awaitCloseCode() throws IOException
        {
            return awaitFrame(CLOSE).closeCode();
        }

        /** The server ends the TCP connection after the close handshake. */
        void awaitEndOfStream() throws IOException
        {
            assertEquals(-1, in.read(), "the server should end the connection after its close");
        }

        @Override
        public void close() throws IOException
        {
            socket.close();
        }
    }
}
