package dev.agentwire.server;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A raw TCP WebSocket client for tests: writes any frame, valid or not, reads frames off the socket as they are, and
 * can be made to read nothing with a small receive buffer (a client that does not read). Loopback only.
 */
final class RawWs
{
    static final int TEXT = 0x1;
    static final int BINARY = 0x2;
    static final int CONTINUATION = 0x0;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;

    private RawWs()
    {
    }

    /** A server frame as read off the socket. */
    static final class Frame
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
    static final class RawClient implements AutoCloseable
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
            return connect(fixture.server.port(), "/v1/ws", Tokens.hs256(user, 60_000), 0, true);
        }

        /**
         * @param path           {@code /v1/ws?…}, {@code /v1/ag-ui?…} or {@code /v1/producer}.
         * @param bearer         the user's token or the producer key.
         * @param receiveBuffer  the socket's receive buffer (0: the system's), set before connecting.
         * @param expectWelcome  read the welcome frame of a user socket before returning.
         */
        static RawClient connect(final int port, final String path, final String bearer, final int receiveBuffer,
            final boolean expectWelcome) throws IOException
        {
            final Socket socket = new Socket();
            if (receiveBuffer > 0)
            {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            final RawClient client = new RawClient(socket);
            final byte[] key = new byte[16];
            ThreadLocalRandom.current().nextBytes(key);
            final String request = "GET " + path + " HTTP/1.1\r\n" +
                "Host: 127.0.0.1:" + port + "\r\n" +
                "Upgrade: websocket\r\n" +
                "Connection: Upgrade\r\n" +
                "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n" +
                "Sec-WebSocket-Version: 13\r\n" +
                "Authorization: Bearer " + bearer + "\r\n\r\n";
            client.out.write(request.getBytes(StandardCharsets.US_ASCII));
            client.out.flush();
            final String head = client.readHead();
            if (!head.startsWith("HTTP/1.1 101"))
            {
                socket.close();
                throw new IOException("upgrade refused: " + head);
            }
            if (!expectWelcome)
            {
                return client;
            }
            final Frame welcome = client.readFrame();
            if (welcome.opcode != TEXT || !welcome.text().contains("welcome"))
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

        /** Sends a close frame with this code (and no reason). */
        void sendClose(final int code) throws IOException
        {
            sendFrame(0x80 | CLOSE, new byte[] {(byte)(code >>> 8), (byte)code});
        }

        /** Reads and discards everything until the server ends the connection; false if it did not by the timeout. */
        boolean drainToEnd(final long timeoutMs) throws IOException
        {
            final long deadline = System.currentTimeMillis() + timeoutMs;
            final byte[] sink = new byte[64 * 1024];
            socket.setSoTimeout(250);
            while (System.currentTimeMillis() < deadline)
            {
                try
                {
                    if (in.read(sink) < 0)
                    {
                        return true;
                    }
                }
                catch (final java.net.SocketTimeoutException quiet)
                {
                    // nothing yet: go on until the deadline
                }
                catch (final java.net.SocketException reset)
                {
                    return true;
                }
            }
            return false;
        }

        Socket socket()
        {
            return socket;
        }

        /** @return the next text frame whose {@code type} is {@code type}, read past any other (at most 100 frames). */
        com.fasterxml.jackson.databind.JsonNode nextOfType(final String type) throws IOException
        {
            for (int frames = 0; frames < 100; frames++)
            {
                final Frame frame = readFrame();
                if (frame.opcode == TEXT)
                {
                    final com.fasterxml.jackson.databind.JsonNode message =
                        dev.agentwire.server.http.Json.MAPPER.readTree(frame.text());
                    if (type.equals(message.path("type").asText()))
                    {
                        return message;
                    }
                }
            }
            throw new IOException("no " + type + " in 100 frames");
        }

        /** Ends the connection as a crashed process's does: a reset, whatever the server still had to send. */
        void reset() throws IOException
        {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        @Override
        public void close() throws IOException
        {
            socket.close();
        }
    }
}
