package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.AgentWire;
import dev.agentwire.core.CloseReason;
import dev.agentwire.core.SubscriberListener;
import dev.agentwire.core.Subscription;
import dev.agentwire.core.SubscriptionHandler;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.XnioIoThread;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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

    private final Gateway gateway;
    private final WebSocketChannel channel;
    private final XnioIoThread ioThread;
    private final Principal principal;
    private final String remoteIp;
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
        final Gateway gateway, final WebSocketChannel channel, final Principal principal, final String remoteIp)
    {
        this.gateway = gateway;
        this.channel = channel;
        this.ioThread = channel.getIoThread();
        this.drainer = gateway.drainerFor(ioThread);
        this.sweeper = gateway.sweeperFor(ioThread);
        this.principal = principal;
        this.remoteIp = remoteIp;
        final long nowNs = System.nanoTime();
        this.inboundLimit = new TokenBucket(gateway.config.inboundRatePerSec(), gateway.config.inboundBurst(), nowNs);
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

    /** Called on the I/O thread right after the upgrade. */
    void start(final long resumeEpoch, final long resumeAfter)
    {
        channel.addCloseTask(ch -> onChannelClosed());
        channel.getReceiveSetter().set(this);
        channel.resumeReceives();

        sweeper.add(this);

        subscription = gateway.engine.subscribe(principal.userId, this, resumeEpoch, resumeAfter);
        gateway.metrics.connectionOpened();
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
                gateway.metrics.slowConsumerClosed();
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
        while (inFlightBytes < gateway.config.sendWindowBytes() && !closing && current == subscription)
        {
            if (current.poll(this, POLL_BATCH) < POLL_BATCH)
            {
                break;
            }
        }
        paused = inFlightBytes >= gateway.config.sendWindowBytes();
    }

    @Override
    public void onWelcome(final String userId, final long epoch, final long lastSeq)
    {
        sendText(codec.welcome(userId, epoch, lastSeq));
    }

    @Override
    public void onResumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
    {
        gateway.metrics.resumed(recovered);
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
        gateway.metrics.delivered(event.publishNs());
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
        if (paused && inFlightBytes <= gateway.config.sendWindowBytes() / 2)
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
        return gateway.config.maxMessageBytes();
    }

    @Override
    protected long getMaxBinaryBufferSize()
    {
        return gateway.config.maxMessageBytes();
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
            gateway.metrics.rateLimited("connection");
            closeWith(CloseCodes.RATE_LIMITED);
            return;
        }
        handleClientMessage(message.getData());
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

    private void handleClientMessage(final String text)
    {
        final JsonNode message;
        try
        {
            message = Json.MAPPER.readTree(text);
        }
        catch (final IOException ex)
        {
            badMessage("not valid JSON");
            return;
        }
        if (message == null || !message.isObject() || !message.path("type").isTextual())
        {
            badMessage("a message is a JSON object with a string type");
            return;
        }
        final String type = message.get("type").textValue();
        switch (type)
        {
            case "ping":
                sendText(codec.pong());
                break;
            case "resume":
                resume(message);
                break;
            case "join":
            case "leave":
                room(type, message);
                break;
            case "user_message":
                if (!message.path("thread_id").isTextual() || !message.path("data").isObject())
                {
                    badMessage("user_message needs thread_id (string) and data (object)");
                    return;
                }
                toRuntime(type, text);
                break;
            case "cancel":
                if (!message.path("run_id").isTextual())
                {
                    badMessage("cancel needs run_id (string)");
                    return;
                }
                toRuntime(type, text);
                break;
            default:
                sendText(codec.error("unknown_type", "unknown message type: " + truncate(type)));
                break;
        }
    }

    /** A resume rewinds this socket's stream to the cursor: what follows the resumed frame supersedes. */
    private void resume(final JsonNode message)
    {
        final JsonNode epoch = message.get("epoch");
        final JsonNode after = message.get("after");
        if (epoch == null || !epoch.canConvertToLong() || after == null || !after.canConvertToLong() ||
            after.longValue() < 0)
        {
            badMessage("resume needs epoch and after (integers, after >= 0)");
            return;
        }
        final Subscription old = subscription;
        subscription = gateway.engine.subscribe(principal.userId, this, epoch.longValue(), after.longValue());
        old.close();
    }

    private void room(final String type, final JsonNode message)
    {
        final JsonNode room = message.get("room");
        if (room == null || !room.isTextual() || room.textValue().isEmpty())
        {
            badMessage(type + " needs room (string)");
            return;
        }
        final String name = room.textValue();
        final boolean join = "join".equals(type);
        if (join && !principal.mayJoin(name))
        {
            sendText(codec.error("forbidden_room", "the token does not allow joining " + truncate(name)));
            return;
        }
        gateway.publisher.membership(join, principal.userId, name, status -> onMembership(status, name));
    }

    /** The joined/left notice comes through the spine; only a refusal is answered here. Any thread. */
    private void onMembership(final long status, final String room)
    {
        if (status < 0)
        {
            onIoThread(() -> sendText(codec.error(ClusterPublisher.statusName(status),
                "the room change was not made: " + truncate(room))));
        }
    }

    private void toRuntime(final String type, final String text)
    {
        if (gateway.producers.wouldDrop(type))
        {
            sendText(codec.error("no_agent", "no agent runtime is connected to take " + type));
            return;
        }
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        final int status = gateway.engine.dispatchInbound(
            principal.userId, type, new UnsafeBuffer(bytes), 0, bytes.length);
        if (status == AgentWire.INBOUND_NO_HANDLER)
        {
            sendText(codec.error("no_agent", "no agent runtime is connected to take " + type));
        }
        else if (status == AgentWire.INBOUND_HANDLER_FAILED)
        {
            sendText(codec.error("agent_error", "the agent runtime failed to take " + type));
        }
    }

    private void badMessage(final String why)
    {
        gateway.metrics.badMessage();
        sendText(codec.error("bad_message", why));
        // A client that keeps sending what it has been told is wrong is broken or abusive: one error each, up to
        // a bound, then the connection ends with a code that says why.
        if (++badMessages >= gateway.config.maxBadMessages())
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
        if (TimeUnit.NANOSECONDS.toMillis(nowNs - lastHeardNs) > gateway.config.heartbeatTimeoutMs())
        {
            closeWith(CloseCodes.HEARTBEAT_TIMEOUT);
            return;
        }
        if (TimeUnit.NANOSECONDS.toMillis(nowNs - lastPingNs) >= gateway.config.heartbeatIntervalMs())
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
        gateway.registry.unregister(this);
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
        gateway.metrics.connectionClosed(code);
        LOG.info("connection close: user={} remote={} code={} reason={} frames={} lifetimeMs={}",
            principal.userId, remoteIp, code, reason, framesSent, System.currentTimeMillis() - openedAtMs);
    }

    private static String truncate(final String s)
    {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
