package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the ingest reads a request body, over a raw socket so the test decides how the bytes arrive: whole with the
 * headers, in pieces with pauses between them, chunked, over the limit, or not at all.
 */
@Timeout(60)
final class IngestBodyTest
{
    private static final int MAX_BODY_BYTES = 16 * 1024;

    @TempDir
    Path dir;
    private ServerFixture fixture;

    @BeforeEach
    void start()
    {
        fixture = new ServerFixture(dir, b -> b.maxBodyBytes(MAX_BODY_BYTES));
    }

    @AfterEach
    void stop()
    {
        fixture.close();
    }

    @Test
    void shouldPublishABodyThatArrivesInPiecesWithPauses() throws Exception
    {
        final WsClient bob = fixture.connect("bob");
        bob.next(5_000);
        final byte[] body = batch("bob", 20).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = open())
        {
            final OutputStream out = socket.getOutputStream();
            out.write(head("POST", body.length, false));
            out.flush();
            // Three pieces, each after a pause: the server sees the body come over several reads.
            final int third = body.length / 3;
            for (int from = 0; from < body.length; from += third)
            {
                Thread.sleep(100);
                out.write(body, from, Math.min(third, body.length - from));
                out.flush();
            }
            final Answer answer = Answer.read(socket.getInputStream());
            assertEquals(202, answer.status, answer.body);
            assertEquals(20, Json.MAPPER.readTree(answer.body).get("accepted").asInt());
        }
        assertDeliveredInOrder(bob, 20);
    }

    @Test
    void shouldPublishAChunkedBody() throws Exception
    {
        final WsClient bob = fixture.connect("bob");
        bob.next(5_000);
        final byte[] body = batch("bob", 10).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = open())
        {
            final OutputStream out = socket.getOutputStream();
            out.write(head("POST", -1, true));
            for (int from = 0; from < body.length; from += 100)
            {
                final int length = Math.min(100, body.length - from);
                out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body, from, length);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final Answer answer = Answer.read(socket.getInputStream());
            assertEquals(202, answer.status, answer.body);
        }
        assertDeliveredInOrder(bob, 10);
    }

    @Test
    void shouldRefuseAChunkedBodyOverTheLimitWith413AndPublishNothing() throws Exception
    {
        final WsClient bob = fixture.connect("bob");
        bob.next(5_000);
        // Valid JSON events all the way, but more of them than the limit allows: no length announces it.
        final byte[] body = batch("bob", 200).getBytes(StandardCharsets.UTF_8);
        assertTrue(body.length > MAX_BODY_BYTES);
        try (Socket socket = open())
        {
            final ByteArrayOutputStream chunked = new ByteArrayOutputStream();
            chunked.write(head("POST", -1, true));
            for (int from = 0; from < body.length; from += 1000)
            {
                final int length = Math.min(1000, body.length - from);
                chunked.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                chunked.write(body, from, length);
                chunked.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            chunked.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            // The server answers as soon as the limit is passed and closes, perhaps before the rest is written.
            final Thread writer = new Thread(() ->
            {
                try
                {
                    socket.getOutputStream().write(chunked.toByteArray());
                }
                catch (final IOException closedEarly)
                {
                    // expected when the server has answered already
                }
            });
            writer.start();
            final Answer answer = Answer.read(socket.getInputStream());
            writer.join(10_000);
            assertEquals(413, answer.status, answer.body);
        }
        // Nothing of the refused body was published: the next event is bob's first.
        assertEquals(202, fixture.publish("{\"user\":\"bob\",\"type\":\"app.after\",\"data\":{}}").statusCode());
        final List<JsonNode> events = bob.collect(WsClient::isEvent, 1, 5_000);
        assertEquals("app.after", events.get(0).get("type").asText());
        assertEquals(1, events.get(0).get("seq").asLong());
    }

    @Test
    void shouldPublishNothingOfABodyCutShortAndKeepServing() throws Exception
    {
        final WsClient bob = fixture.connect("bob");
        bob.next(5_000);
        final byte[] body = batch("bob", 10).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = open())
        {
            final OutputStream out = socket.getOutputStream();
            out.write(head("POST", body.length, false));
            out.write(body, 0, body.length / 2);
            out.flush();
            Thread.sleep(100);
        }
        assertEquals(202, fixture.publish("{\"user\":\"bob\",\"type\":\"app.after\",\"data\":{}}").statusCode());
        final List<JsonNode> events = bob.collect(WsClient::isEvent, 1, 5_000);
        assertEquals("app.after", events.get(0).get("type").asText());
        assertEquals(1, events.get(0).get("seq").asLong());
    }

    private static void assertDeliveredInOrder(final WsClient client, final int count) throws Exception
    {
        final List<JsonNode> events = client.collect(WsClient::isEvent, count, 10_000);
        assertEquals(count, events.size());
        for (int i = 0; i < count; i++)
        {
            assertEquals(i + 1, events.get(i).get("seq").asLong());
            assertEquals(i, events.get(i).get("data").get("n").asInt());
        }
    }

    private static String batch(final String user, final int events)
    {
        final StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < events; i++)
        {
            body.append(i == 0 ? "" : ",").append("{\"user\":\"").append(user)
                .append("\",\"type\":\"app.step\",\"data\":{\"n\":").append(i)
                .append(",\"pad\":\"").append("p".repeat(64)).append("\"}}");
        }
        return body.append(']').toString();
    }

    private Socket open() throws IOException
    {
        final Socket socket = new Socket("127.0.0.1", fixture.server.port());
        socket.setSoTimeout(10_000);
        return socket;
    }

    private byte[] head(final String method, final int contentLength, final boolean chunked)
    {
        return (method + " /v1/events HTTP/1.1\r\n" +
            "Host: 127.0.0.1:" + fixture.server.port() + "\r\n" +
            "Authorization: Bearer " + Tokens.PRODUCER_KEY + "\r\n" +
            "Content-Type: application/json\r\n" +
            (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + contentLength + "\r\n") +
            "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** An HTTP/1.1 answer with a Content-Length body. */
    private static final class Answer
    {
        final int status;
        final String body;

        private Answer(final int status, final String body)
        {
            this.status = status;
            this.body = body;
        }

        static Answer read(final InputStream in) throws IOException
        {
            final ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4)
            {
                final int b = in.read();
                if (b < 0)
                {
                    throw new IOException("end of stream in the answer's head: " + head);
                }
                head.write(b);
                final boolean next = b == (matched % 2 == 0 ? '\r' : '\n');
                matched = next ? matched + 1 : b == '\r' ? 1 : 0;
            }
            final String text = head.toString(StandardCharsets.US_ASCII);
            final int status = Integer.parseInt(text.substring(9, 12));
            int length = 0;
            for (final String line : text.split("\r\n"))
            {
                if (line.regionMatches(true, 0, "Content-Length:", 0, 15))
                {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            return new Answer(status, new String(in.readNBytes(length), StandardCharsets.UTF_8));
        }
    }
}
