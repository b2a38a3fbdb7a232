package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;

import java.net.URI;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One user's session in the fault suite, as a real front end runs it: a JDK WebSocket that keeps its cursor
 * (epoch, last seq), and after any close reconnects with that cursor (backing off while the server is away) and
 * resumes. It reports everything it receives to the {@link FaultLedger}. The suite can kill it (abort, then
 * reconnect), stall it (stop reading) or slow it down.
 */
final class FaultSession implements WebSocket.Listener
{
    final String user;
    private final Supplier<URI> endpoint;
    private final FaultLedger ledger;
    private final StringBuilder partial = new StringBuilder();
    private volatile WebSocket socket;
    private volatile boolean running = true;
    private volatile boolean stalled;
    private volatile long slowNs;
    private volatile long epoch = -1;
    private volatile long lastSeq = -1;
    // The cursor the current connection resumed from, until its answer arrives.
    private long cursorEpoch = -1;
    private long cursorSeq = -1;
    private boolean welcomed;
    private volatile int connects;
    private final java.util.concurrent.atomic.AtomicBoolean reconnecting = new java.util.concurrent.atomic.AtomicBoolean();
    // What this session said and was told, newest last: printed when the verdict finds a silent loss of its user.
    private final java.util.ArrayDeque<String> trace = new java.util.ArrayDeque<>();
    private boolean firstEventAfterResume;
    // Publish-to-receive latency of events that carry the producer's nanoTime as data.t (same JVM), or null.
    private volatile java.util.function.LongConsumer latency;

    /** Rooms a scenario may publish to: user fault-i is a member of fault-room-(i % ROOMS) when it does. */
    static final int ROOMS = 5;

    /** @return the room a user belongs to in scenarios with room events ({@link #ROOMS}). */
    static String roomOf(final String user)
    {
        return "fault-room-" + Integer.parseInt(user.substring(user.lastIndexOf('-') + 1)) % ROOMS;
    }

    FaultSession(final String user, final Supplier<URI> endpoint, final FaultLedger ledger)
    {
        this.user = user;
        this.endpoint = endpoint;
        this.ledger = ledger;
    }

    /** Connects, retrying with backoff until it is in or the session is stopped. */
    void connect()
    {
        long backoffMs = 50;
        while (running)
        {
            final String query = epoch < 0 ? "" : "?epoch=" + epoch + "&after=" + lastSeq;
            synchronized (this)
            {
                cursorEpoch = epoch;
                cursorSeq = lastSeq;
                welcomed = false;
                note("connect" + query);
            }
            try
            {
                final URI base = endpoint.get();
                socket = WsClient.HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + Tokens.hs256(user, 3_600_000, roomOf(user)))
                    .buildAsync(URI.create(base + query), this).get(10, TimeUnit.SECONDS);
                connects++;
                return;
            }
            catch (final Exception refused)
            {
                sleep(backoffMs);
                backoffMs = Math.min(1_000, backoffMs * 2);
            }
        }
    }

    /** Drops the connection abruptly (no close handshake), as a crashed tab or a dead network does. */
    void kill()
    {
        final WebSocket current = socket;
        synchronized (this)
        {
            note("killed");
        }
        if (current != null)
        {
            current.abort();
        }
        // An aborted JDK WebSocket tells its listener nothing: the session reconnects as a front end would.
        reconnectLater();
    }

    /** Stops reading for a while: the server's send path meets a reader that does not read. */
    void stall(final long forMs)
    {
        stalled = true;
        final Thread waker = new Thread(() ->
        {
            sleep(forMs);
            stalled = false;
            final WebSocket current = socket;
            if (current != null)
            {
                current.request(1);
            }
        }, "fault-waker-" + user);
        waker.setDaemon(true);
        waker.start();
    }

    /** Records each event's publish-to-receive latency (ns) from its {@code data.t}, the producer's nanoTime. */
    void recordLatency(final java.util.function.LongConsumer recorder)
    {
        latency = recorder;
    }

    /** Reads slowly: each message costs this long to take. */
    void slow(final long perMessageMs)
    {
        slowNs = TimeUnit.MILLISECONDS.toNanos(perMessageMs);
    }

    long lastSeq()
    {
        return lastSeq;
    }

    long epoch()
    {
        return epoch;
    }

    boolean isOpen()
    {
        final WebSocket current = socket;
        return current != null && !current.isInputClosed() && !current.isOutputClosed();
    }

    int connects()
    {
        return connects;
    }

    void stop()
    {
        running = false;
        final WebSocket current = socket;
        if (current != null)
        {
            current.abort();
        }
    }

    @Override
    public void onOpen(final WebSocket webSocket)
    {
        socket = webSocket; // before any frame of it arrives: frames of other (left) connections are ignored
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(final WebSocket webSocket, final CharSequence data, final boolean last)
    {
        if (webSocket != socket)
        {
            return null; // a connection this session already left
        }
        partial.append(data);
        if (last)
        {
            final String text = partial.toString();
            partial.setLength(0);
            onMessage(text);
        }
        if (slowNs > 0)
        {
            sleep(TimeUnit.NANOSECONDS.toMillis(slowNs));
        }
        if (!stalled)
        {
            webSocket.request(1);
        }
        return null;
    }

    private void onMessage(final String text)
    {
        final JsonNode m;
        try
        {
            m = Json.MAPPER.readTree(text);
        }
        catch (final java.io.IOException ex)
        {
            throw new AssertionError("the server sent what is not JSON: " + text, ex);
        }
        final String type = m.path("type").asText();
        synchronized (this)
        {
            switch (type)
            {
                case "welcome":
                {
                    note(text);
                    firstEventAfterResume = true;
                    welcomed = true;
                    final long welcomeEpoch = m.get("epoch").asLong();
                    if (cursorEpoch < 0)
                    {
                        ledger.startedAt(user, welcomeEpoch, m.get("seq").asLong());
                        epoch = welcomeEpoch;
                        lastSeq = m.get("seq").asLong();
                    }
                    else if (welcomeEpoch != cursorEpoch)
                    {
                        // The resumed notice follows and says recovered:false; the epoch is the new one from now.
                        epoch = welcomeEpoch;
                    }
                    break;
                }
                case "resumed":
                {
                    note(text);
                    final long from = m.get("from").asLong();
                    final boolean recovered = m.get("recovered").asBoolean();
                    ledger.resumed(user, cursorEpoch, cursorSeq, epoch, recovered, from);
                    if (cursorEpoch != epoch)
                    {
                        lastSeq = from - 1;
                    }
                    else if (!recovered)
                    {
                        lastSeq = Math.max(lastSeq, from - 1);
                    }
                    break;
                }
                default:
                    final java.util.function.LongConsumer recorder = latency;
                    if (recorder != null && m.path("data").has("t"))
                    {
                        recorder.accept(System.nanoTime() - m.path("data").get("t").asLong());
                    }
                    if (m.has("seq") && m.has("epoch") && m.has("data"))
                    {
                        final long eventEpoch = m.get("epoch").asLong();
                        final long seq = m.get("seq").asLong();
                        if (firstEventAfterResume)
                        {
                            firstEventAfterResume = false;
                            note("first event epoch=" + eventEpoch + " seq=" + seq);
                        }
                        // A room's event names its room (r): it is this user's when the room is.
                        final JsonNode data = m.get("data");
                        final String room = data.path("r").asText(null);
                        ledger.received(user, room == null ? data.path("u").asText() :
                            room.equals(roomOf(user)) ? user : "a member of " + room, eventEpoch, seq);
                        epoch = eventEpoch;
                        lastSeq = seq;
                    }
                    break;
            }
        }
    }

    @Override
    public CompletionStage<?> onClose(final WebSocket webSocket, final int statusCode, final String reason)
    {
        if (webSocket == socket)
        {
            synchronized (this)
            {
                note("closed " + statusCode + " " + reason);
            }
            reconnectLater();
        }
        return null;
    }

    @Override
    public void onError(final WebSocket webSocket, final Throwable error)
    {
        if (webSocket == socket)
        {
            reconnectLater();
        }
    }

    private void note(final String what)
    {
        if (trace.size() == 40)
        {
            trace.removeFirst();
        }
        trace.addLast(System.currentTimeMillis() % 100_000 + " " + what);
    }

    /** @return what this session said and was told, newest last. */
    synchronized String trace()
    {
        return String.join("\n  ", trace);
    }

    /** One reconnect at a time: a session never holds two connections. */
    private void reconnectLater()
    {
        if (!running || !reconnecting.compareAndSet(false, true))
        {
            return;
        }
        partial.setLength(0);
        socket = null;
        CompletableFuture.runAsync(() ->
        {
            try
            {
                sleep(20 + (long)(Math.random() * 200));
                connect();
            }
            finally
            {
                reconnecting.set(false);
            }
            // A connection that closed while this reconnect was still under way told reconnectLater while it was
            // busy, and that call was dropped: a session left on a dead socket never connected again (a fault-suite
            // build saw a link cut 71 ms after the upgrade, and 185 events "lost" by the harness, not the server).
            final WebSocket now = socket;
            if (running && (now == null || now.isInputClosed() || now.isOutputClosed()))
            {
                reconnectLater();
            }
        });
    }

    private static void sleep(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
