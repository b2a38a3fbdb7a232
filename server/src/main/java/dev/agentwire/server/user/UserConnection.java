package dev.agentwire.server.user;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.AgentWire;
import dev.agentwire.core.CloseReason;
import dev.agentwire.core.SubscriberListener;
import dev.agentwire.core.Subscription;
import dev.agentwire.core.SubscriptionHandler;
import dev.agentwire.server.auth.Principal;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.XnioIoThread;

import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One user's WebSocket: adapts a core {@link Subscription} to the socket and the socket's messages to the engine.
 * <p>
 * Threading: everything that touches the socket runs on the channel's XNIO I/O thread. The engine's slice thread
 * only ever schedules work there ({@link #onAvailable}, {@link #onClosed(Subscription, int)}) and never waits.
 * <p>
 * Flow control: at most {@code sendWindowBytes} are handed to the socket and not yet written. Past that the
 * connection stops draining its subscription; if the client stays behind, the subscription's own bound is hit
 * and the engine cuts it, which closes the socket with 4004 (slow consumer). Nothing else waits for it.
 */
final class UserConnection extends AbstractReceiveListener
    implements SubscriberListener, SubscriptionHandler, WebSocketCallback<Long>
{
    private static final Logger LOG = LoggerFactory.getLogger(UserConnection.class);
    private static final int POLL_BATCH = 32;
    private static final long HARD_CLOSE_AFTER_MS = 2_000;

    private final WebSocketChannel channel;
    private final XnioIoThread ioThread;
    private final Principal principal;
    private final String remoteIp;
    private final AgentWire engine;
    private final ConnectionRegistry registry;
    private final ServerMetrics metrics;
    private final UserSocketSettings settings;
    private final ClientProtocol protocol;
    private final WireCodec codec = new WireCodec();
    private final TokenBucket inboundLimit;
    private final DrainScheduler drainer;
    private final HeartbeatSweeper sweeper;
    private final long openedAtMs;

    // I/O-thread state.
    private Subscription subscription;
    private long inFlightBytes;
    private boolean paused;
    private boolean closing;
    private long lastHeardNs;
    private long lastPingNs;
    private long framesSent;
    private int badMessages;
    /** Position in its I/O thread's {@link HeartbeatSweeper}, -1 when not in it. */
    int sweepIndex = -1;

    UserConnection(
        final WebSocketChannel channel,
        final Principal principal,
        final String remoteIp,
        final AgentWire engine,
        final ConnectionRegistry registry,
        final ServerMetrics metrics,
        final UserSocketSettings settings,
        final ClientProtocol protocol,
        final DrainScheduler drainer,
        final HeartbeatSweeper sweeper)
    {
        this.channel = channel;
        this.ioThread = channel.getIoThread();
        this.principal = principal;
        this.remoteIp = remoteIp;
        this.engine = engine;
        this.registry = registry;
        this.metrics = metrics;
        this.settings = settings;
        this.protocol = protocol;
        this.drainer = drainer;
        this.sweeper = sweeper;
        final long nowNs = System.nanoTime();
        this.inboundLimit = new TokenBucket(settings.inboundRatePerSec, settings.inboundBurst, nowNs);
        this.lastHeardNs = nowNs;
        this.lastPingNs = nowNs;
        this.openedAtMs = System.currentTimeMillis();
    }

    String userId()
    {
        return principal.userId;
    }

    String remoteIp()
    {
        return remoteIp;
    }

    Principal principal()
    {
        return principal;
    }

    /** Called on the I/O thread right after the upgrade. */
    void start(final long resumeEpoch, final long resumeAfter)
    {
        channel.addCloseTask(ch -> onChannelClosed());
        channel.getReceiveSetter().set(this);
        channel.resumeReceives();

        sweeper.add(this);

        subscription = engine.subscribe(principal.userId, this, resumeEpoch, resumeAfter);
        metrics.connectionOpened();
        LOG.info("connection open: user={} remote={}", principal.userId, remoteIp);
    }

    /** Ends the connection with a code: stops the subscription, sends the close frame, and bounds the wait. */
    void closeWith(final int code)
    {
        if (Thread.currentThread() != ioThread)
        {
            onIoThread(() -> closeWith(code));
            return;
        }
        if (closing)
        {
            return;
        }
        ended(code, CloseCodes.reason(code));
        WebSockets.sendClose(code, CloseCodes.reason(code), channel, null);
        // A client that stopped reading never lets the close frame out: do not wait for it forever.
        try
        {
            ioThread.executeAfter(() -> IoUtils.safeClose(channel), HARD_CLOSE_AFTER_MS, TimeUnit.MILLISECONDS);
        }
        catch (final RejectedExecutionException stopping)
        {
            IoUtils.safeClose(channel);
        }
    }

    /** Runs a task on this socket's I/O thread; once the server has stopped its threads there is nothing to do. */
    private void onIoThread(final Runnable task)
    {
        try
        {
            ioThread.execute(task);
        }
        catch (final RejectedExecutionException stopping)
        {
            IoUtils.safeClose(channel);
        }
    }

    // Engine side (slice thread): schedule, never block.

    @Override
    public void onAvailable(final Subscription s)
    {
        drainer.schedule(this);
    }

    @Override
    public void onClosed(final Subscription s, final int reason)
    {
        onIoThread(() ->
        {
            if (s == subscription && reason == CloseReason.SLOW_CONSUMER)
            {
                metrics.slowConsumerClosed();
                closeWith(CloseCodes.SLOW_CONSUMER);
            }
        });
    }

    // Draining (I/O thread).

    /** Sends what the subscription holds, up to the send window. On this connection's I/O thread. */
    void drain()
    {
        if (closing || subscription == null)
        {
            return;
        }
        final Subscription current = subscription;
        while (inFlightBytes < settings.sendWindowBytes && !closing && current == subscription)
        {
            if (current.poll(this, POLL_BATCH) < POLL_BATCH)
            {
                break;
            }
        }
        paused = inFlightBytes >= settings.sendWindowBytes;
    }

    @Override
    public void onWelcome(final String userId, final long epoch, final long lastSeq)
    {
        sendText(codec.welcome(userId, epoch, lastSeq));
    }

    @Override
    public void onResumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
    {
        metrics.resumed(recovered);
        sendText(codec.resumed(recovered, epoch, fromSeq, toSeq));
    }

    @Override
    public void onEvent(final AgentEvent event)
    {
        if (event.isBinary())
        {
            send(WireCodec.binaryEvent(event), true);
        }
        else
        {
            sendText(codec.event(event));
        }
        metrics.delivered(event.publishNs());
    }

    @Override
    public void onJoined(final String room)
    {
        sendText(codec.room("joined", room));
    }

    @Override
    public void onLeft(final String room)
    {
        sendText(codec.room("left", room));
    }

    @Override
    public void onClosed(final int reason)
    {
        if (reason == CloseReason.SHUTDOWN)
        {
            closeWith(CloseCodes.GOING_AWAY);
        }
        else if (reason == CloseReason.RESUME_REQUIRED)
        {
            // A cluster node lost track of the stream (Redis lost its data, or log entries): reconnect and resume.
            closeWith(CloseCodes.SERVICE_RESTART);
        }
    }

    private void sendText(final ByteBuffer frame)
    {
        send(frame, false);
    }

    private void send(final ByteBuffer frame, final boolean binary)
    {
        if (closing)
        {
            return;
        }
        final int bytes = frame.remaining();
        inFlightBytes += bytes;
        framesSent++;
        final Long context = (long)bytes;
        if (binary)
        {
            WebSockets.sendBinary(frame, channel, this, context);
        }
        else
        {
            WebSockets.sendText(frame, channel, this, context);
        }
    }

    /** Send completion, on the I/O thread: frees window; resumes draining once half the window is free. */
    @Override
    public void complete(final WebSocketChannel ch, final Long bytes)
    {
        inFlightBytes -= bytes;
        if (paused && inFlightBytes <= settings.sendWindowBytes / 2)
        {
            paused = false;
            drain();
        }
    }

    @Override
    public void onError(final WebSocketChannel ch, final Long bytes, final Throwable throwable)
    {
        inFlightBytes -= bytes;
        IoUtils.safeClose(channel);
    }

    // Socket side (I/O thread).

    @Override
    protected long getMaxTextBufferSize()
    {
        return settings.maxMessageBytes;
    }

    @Override
    protected long getMaxBinaryBufferSize()
    {
        return settings.maxMessageBytes;
    }

    @Override
    protected void onFullTextMessage(final WebSocketChannel ch, final BufferedTextMessage message)
    {
        lastHeardNs = System.nanoTime();
        if (closing)
        {
            return;
        }
        if (!inboundLimit.tryAcquire(1, lastHeardNs))
        {
            metrics.rateLimited("connection");
            closeWith(CloseCodes.RATE_LIMITED);
            return;
        }
        protocol.onMessage(this, message.getData());
    }

    @Override
    protected void onFullBinaryMessage(final WebSocketChannel ch, final BufferedBinaryMessage message)
    {
        lastHeardNs = System.nanoTime();
        message.getData().free();
        if (!closing)
        {
            badMessage("binary frames are not accepted from clients; send JSON text");
        }
    }

    @Override
    protected void onFullPongMessage(final WebSocketChannel ch, final BufferedBinaryMessage message)
    {
        lastHeardNs = System.nanoTime();
        message.getData().free();
    }

    @Override
    protected void onError(final WebSocketChannel ch, final Throwable error)
    {
        // Undertow has already sent 1009 when a message was over the limit (UT002040); any other read error
        // leaves the socket unusable.
        final String message = String.valueOf(error.getMessage());
        final int code = message.startsWith("UT002040") ? CloseCodes.TOO_BIG : CloseCodes.INTERNAL_ERROR;
        if (!closing)
        {
            ended(code, CloseCodes.reason(code));
        }
        IoUtils.safeClose(ch);
    }

    // Answers for the client protocol (I/O thread).

    void sendPong()
    {
        sendText(codec.pong());
    }

    void sendError(final String code, final String message)
    {
        sendText(codec.error(code, message));
    }

    /** An answer decided on another thread (a room change refused by the sequencer). */
    void sendErrorFromAnyThread(final String code, final String message)
    {
        onIoThread(() -> sendError(code, message));
    }

    /** A resume on an open socket: a new subscription from the cursor replaces the current one. */
    void resubscribe(final long epoch, final long after)
    {
        final Subscription old = subscription;
        subscription = engine.subscribe(principal.userId, this, epoch, after);
        old.close();
    }

    void badMessage(final String why)
    {
        metrics.badMessage();
        sendText(codec.error("bad_message", why));
        // A client that keeps sending what it has been told is wrong is broken or abusive: one error each, up to
        // a bound, then the connection ends with a code that says why.
        if (++badMessages >= settings.maxBadMessages)
        {
            closeWith(CloseCodes.BAD_MESSAGE);
        }
    }

    /** Its I/O thread's clock: the token's expiry, then the heartbeat. */
    void onTick(final long nowNs, final long nowMs)
    {
        if (closing)
        {
            return;
        }
        if (nowMs >= principal.expiresAtMs)
        {
            closeWith(CloseCodes.TOKEN_EXPIRED);
            return;
        }
        if (TimeUnit.NANOSECONDS.toMillis(nowNs - lastHeardNs) > settings.heartbeatTimeoutMs)
        {
            closeWith(CloseCodes.HEARTBEAT_TIMEOUT);
            return;
        }
        if (TimeUnit.NANOSECONDS.toMillis(nowNs - lastPingNs) >= settings.heartbeatIntervalMs)
        {
            lastPingNs = nowNs;
            WebSockets.sendPing(ByteBuffer.allocate(0), channel, null);
        }
    }

    private void onChannelClosed()
    {
        if (!closing)
        {
            ended(CloseCodes.NORMAL, "client closed");
        }
        registry.unregister(this);
    }

    /** The one place a connection's end is recorded: timers, subscription, metrics, the log line. Once. */
    private void ended(final int code, final String reason)
    {
        closing = true;
        sweeper.remove(this);
        if (subscription != null)
        {
            subscription.close();
        }
        metrics.connectionClosed(code);
        LOG.info("connection close: user={} remote={} code={} reason={} frames={} lifetimeMs={}",
            principal.userId, remoteIp, code, reason, framesSent, System.currentTimeMillis() - openedAtMs);
    }
}
