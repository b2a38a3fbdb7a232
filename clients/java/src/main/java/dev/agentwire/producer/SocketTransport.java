package dev.agentwire.producer;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The producer socket ({@code GET /v1/producer}) on the JDK's WebSocket: each event a frame with a {@code ref},
 * answered in order with {@code ack} / {@code nack}; users' messages handed to a consumer on a thread of their own,
 * through a bounded queue (a consumer that does not keep up stops the socket's reads, and the server then routes users'
 * messages elsewhere or answers them {@code agent_busy}). Reconnects with backoff; what was sent and not answered when
 * a connection broke is reported as to be sent again (same ids: never twice).
 *
 * <p>Each user's message is confirmed ({@code {"taken":tag}}, the socket opened with {@code ?confirm=true}) as it is
 * handed to the consumer, not before: one still queued when its connection ends is dropped here, since the server
 * then sends it to a runtime again (marked {@link Inbound#redelivered()}), and one in the kernel's buffers or this
 * queue when the process dies is not lost with it. One handed over in the moment the connection broke, before the
 * JDK reported it, had its confirm go into a dead connection: the server sends it on too (at least once).
 *
 * <p>A connection counts as open once its first ping is answered: the server routes users' messages to a producer
 * socket before it reads the socket's first frame, so from then on this runtime takes them. A ping every
 * {@code heartbeatMs} finds a connection that died without a word: the JDK's WebSocket may not report a peer's close
 * that arrives while a message is being handled, and a NAT may drop an idle connection silently.
 */
final class SocketTransport implements Transport
{
    private static final int INBOUND_BOUND = 1024;
    private static final ByteBuffer PING = ByteBuffer.allocate(0);

    private final ProducerConfig config;
    private final HttpClient http;
    private final URI uri;
    /** Where a producer without a message handler connects: the server routes it no user's message it would drop. */
    private final URI publishOnlyUri;
    private final Map<String, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();
    private final AtomicLong refs = new AtomicLong();
    private final BlockingQueue<Delivery> inbound = new LinkedBlockingQueue<>(INBOUND_BOUND);
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(task ->
    {
        final Thread thread = new Thread(task, "agentwire-producer-timers");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicReference<Connection> current = new AtomicReference<>();
    private volatile Consumer<Inbound> consumer;
    private volatile boolean closed;
    private Thread delivery;

    SocketTransport(final ProducerConfig config)
    {
        this.config = config;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(config.timeoutMs)).build();
        final String scheme = "https".equals(config.url.getScheme()) ? "wss" : "ws";
        final String producer = scheme + "://" + config.url.getRawAuthority() + "/v1/producer";
        this.uri = URI.create(producer + "?confirm=true");
        this.publishOnlyUri = URI.create(producer + "?inbound=none");
        timers.scheduleAtFixedRate(this::heartbeat, config.heartbeatMs, config.heartbeatMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Users' messages go to {@code handler}, one at a time, on a thread of their own; opens the socket now. A socket
     * opened before to publish only is replaced (what it had not answered is sent again, by id).
     */
    synchronized void onInbound(final Consumer<Inbound> handler) throws InterruptedException
    {
        consumer = handler;
        if (delivery == null)
        {
            delivery = new Thread(this::deliver, "agentwire-producer-inbound");
            delivery.setDaemon(true);
            delivery.start();
        }
        final Connection open = current.get();
        if (open != null && !open.takesMessages)
        {
            open.webSocket.abort();
            lost(open);
        }
        connect();
    }

    private void deliver()
    {
        while (!closed)
        {
            try
            {
                final Delivery delivery = inbound.poll(100, TimeUnit.MILLISECONDS);
                if (delivery != null && (delivery.tag() == 0 || delivery.from().confirm(delivery.tag())))
                {
                    consumer.accept(delivery.message());
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
     * @return the open connection, connecting (with backoff) for at most the timeout.
     * @throws AgentWireException.Network not connected within the timeout (the pipeline's retries take it from there).
     */
    private synchronized Connection connect() throws InterruptedException
    {
        Connection open = current.get();
        long delayMs = config.initialBackoffMs;
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMs);
        while (open == null)
        {
            if (closed)
            {
                throw new AgentWireException.Network("the producer is closed");
            }
            final long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
            if (leftMs <= 0)
            {
                throw new AgentWireException.Network("the producer socket did not connect in " + config.timeoutMs +
                    " ms");
            }
            final Connection opening = new Connection(consumer != null);
            WebSocket webSocket = null;
            try
            {
                webSocket = http.newWebSocketBuilder()
                    .header("Authorization", "Bearer " + config.producerKey).connectTimeout(Duration.ofMillis(leftMs))
                    .buildAsync(opening.takesMessages ? uri : publishOnlyUri, opening)
                    .get(leftMs, TimeUnit.MILLISECONDS);
                opening.webSocket = webSocket; // here, not in onOpen: the JDK may call it after the future completes
                opening.pingSentNs = System.nanoTime();
                webSocket.sendPing(PING).whenComplete((ws, failed) ->
                {
                    if (failed != null)
                    {
                        opening.firstPong.completeExceptionally(failed);
                    }
                });
                opening.firstPong.get(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime())),
                    TimeUnit.MILLISECONDS);
                current.set(opening);
                // Set, then looked at, as lost() does the other way round: one of the two sees that it ended.
                if (!opening.ended)
                {
                    open = opening;
                    continue;
                }
                current.compareAndSet(opening, null);
            }
            catch (final ExecutionException ex)
            {
                if (ex.getCause() instanceof WebSocketHandshakeException &&
                    ((WebSocketHandshakeException)ex.getCause()).getResponse().statusCode() == 401)
                {
                    throw new AgentWireException.Unauthorized("the producer key was refused");
                }
            }
            catch (final TimeoutException ex)
            {
                // not open in time: given up below, and tried again after the backoff
            }
            if (webSocket != null)
            {
                webSocket.abort();
            }
            Thread.sleep(delayMs);
            delayMs = Math.min(config.maxBackoffMs, delayMs * 2);
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
        final Connection open = connect();
        final String ref = "j" + refs.incrementAndGet();
        final CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        waiting.put(ref, answer);
        if (!open.sendText("{\"ref\":\"" + ref + "\"," + members))
        {
            waiting.remove(ref);
            answer.completeExceptionally(new AgentWireException.Network("the frame could not be sent"));
        }
        return answer;
    }

    /** Pings the open connection; gives it up when nothing arrived in the whole interval since the last ping. */
    private void heartbeat()
    {
        final Connection open = current.get();
        if (open == null || closed || open.holding)
        {
            return;
        }
        if (open.heardNs - open.pingSentNs < 0)
        {
            open.webSocket.abort();
            lost(open);
            return;
        }
        open.pingSentNs = System.nanoTime();
        open.webSocket.sendPing(PING).whenComplete((ws, failed) ->
        {
            if (failed != null)
            {
                open.webSocket.abort();
                lost(open);
            }
        });
    }

    /** A connection ended (any thread, any number of times): if it was the open one, what it owed is sent again. */
    private void lost(final Connection gone)
    {
        gone.ended = true;
        // A connection that never became the open one (still connecting), or was already replaced, owes nothing.
        if (!current.compareAndSet(gone, null))
        {
            return;
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
            reconnectLater();
        }
    }

    private void reconnectLater()
    {
        try
        {
            timers.schedule(this::reconnect, config.initialBackoffMs, TimeUnit.MILLISECONDS);
        }
        catch (final RejectedExecutionException closing)
        {
            // closed meanwhile: nothing to reconnect for
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
                reconnectLater();
            }
        }
    }

    @Override
    public void close()
    {
        closed = true;
        timers.shutdownNow();
        final Connection open = current.get();
        if (open != null)
        {
            open.webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "closed").orTimeout(2, TimeUnit.SECONDS)
                .exceptionally(e -> null).join();
            open.webSocket.abort();
        }
        if (delivery != null)
        {
            delivery.interrupt();
        }
    }

    /** A user's message (or presence, tag 0) from the connection it came on, queued for the consumer. */
    private record Delivery(Connection from, long tag, Inbound message)
    {
    }

    /**
     * One connection: its frames (answers to their waiters, users' messages to the bounded queue), and when it was
     * last heard from.
     */
    private final class Connection implements WebSocket.Listener
    {
        private final StringBuilder partial = new StringBuilder();
        final CompletableFuture<Void> firstPong = new CompletableFuture<>();
        volatile WebSocket webSocket;
        volatile long pingSentNs;
        volatile long heardNs = System.nanoTime();
        volatile boolean ended;
        /** Reads held back until a user's message fits the queue: no pong can be read, and none is missed. */
        volatile boolean holding;
        /** Opened with a message handler set: users' messages come to it (else {@code ?inbound=none}). */
        final boolean takesMessages;

        Connection(final boolean takesMessages)
        {
            this.takesMessages = takesMessages;
        }

        /**
         * Sends one text frame, one at a time whoever calls (the JDK's WebSocket refuses a send while one is under
         * way). @return false when it could not: the connection is then given up.
         */
        synchronized boolean sendText(final String text) throws InterruptedException
        {
            try
            {
                webSocket.sendText(text, true).get(config.timeoutMs, TimeUnit.MILLISECONDS);
                return true;
            }
            catch (final ExecutionException | TimeoutException ex)
            {
                webSocket.abort();
                lost(this);
                return false;
            }
        }

        /**
         * Confirms the message of {@code tag}, and every one before it. @return false when this connection ended
         * first: the server sends the message to a runtime again, so it is not handed to the consumer here.
         */
        boolean confirm(final long tag) throws InterruptedException
        {
            return !ended && sendText("{\"taken\":" + tag + "}");
        }

        @Override
        public void onOpen(final WebSocket webSocket)
        {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onPong(final WebSocket webSocket, final ByteBuffer message)
        {
            heardNs = System.nanoTime();
            firstPong.complete(null);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPing(final WebSocket webSocket, final ByteBuffer message)
        {
            heardNs = System.nanoTime();
            webSocket.request(1); // the JDK answers the pong itself
            return null;
        }

        @Override
        public CompletionStage<?> onText(final WebSocket webSocket, final CharSequence data, final boolean last)
        {
            heardNs = System.nanoTime();
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
            holding = true;
            return CompletableFuture.runAsync(() ->
            {
                try
                {
                    inbound.put(new Delivery(this, frame.path("tag").asLong(0), new Inbound(frame)));
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }).thenRun(() ->
            {
                heardNs = System.nanoTime();
                holding = false;
                webSocket.request(1);
            });
        }

        @Override
        public CompletionStage<?> onClose(final WebSocket webSocket, final int statusCode, final String reason)
        {
            firstPong.completeExceptionally(new AgentWireException.Network("closed " + statusCode + " " + reason));
            lost(this);
            return null;
        }

        @Override
        public void onError(final WebSocket webSocket, final Throwable error)
        {
            firstPong.completeExceptionally(error);
            lost(this);
        }
    }
}
