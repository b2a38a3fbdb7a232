package dev.agentwire.server;

import dev.agentwire.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * A real WebSocket client (the JDK's {@link WebSocket}) that records every frame. It reads as fast as frames come,
 * unless told to {@link #stopReading()} (a client whose application stopped consuming).
 */
final class WsClient implements WebSocket.Listener, AutoCloseable
{
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
    /** Every text frame as it came, in order (the parsed ones are in {@link #messages}). */
    final List<String> texts = new java.util.concurrent.CopyOnWriteArrayList<>();
    final BlockingQueue<ByteBuffer> binaries = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private ByteBuffer partialBinary;
    private final AtomicBoolean reading = new AtomicBoolean(true);
    private volatile WebSocket socket;

    static WsClient connect(final URI uri, final String bearer) throws Exception
    {
        return connect(uri, bearer, null);
    }

    static WsClient connect(final URI uri, final String bearer, final String origin) throws Exception
    {
        final WsClient client = new WsClient();
        final WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (bearer != null)
        {
            builder.header("Authorization", "Bearer " + bearer);
        }
        if (origin != null)
        {
            builder.header("Origin", origin);
        }
        client.socket = builder.buildAsync(uri, client).get(10, TimeUnit.SECONDS);
        return client;
    }

    /** @return the HTTP status the server refused the upgrade with. */
    static int refusedStatus(final URI uri, final String bearer, final String origin) throws Exception
    {
        try
        {
            final WsClient client = connect(uri, bearer, origin);
            client.close();
            return 101;
        }
        catch (final java.util.concurrent.ExecutionException ex)
        {
            Throwable cause = ex.getCause();
            while (cause instanceof CompletionException && cause.getCause() != null)
            {
                cause = cause.getCause();
            }
            if (cause instanceof WebSocketHandshakeException)
            {
                return ((WebSocketHandshakeException)cause).getResponse().statusCode();
            }
            throw ex;
        }
    }

    @Override
    public void onOpen(final WebSocket webSocket)
    {
        webSocket.request(1);
    }

    @Override
    public CompletableFuture<?> onText(final WebSocket webSocket, final CharSequence data, final boolean last)
    {
        partial.append(data);
        if (last)
        {
            final String text = partial.toString();
            partial.setLength(0);
            texts.add(text);
            try
            {
                messages.add(Json.MAPPER.readTree(text));
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException("server sent invalid JSON: " + text, ex);
            }
        }
        requestNext(webSocket);
        return null;
    }

    @Override
    public CompletableFuture<?> onBinary(final WebSocket webSocket, final ByteBuffer data, final boolean last)
    {
        final ByteBuffer grown = ByteBuffer.allocate((partialBinary == null ? 0 : partialBinary.remaining()) +
            data.remaining());
        if (partialBinary != null)
        {
            grown.put(partialBinary);
        }
        grown.put(data).flip();
        partialBinary = grown;
        if (last)
        {
            binaries.add(partialBinary);
            partialBinary = null;
        }
        requestNext(webSocket);
        return null;
    }

    @Override
    public CompletableFuture<?> onClose(final WebSocket webSocket, final int statusCode, final String reason)
    {
        closeCode.complete(statusCode);
        return null;
    }

    @Override
    public void onError(final WebSocket webSocket, final Throwable error)
    {
        closeCode.complete(-1);
    }

    private void requestNext(final WebSocket webSocket)
    {
        if (reading.get())
        {
            webSocket.request(1);
        }
    }

    /** The application stops consuming: no more frames are requested, TCP fills up. */
    void stopReading()
    {
        reading.set(false);
    }

    /** The application consumes again. */
    void resumeReading()
    {
        reading.set(true);
        socket.request(1);
    }

    void send(final String json)
    {
        socket.sendText(json, true).join();
    }

    void sendBinary(final byte[] bytes)
    {
        socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
    }

    /** @return the next message, or fails after the timeout. */
    /**
     * Sends a user's message, then a ping, whose pong comes after the message's refusal if there is one.
     *
     * @return whether the server took the message (else it was refused agent_busy: asserted).
     */
    boolean sendAndAskTaken(final String message) throws Exception
    {
        send(message);
        send("{\"type\":\"ping\"}");
        final JsonNode answer = next(5_000);
        if ("pong".equals(answer.path("type").asText()))
        {
            return true;
        }
        org.junit.jupiter.api.Assertions.assertEquals("agent_busy", answer.path("code").asText(), answer.toString());
        org.junit.jupiter.api.Assertions.assertEquals("pong", next(5_000).path("type").asText());
        return false;
    }

    JsonNode next(final long timeoutMs) throws InterruptedException
    {
        final JsonNode message = messages.poll(timeoutMs, TimeUnit.MILLISECONDS);
        if (message == null)
        {
            throw new AssertionError("no message within " + timeoutMs + " ms");
        }
        return message;
    }

    /** @return the next message of a type, skipping others (kept in order in {@code skipped}). */
    JsonNode nextOfType(final String type, final long timeoutMs) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true)
        {
            final long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            final JsonNode message = messages.poll(Math.max(1, left), TimeUnit.MILLISECONDS);
            if (message == null)
            {
                throw new AssertionError("no " + type + " within " + timeoutMs + " ms");
            }
            if (type.equals(message.path("type").asText()))
            {
                return message;
            }
        }
    }

    /** Collects messages matching a filter until {@code count} arrived. */
    List<JsonNode> collect(final Predicate<JsonNode> filter, final int count, final long timeoutMs)
        throws InterruptedException
    {
        final List<JsonNode> got = new ArrayList<>();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (got.size() < count)
        {
            final long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            final JsonNode message = messages.poll(Math.max(1, left), TimeUnit.MILLISECONDS);
            if (message == null)
            {
                throw new AssertionError("only " + got.size() + " of " + count + " within " + timeoutMs + " ms: " + got);
            }
            if (filter.test(message))
            {
                got.add(message);
            }
        }
        return got;
    }

    int awaitClose(final long timeoutMs) throws Exception
    {
        return closeCode.get(timeoutMs, TimeUnit.MILLISECONDS);
    }

    boolean isOpen()
    {
        return !closeCode.isDone() && !socket.isInputClosed();
    }

    @Override
    public void close()
    {
        final WebSocket s = socket;
        if (s != null && !s.isOutputClosed())
        {
            try
            {
                s.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            }
            catch (final Exception ignored)
            {
                // already closing
            }
        }
        if (s != null)
        {
            s.abort();
        }
    }

    static boolean isEvent(final JsonNode message)
    {
        final String type = message.path("type").asText();
        return message.has("seq") && !"welcome".equals(type);
    }
}
