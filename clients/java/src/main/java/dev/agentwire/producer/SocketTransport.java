package dev.agentwire.producer;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The producer socket ({@code GET /v1/producer}) on the JDK's WebSocket: each event a frame with a {@code ref},
 * answered in order with {@code ack} / {@code nack}; users' messages handed to a consumer on a thread of their own,
 * through a bounded queue (a consumer that does not keep up stops the socket's reads, and the server then routes users'
 * messages elsewhere or answers them {@code agent_busy}). Reconnects with backoff; what was sent and not answered when
 * a connection broke is reported as to be sent again (same ids: never twice).
 */
final class SocketTransport implements Transport
{
    private static final int INBOUND_BOUND = 1024;

    private final ProducerConfig config;
    private final HttpClient http;
    private final URI uri;
    private final Map<String, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();
    private final AtomicLong refs = new AtomicLong();
    private final BlockingQueue<Inbound> inbound = new LinkedBlockingQueue<>(INBOUND_BOUND);
    private final ScheduledExecutorService reconnects = Executors.newSingleThreadScheduledExecutor(task ->
    {
        final Thread thread = new Thread(task, "agentwire-producer-reconnect");
        thread.setDaemon(true);
        return thread;
    });
    private volatile WebSocket socket;
    private volatile Consumer<Inbound> consumer;
    private volatile boolean closed;
    private Thread delivery;

    SocketTransport(final ProducerConfig config)
    {
        this.config = config;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(config.timeoutMs)).build();
        final String scheme = "https".equals(config.url.getScheme()) ? "wss" : "ws";
        this.uri = URI.create(scheme + "://" + config.url.getRawAuthority() + "/v1/producer");
    }

    /** Users' messages go to {@code handler}, one at a time, on a thread of their own; opens the socket now. */
    synchronized void onInbound(final Consumer<Inbound> handler) throws InterruptedException
    {
        consumer = handler;
        if (delivery == null)
        {
            delivery = new Thread(this::deliver, "agentwire-producer-inbound");
            delivery.setDaemon(true);
            delivery.start();
        }
        connect();
    }

    private void deliver()
    {
        while (!closed)
        {
            try
            {
                final Inbound message = inbound.poll(100, TimeUnit.MILLISECONDS);
                if (message != null)
                {
                    consumer.accept(message);
                }
            }
            catch (final InterruptedException ex)
            {
                return;
            }
            catch (final RuntimeException ex)
            {
                // The application's handler failed on one message: the next one is still delivered.
                System.getLogger(SocketTransport.class.getName()).log(System.Logger.Level.WARNING,
                    "inbound handler failed", ex);
            }
        }
    }

    /**
     * @return the open socket, connecting (with backoff) for at most the timeout.
     * @throws AgentWireException.Network not connected within the timeout (the pipeline's retries take it from there).
     */
    private synchronized WebSocket connect() throws InterruptedException
    {
        WebSocket open = socket;
        long delayMs = config.initialBackoffMs;
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMs);
        while (open == null)
        {
            if (closed)
            {
                throw new AgentWireException.Network("the producer is closed");
            }
            if (System.nanoTime() - deadlineNs >= 0)
            {
                throw new AgentWireException.Network("the producer socket did not connect in " + config.timeoutMs +
                    " ms");
            }
            try
            {
                open = http.newWebSocketBuilder().header("Authorization", "Bearer " + config.producerKey)
                    .connectTimeout(Duration.ofMillis(config.timeoutMs)).buildAsync(uri, new Listener())
                    .get(config.timeoutMs, TimeUnit.MILLISECONDS);
                socket = open;
            }
            catch (final ExecutionException ex)
            {
                if (ex.getCause() instanceof WebSocketHandshakeException &&
                    ((WebSocketHandshakeException)ex.getCause()).getResponse().statusCode() == 401)
                {
                    throw new AgentWireException.Unauthorized("the producer key was refused");
                }
                Thread.sleep(delayMs);
                delayMs = Math.min(config.maxBackoffMs, delayMs * 2);
            }
            catch (final TimeoutException ex)
            {
                Thread.sleep(delayMs);
                delayMs = Math.min(config.maxBackoffMs, delayMs * 2);
            }
        }
        return open;
    }

    @Override
    public List<Answers.Outcome> send(final List<String> ids, final List<byte[]> encoded) throws InterruptedException
    {
        final List<CompletableFuture<JsonNode>> answers = new ArrayList<>(ids.size());
        for (final byte[] event : encoded)
        {
            answers.add(exchange(new String(event, 1, event.length - 1, StandardCharsets.UTF_8)));
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMs);
        final List<Answers.Outcome> out = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++)
        {
            try
            {
                final JsonNode answer = answers.get(i).get(Math.max(0, deadlineNs - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
                out.add(Answers.frame(ids.get(i), answer));
            }
            catch (final ExecutionException | TimeoutException ex)
            {
                out.add(Answers.Outcome.again(new AgentWireException.Network(
                    ex instanceof TimeoutException ? "no answer in time" : ex.getCause().getMessage()), 0));
            }
        }
        return out;
    }

    /** A native AG-UI batch ({@code {"ag_ui": {…}}}): its one answer. */
    JsonNode sendAgUi(final String body) throws InterruptedException
    {
        try
        {
            return exchange("\"ag_ui\":" + body + "}").get(config.timeoutMs, TimeUnit.MILLISECONDS);
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            throw new AgentWireException.Network(ex instanceof TimeoutException ? "no answer in time" :
                ex.getCause().getMessage());
        }
    }

    /** @param members an event's members after its opening brace. @return its answer, to come. */
    private CompletableFuture<JsonNode> exchange(final String members) throws InterruptedException
    {
        final WebSocket open = connect();
        final String ref = "j" + refs.incrementAndGet();
        final CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        waiting.put(ref, answer);
        try
        {
            open.sendText("{\"ref\":\"" + ref + "\"," + members, true).get(config.timeoutMs, TimeUnit.MILLISECONDS);
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            waiting.remove(ref);
            answer.completeExceptionally(new AgentWireException.Network("the frame could not be sent"));
        }
        return answer;
    }

    private void lost(final WebSocket gone)
    {
        synchronized (this)
        {
            if (socket == gone)
            {
                socket = null;
            }
        }
        for (final String ref : List.copyOf(waiting.keySet()))
        {
            final CompletableFuture<JsonNode> answer = waiting.remove(ref);
            if (answer != null)
            {
                answer.completeExceptionally(new AgentWireException.Network("the socket closed before the answer"));
            }
        }
        if (!closed && consumer != null)
        {
            // Keep receiving users' messages: connect again in the background.
            reconnects.schedule(this::reconnect, config.initialBackoffMs, TimeUnit.MILLISECONDS);
        }
    }

    /** Connects again in the background, as long as it takes, for users' messages to keep coming. */
    private void reconnect()
    {
        try
        {
            connect();
        }
        catch (final AgentWireException.Unauthorized | InterruptedException ex)
        {
            // refused for good, or shutting down: nothing more to do
        }
        catch (final AgentWireException ex)
        {
            if (!closed)
            {
                reconnects.schedule(this::reconnect, config.initialBackoffMs, TimeUnit.MILLISECONDS);
            }
        }
    }

    @Override
    public void close()
    {
        closed = true;
        reconnects.shutdownNow();
        final WebSocket open = socket;
        if (open != null)
        {
            open.sendClose(WebSocket.NORMAL_CLOSURE, "closed").orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> null)
                .join();
            open.abort();
        }
        if (delivery != null)
        {
            delivery.interrupt();
        }
    }

    /** One connection's frames: answers to their waiters, users' messages to the bounded queue. */
    private final class Listener implements WebSocket.Listener
    {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public void onOpen(final WebSocket webSocket)
        {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(final WebSocket webSocket, final CharSequence data, final boolean last)
        {
            partial.append(data);
            if (!last)
            {
                webSocket.request(1);
                return null;
            }
            final String text = partial.toString();
            partial.setLength(0);
            final JsonNode frame = HttpTransport.json(text.getBytes(StandardCharsets.UTF_8));
            final String type = frame.path("type").asText();
            if ("ack".equals(type) || "nack".equals(type))
            {
                final CompletableFuture<JsonNode> answer = waiting.remove(frame.path("ref").asText());
                if (answer != null)
                {
                    answer.complete(frame);
                }
                webSocket.request(1);
                return null;
            }
            if (consumer == null)
            {
                webSocket.request(1);
                return null;
            }
            // Read on once the message is queued: a full queue holds the socket's reads back.
            return CompletableFuture.runAsync(() ->
            {
                try
                {
                    inbound.put(new Inbound(frame));
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }).thenRun(() -> webSocket.request(1));
        }

        @Override
        public CompletionStage<?> onClose(final WebSocket webSocket, final int statusCode, final String reason)
        {
            lost(webSocket);
            return null;
        }

        @Override
        public void onError(final WebSocket webSocket, final Throwable error)
        {
            lost(webSocket);
        }
    }
}
