package dev.agentwire.server.user;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.CloseReason;
import dev.agentwire.core.FrameSink;
import dev.agentwire.core.SubscriberListener;
import dev.agentwire.core.Subscription;
import dev.agentwire.server.auth.Principal;
import dev.agentwire.server.websocket.AbortCause;
import dev.agentwire.server.websocket.WebSocketConnection;
import dev.agentwire.server.websocket.WebSocketFrames;
import dev.agentwire.server.websocket.WebSocketThreads;
import dev.agentwire.server.websocket.CloseCodes;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.StreamConnection;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One user's WebSocket: adapts a core {@link Subscription} to the socket and the socket's messages to the engine.
 * <p>
 * Threading: everything that touches the socket runs on the connection's XNIO I/O thread. The engine's slice thread
 * only ever schedules work there ({@link #onAvailable}, {@link #onClosed(Subscription, int)}) and never waits.
 * <p>
 * Delivery: the subscription's frames were made once, when the event was numbered; a drain copies the ready ones
 * into the I/O thread's write buffer, with the control frames between them, and writes them in one call. When the
 * socket does not take everything, the connection stops draining until it does; it holds at most one drain's bytes
 * (at most {@code sendWindowBytes}). A client that stays behind long enough for its unread events to leave history
 * is cut by the engine, which closes the socket with 4004 (slow consumer). Nothing else waits for it.
 */
final class UserConnection extends WebSocketConnection implements SubscriberListener, FrameSink
{
    private static final Logger LOG = LoggerFactory.getLogger(UserConnection.class);
    /** Drains per wake-up before the connection yields its I/O thread to the others. */
    private static final int DRAINS_PER_TURN = 4;

    private final Principal principal;
    private final String remoteIp;
    /** The engine, registry, metrics, settings and the I/O thread's schedulers, shared by its sockets. */
    private final UserSocketThread shared;
    private final ClientLimitPolicy limits;
    private final long openedAtMs;
    /** What this socket speaks ({@code /v1/ws} frames or AG-UI events), chosen when it opened. */
    private final OutboundStage stage;

    // I/O-thread state.
    private Subscription subscription;
    private boolean closing;
    private int closeAfterDrain;
    private long lastHeardNs;
    private long lastPingNs;
    private long framesSent;
    /** Position in its I/O thread's {@link HeartbeatSweeper}, -1 when not in it. */
    int sweepIndex = -1;
    /** Link in its I/O thread's {@link DrainScheduler} queue; touched by that scheduler only. */
    UserConnection nextToDrain;
    /** 1 while the connection waits in its {@link DrainScheduler}'s queue; touched by that scheduler only. */
    volatile int scheduled;

    UserConnection(
        final StreamConnection connection,
        final WebSocketThreads threads,
        final Principal principal,
        final String remoteIp,
        final UserSocketThread shared,
        final OutboundStage stage)
    {
        super(connection, threads, shared.settings.maxMessageBytes());
        this.principal = principal;
        this.remoteIp = remoteIp;
        this.shared = shared;
        final long nowNs = System.nanoTime();
        this.limits = new ClientLimitPolicy(shared.settings, nowNs);
        this.lastHeardNs = nowNs;
        this.lastPingNs = nowNs - ThreadLocalRandom.current().nextLong(shared.pingPeriodNs);
        this.openedAtMs = System.currentTimeMillis();
        this.stage = stage;
    }

    String userId()
    {
        return principal.userId;
    }

    String remoteIp()
    {
        return remoteIp;
    }

    /** @return bytes this socket holds for its client (any thread: a gauge's read). */
    int pendingOutputBytes()
    {
        return pendingBytes();
    }

    Principal principal()
    {
        return principal;
    }

    /** Called on the I/O thread right after the upgrade. */
    void start(final long resumeEpoch, final long resumeAfter)
    {
        startIo();
        shared.sweeper.add(this);
        subscription = shared.engine.subscribe(principal.userId, this, resumeEpoch, resumeAfter);
        shared.metrics.connectionOpened();
        LOG.info("connection open: user={} remote={}", principal.userId, remoteIp);
    }

    /** Closes a connection that never started (a cap reached at the upgrade): close frame, no subscription. */
    void refuse(final int code, final String reason)
    {
        closing = true;
        startIo();
        sendClose(code, reason);
    }

    /**
     * Runs a task on this connection's I/O thread: what was decided on another (a room change the sequencer refused,
     * a user's message a cluster's gate judged) is answered there.
     */
    void runOnIoThread(final Runnable task)
    {
        onIoThread(task);
    }

    /** Ends the connection with a code: stops the subscription and sends the close frame. Any thread. */
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
        // A flood goes on being read only until the client's close, its end of stream, or the bound on what is read
        // after a close (WebSocketConnection), so it costs no more than that.
        sendClose(code, CloseCodes.reason(code));
    }

    // Engine side (slice thread): schedule, never block.

    @Override
    public void onAvailable(final Subscription s)
    {
        shared.drainer.schedule(this);
    }

    @Override
    public void onClosed(final Subscription s, final int reason)
    {
        onIoThread(() ->
        {
            if (s == subscription && reason == CloseReason.SLOW_CONSUMER)
            {
                shared.metrics.slowConsumerClosed();
                closeWith(CloseCodes.SLOW_CONSUMER);
            }
        });
    }

    // Draining (I/O thread).

    /** Sends what the subscription has ready, while the socket takes it. On this connection's I/O thread. */
    void drain()
    {
        final Subscription current = subscription;
        // History a stage reads without sending (an AG-UI prelude's) costs a window of reading: one drain a turn,
        // so the thread's other connections never wait behind more than one window of it.
        final int turns = stage.readsHistory() ? 1 : DRAINS_PER_TURN;
        for (int turn = 0; turn < turns && !closing && !hasPending() && current == subscription; turn++)
        {
            final UnsafeBuffer socket = writeBuffer();
            final int bytes = stage.hasBacklog() ? stage.writeBacklog(socket, shared.drainBytes) :
                stage.drain(current, socket, shared.drainBytes, writeBufferCapacity(), this);
            if (bytes > 0)
            {
                framesSent++;
                send(stage.output(socket), bytes);
            }
            else if (!stage.hasBacklog() && !stage.readsHistory())
            {
                break;
            }
            if (closeAfterDrain != 0)
            {
                closeWith(closeAfterDrain);
                return;
            }
        }
        if (closeAfterDrain != 0)
        {
            closeWith(closeAfterDrain);
            return;
        }
        boolean more = current.queuedCount() > 0;
        if (!closing && current == subscription)
        {
            more |= (!more && stage.onQueueEmpty()) || stage.hasBacklog();
        }
        if (!closing && !hasPending() && current == subscription && more)
        {
            // More than a turn's worth is ready: come back after the thread's other connections had theirs.
            shared.drainer.schedule(this);
        }
    }

    @Override
    protected void onWritable()
    {
        drain();
    }

    /**
     * A drain threw (a defect, or memory exhausted): the connection cannot be trusted to deliver in order any more,
     * so it ends with 1011 and is counted; the client reconnects and resumes from its cursor. I/O thread.
     */
    void failed(final Throwable failure)
    {
        shared.metrics.drainFailed();
        LOG.error("drain failed: user={} remote={} closing with 1011", principal.userId, remoteIp, failure);
        try
        {
            closeWith(CloseCodes.INTERNAL_ERROR);
        }
        catch (final RuntimeException closing)
        {
            closeNow();
        }
    }

    @Override
    public int onWelcome(
        final MutableDirectBuffer dst, final int offset, final int capacity, final String userId, final long epoch,
        final long lastSeq)
    {
        return stage.welcome(dst, offset, capacity, userId, epoch, lastSeq);
    }

    @Override
    public int onResumed(
        final MutableDirectBuffer dst, final int offset, final int capacity, final boolean recovered, final long epoch,
        final long fromSeq, final long toSeq)
    {
        final int written = stage.resumed(dst, offset, capacity, recovered, epoch, fromSeq, toSeq);
        if (written >= 0)
        {
            shared.metrics.resumed(recovered);
            limits.resumeAnswered();
        }
        return written;
    }

    // A room's events and notices reach this connection only when its token lists the room (docs/PROTOCOL.md):
    // membership belongs to the user, what a connection may see to its token.

    @Override
    public int onJoined(final MutableDirectBuffer dst, final int offset, final int capacity, final String room)
    {
        return principal.mayJoin(room) ? stage.room(dst, offset, capacity, true, room) : 0;
    }

    @Override
    public int onLeft(final MutableDirectBuffer dst, final int offset, final int capacity, final String room)
    {
        return principal.mayJoin(room) ? stage.room(dst, offset, capacity, false, room) : 0;
    }

    @Override
    public int onEvent(final AgentEvent event, final MutableDirectBuffer dst, final int offset, final int capacity)
    {
        return stage.event(event, dst, offset, capacity);
    }

    @Override
    public boolean admitsRoom(final DirectBuffer name, final int offset, final int length)
    {
        return principal.allowsRoom(name, offset, length);
    }

    @Override
    public void onFrame(final long publishNs)
    {
        shared.metrics.delivered(publishNs);
    }

    @Override
    public void onClosed(final int reason)
    {
        // Called while a drain assembles frames: the close goes after them, once they are handed to the socket.
        if (reason == CloseReason.SHUTDOWN)
        {
            closeAfterDrain = CloseCodes.GOING_AWAY;
        }
        else if (reason == CloseReason.RESUME_REQUIRED)
        {
            // A cluster node lost track of the stream (Redis lost its data, or log entries): reconnect and resume.
            closeAfterDrain = CloseCodes.SERVICE_RESTART;
        }
    }

    // Answers for the client protocol (I/O thread).

    void sendPong()
    {
        sendControl(stage.pong(writeBuffer(), 0, writeBufferCapacity()));
    }

    void sendError(final String code, final String message)
    {
        sendControl(stage.error(writeBuffer(), 0, writeBufferCapacity(), code, message));
    }

    private void sendControl(final int length)
    {
        if (!closing && length > 0)
        {
            send(stage.output(writeBuffer()), length);
        }
    }

    /**
     * Writes {@code length} bytes the stage wrote: from the socket's buffer as they are, or from the stage's own
     * buffer (an AG-UI group may be larger than the socket's) in buffer-sized pieces, the socket's pending bytes
     * taking what it does not.
     */
    private void send(final MutableDirectBuffer out, final int length)
    {
        if (out == writeBuffer())
        {
            flush(length);
            return;
        }
        flushFrom(out, length);
        stage.release();
    }

    /**
     * A resume on an open socket: a new subscription from the cursor replaces the current one. Bounded, since each
     * replays up to the user's whole history: one at a time (refused while the previous one's replay, or any
     * backlog, is still being sent) and at the connection's resume rate ({@link ClientLimitPolicy}).
     *
     * @return a {@link ClientLimitPolicy} resume answer.
     */
    int resubscribe(final long epoch, final long after)
    {
        final Subscription old = subscription;
        final int answer = limits.tryResume(old.queuedCount(), System.nanoTime());
        if (answer == ClientLimitPolicy.RESUME_RATE_LIMITED)
        {
            shared.metrics.rateLimited("resume");
        }
        if (answer == ClientLimitPolicy.RESUME_TAKEN)
        {
            subscription = shared.engine.subscribe(principal.userId, this, epoch, after);
            old.close();
        }
        return answer;
    }

    void badMessage(final String why)
    {
        shared.metrics.badMessage();
        sendError("bad_message", why);
        // A client that keeps sending what it has been told is wrong is broken or abusive: one error each, up to
        // a bound, then the connection ends with a code that says why.
        if (limits.isLastBadMessage())
        {
            closeWith(CloseCodes.BAD_MESSAGE);
        }
    }

    // Socket side (I/O thread).

    @Override
    public boolean onFrame(final int opcode, final long payloadLength)
    {
        lastHeardNs = System.nanoTime();
        if (closing || opcode == WebSocketFrames.PONG || opcode == WebSocketFrames.CLOSE)
        {
            return true;
        }
        if (!limits.admitsFrame(opcode, payloadLength, lastHeardNs))
        {
            shared.metrics.rateLimited("connection");
            // The frames that follow are still framed (and ignored: closing), so the client's answering close is
            // seen and ends the socket at once.
            closeWith(CloseCodes.RATE_LIMITED);
        }
        return true;
    }

    @Override
    public void onMessage(final int opcode, final DirectBuffer data, final int offset, final int length)
    {
        if (closing)
        {
            return;
        }
        if (opcode == WebSocketFrames.BINARY)
        {
            badMessage("binary frames are not accepted from clients; send JSON text");
            return;
        }
        shared.protocol.onMessage(this, data.getStringWithoutLengthUtf8(offset, length));
    }

    @Override
    public void onPong()
    {
        lastHeardNs = System.nanoTime();
    }

    @Override
    protected void onPeerClose(final int code, final String reason)
    {
        if (!closing)
        {
            ended(CloseCodes.NORMAL, "client closed");
        }
    }

    @Override
    protected void onProtocolViolation(final int code)
    {
        if (!closing)
        {
            ended(code, CloseCodes.reason(code));
        }
    }

    @Override
    protected void onAbort(final AbortCause cause)
    {
        if (!closing)
        {
            final int code = cause == AbortCause.PEER_GONE ? CloseCodes.NORMAL : CloseCodes.INTERNAL_ERROR;
            ended(code, cause == AbortCause.PEER_GONE ? "client closed" : CloseCodes.reason(code));
        }
    }

    @Override
    protected void onEnded()
    {
        if (!closing)
        {
            ended(CloseCodes.NORMAL, "client closed");
        }
        shared.registry.unregister(this);
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
        if (TimeUnit.NANOSECONDS.toMillis(nowNs - lastHeardNs) > shared.settings.heartbeatTimeoutMs())
        {
            closeWith(CloseCodes.HEARTBEAT_TIMEOUT);
            return;
        }
        if (TimeUnit.NANOSECONDS.toMillis(nowNs - lastPingNs) >= shared.settings.heartbeatIntervalMs())
        {
            lastPingNs = nowNs;
            final UnsafeBuffer out = writeBuffer();
            flush(WebSocketFrames.putHeader(out, 0, WebSocketFrames.PING, 0));
        }
    }

    /** The one place a connection's end is recorded: timers, subscription, metrics, the log line. Once. */
    private void ended(final int code, final String reason)
    {
        closing = true;
        shared.sweeper.remove(this);
        if (subscription != null)
        {
            subscription.close();
        }
        shared.metrics.connectionClosed(code);
        LOG.info("connection close: user={} remote={} code={} reason={} frames={} lifetimeMs={}",
            principal.userId, remoteIp, code, reason, framesSent, System.currentTimeMillis() - openedAtMs);
    }
}
