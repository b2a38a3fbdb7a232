package dev.agentwire.server.ingest;

import dev.agentwire.server.agui.AgUiIngest;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.runtime.RuntimeChannel;
import dev.agentwire.server.sequencing.Sequencer;
import dev.agentwire.server.websocket.AbortCause;
import dev.agentwire.server.websocket.CloseCodes;
import dev.agentwire.server.websocket.WebSocketConnection;
import dev.agentwire.server.websocket.WebSocketFrames;
import dev.agentwire.server.websocket.WebSocketThreads;
import org.agrona.AsciiEncoding;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.StreamConnection;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One agent runtime's producer socket, on the server's own framing. Each text frame is one event (the HTTP
 * schema) with an optional {@code ref}; the answer is an {@code ack} (with the seqs assigned) or a {@code nack}
 * (with the reason), carrying the same ref. The runtime also receives users' {@code user_message}, {@code cancel} and
 * {@code presence} frames here.
 * <p>
 * What the server sends a runtime is bounded: at most {@link #SEND_WINDOW_BYTES} wait for a runtime that does not
 * read. Past it a user message is not taken ({@link #send} returns false: the router tries another runtime, or tells
 * the user {@code agent_busy}), and presence is owed until the backlog is below half the window again. Answers (acks
 * and nacks) are never dropped: once its unread answers fill the window the server stops reading the runtime's frames
 * until it reads them (TCP backpressure), so what is held stays within the window plus one read's answers. A runtime
 * that has taken nothing from its backlog for {@link #STALL_TIMEOUT_MS} is closed with 4004 and counted. Users'
 * messages the runtime did not have when the socket ended go back to the router for another runtime
 * ({@link HeldMessages}), which may take them past its own window, up to twice it. A runtime that confirms
 * ({@code ?confirm=true}) gets a {@code tag} on each and sends {@code {"taken":tag}}: until then a message counts in
 * its backlog, and goes back, marked {@code redelivered}, should the socket end.
 * <p>
 * Control frames (pings, and fragments too small to carry a share of a message) cost a token of a per-socket bucket
 * ({@link #CONTROL_FRAMES_PER_SEC}, burst {@link #CONTROL_FRAME_BURST}); past it the socket is closed with 4002.
 * The runtime is pinged every {@code heartbeatIntervalMs}; one silent for {@code heartbeatTimeoutMs} while read is
 * closed with 4005 and counted: a runtime whose connection died without a word (a process frozen, a NAT that forgot
 * it) would otherwise take users' messages for as long as TCP retries, and answer none.
 * What the runtime publishes is {@link ProducerEventFrames}'s.
 */
final class ProducerConnection extends WebSocketConnection implements RuntimeChannel
{
    /** Bytes the server keeps for a runtime that is not reading. */
    static final int SEND_WINDOW_BYTES = 4 * 1024 * 1024;
    /** How long a runtime may leave a backlog untouched before it is closed as not reading. */
    static final long STALL_TIMEOUT_MS = 30_000;
    /** Pings and tiny fragments a producer socket may send per second. */
    static final int CONTROL_FRAMES_PER_SEC = 100;
    /** Burst of {@link #CONTROL_FRAMES_PER_SEC}. */
    static final int CONTROL_FRAME_BURST = 200;
    /** A continuation at least this large carries a real share of a message and costs no control token. */
    private static final int FREE_FRAGMENT_BYTES = 1024;

    /** A confirming runtime's message begins {@code {"tag":N,}: these bytes, the digits, a comma. */
    private static final byte[] TAG = "{\"tag\":".getBytes(StandardCharsets.US_ASCII);

    private static final Logger LOG = LoggerFactory.getLogger(ProducerConnection.class);

    private final ProducerEventFrames events;
    private final ServerMetrics metrics;
    private final InboundRouter router;
    private final String remote;
    private final long heartbeatIntervalMs;
    private final long heartbeatTimeoutNs;
    // When a frame last arrived, or reads last were paused (a runtime is not silent while the server is not reading).
    private long heardNs = System.nanoTime();
    // The backlog: bytes taken by send() and not yet handed to the I/O thread, plus what the socket has not taken.
    private final AtomicLong queuedBytes = new AtomicLong();
    // As other threads read them (the I/O thread writes them: noteBacklog()): what the socket has not taken, and that
    // with what a confirming runtime has not confirmed.
    private volatile int unsentSnapshot;
    private volatile long backlogSnapshot;
    private volatile long lastProgressNs = System.nanoTime();
    private volatile boolean ended;
    // A stall check is scheduled (I/O thread): one at a time, however often reads pause and resume.
    private boolean stallWatched;
    private byte[] frame = new byte[4096];
    private final HeldMessages held;
    private final TokenBucket controlLimit =
        new TokenBucket(CONTROL_FRAMES_PER_SEC, CONTROL_FRAME_BURST, System.nanoTime());

    ProducerConnection(
        final StreamConnection connection,
        final WebSocketThreads threads,
        final IngestSettings settings,
        final IngestParser parser,
        final AgUiIngest agUi,
        final Sequencer sequencer,
        final TokenBucket producerLimit,
        final ServerMetrics metrics,
        final InboundRouter router,
        final String remote,
        final boolean confirms)
    {
        super(connection, threads, settings.maxBodyBytes());
        this.events = new ProducerEventFrames(parser, agUi, sequencer, producerLimit, metrics);
        this.metrics = metrics;
        this.router = router;
        this.remote = remote;
        this.heartbeatIntervalMs = settings.heartbeatIntervalMs();
        this.heartbeatTimeoutNs = TimeUnit.MILLISECONDS.toNanos(settings.heartbeatTimeoutMs());
        this.held = new HeldMessages(confirms);
    }

    /**
     * On the connection's I/O thread, from the upgrade. The socket is attached before this thread can read its first
     * frame: the answer to a runtime's first frame (the SDKs send a ping) tells it users' messages now come to it.
     *
     * @param takesMessages false for a socket that only publishes ({@code ?inbound=none}): never attached, so no
     *                      user's message or presence comes to it.
     */
    void start(final boolean takesMessages)
    {
        startIo();
        if (takesMessages)
        {
            router.attach(this); // logs it
        }
        else
        {
            LOG.info("producer open: remote={} inbound=none", remote);
        }
        later(this::heartbeat, heartbeatIntervalMs);
    }

    /** I/O thread: runs {@code task} on this thread after {@code delayMs}, or closes the socket when it stops. */
    private void later(final Runnable task, final long delayMs)
    {
        try
        {
            ioThread.executeAfter(task, delayMs, TimeUnit.MILLISECONDS);
        }
        catch (final RejectedExecutionException stopping)
        {
            closeNow();
        }
    }

    /** I/O thread: closes a runtime silent past the timeout, else pings it. */
    private void heartbeat()
    {
        if (isClosing() || ended)
        {
            return;
        }
        final long nowNs = System.nanoTime();
        if (readsPaused())
        {
            heardNs = nowNs; // its pongs wait unread behind its frames: the stall rule watches this state
        }
        else if (nowNs - heardNs > heartbeatTimeoutNs)
        {
            metrics.producerSilent();
            LOG.warn("producer cut: remote={} reason=no frame for {} ms", remote,
                TimeUnit.NANOSECONDS.toMillis(nowNs - heardNs));
            router.detach(this);
            sendClose(CloseCodes.HEARTBEAT_TIMEOUT, CloseCodes.reason(CloseCodes.HEARTBEAT_TIMEOUT));
            return;
        }
        // Frames go out whole from this thread, so the ping lands between two of them.
        flush(WebSocketFrames.putHeader(writeBuffer(), 0, WebSocketFrames.PING, 0));
        noteBacklog();
        later(this::heartbeat, heartbeatIntervalMs);
    }

    @Override
    public String remote()
    {
        return remote;
    }

    /** Thread-safe: takes a user's message into the bounded backlog and hops to the socket's I/O thread. */
    @Override
    public boolean send(final byte[] text)
    {
        return take(text, true, SEND_WINDOW_BYTES);
    }

    /** Thread-safe: as {@link #send}, up to twice the window. */
    @Override
    public boolean sendHandedBack(final byte[] text)
    {
        return take(text, true, 2L * SEND_WINDOW_BYTES);
    }

    /** Thread-safe: as {@link #send}, for a presence frame (dropped with the socket). */
    @Override
    public boolean sendPresence(final byte[] text)
    {
        return take(text, false, SEND_WINDOW_BYTES);
    }

    private boolean take(final byte[] text, final boolean message, final long limitBytes)
    {
        final long backlog = queuedBytes.get() + backlogSnapshot;
        if (ended || backlog > 0 && backlog + text.length > limitBytes)
        {
            // Not reading is what the stall rule cuts: a runtime slow to confirm is busy, and told no more until it is
            // not (users are answered agent_busy meanwhile).
            if (!ended && unsentSnapshot > 0 && System.nanoTime() - lastProgressNs > STALL_TIMEOUT_MS * 1_000_000L)
            {
                onIoThread(this::cutAsNotReading);
            }
            return false;
        }
        queuedBytes.addAndGet(text.length);
        onIoThread(() -> write(text, message));
        return true;
    }

    /** Thread-safe: whether the backlog is below half the window, as {@link #whenCaughtUp} reads it. */
    @Override
    public boolean hasRoom()
    {
        return !ended && queuedBytes.get() + backlogSnapshot < SEND_WINDOW_BYTES / 2;
    }

    /**
     * An answer to a frame the runtime sent (ack or nack): always taken, never dropped. When the runtime's unread
     * answers fill the window, its frames stop being read until it reads them. Thread-safe.
     */
    private void answer(final byte[] text)
    {
        if (!ended)
        {
            queuedBytes.addAndGet(text.length);
            onIoThread(() -> write(text, false));
        }
    }

    /** @param message a user's message, handed back for another runtime should the socket end before writing it. */
    private void write(final byte[] text, final boolean message)
    {
        if (isClosing())
        {
            queuedBytes.addAndGet(-text.length);
            if (message)
            {
                handBack(text, false);
            }
            return;
        }
        final long tag = message && held.confirms() ? held.nextTag() : 0;
        final int payload = text.length + (tag > 0 ? TAG.length + AsciiEncoding.digitCount(tag) : 0);
        if (message)
        {
            // Noted before the write: one that fails ends the socket inside it, and the message goes back then.
            held.framed(text, bytesFramed() + WebSocketFrames.headerLength(payload) + payload);
        }
        writeFrame(text, tag, payload);
        // Out of the queued bytes only once the backlog noted it: a sender's take() on another thread always sees it.
        queuedBytes.addAndGet(-text.length);
        if (readsPaused() || pendingBytes() + queuedBytes.get() <= SEND_WINDOW_BYTES)
        {
            // The socket may have taken this frame whole: no writable event would come to resume anything.
            whenCaughtUp();
        }
        else
        {
            // The runtime sends faster than it reads its answers: read nothing more from it until it catches up.
            metrics.producerReadsPaused();
            pauseReads();
            if (!stallWatched)
            {
                stallWatched = true;
                watchStall();
            }
        }
    }

    /** Checks after the stall timeout whether the runtime took anything since then. */
    private void watchStall()
    {
        final long progressNs = lastProgressNs;
        later(() ->
        {
            stallWatched = readsPaused() && !isClosing();
            if (stallWatched && lastProgressNs == progressNs)
            {
                stallWatched = false;
                cutAsNotReading();
            }
            else if (stallWatched)
            {
                watchStall();
            }
        }, STALL_TIMEOUT_MS);
    }

    /** @param tag a user's message's for a confirming runtime, written as its first member; else 0. */
    private void writeFrame(final byte[] text, final long tag, final int payload)
    {
        final UnsafeBuffer out = writeBuffer();
        int header = WebSocketFrames.putHeader(out, 0, WebSocketFrames.TEXT, payload);
        int at = 0;
        if (tag > 0)
        {
            out.putBytes(header, TAG);
            header += TAG.length;
            header += out.putLongAscii(header, tag);
            out.putByte(header++, (byte)',');
            at = 1; // the message's own opening brace is the tag's
        }
        // An answer can be larger than the I/O thread's buffer (a batch's nack): it goes out in buffer-sized pieces
        // of one frame.
        final int first = Math.min(text.length - at, out.capacity() - header);
        out.putBytes(header, text, at, first);
        at += first;
        boolean taken = flush(header + first);
        while (at < text.length)
        {
            final int piece = Math.min(text.length - at, out.capacity());
            out.putBytes(0, text, at, piece);
            taken = flush(piece);
            at += piece;
        }
        if (taken)
        {
            lastProgressNs = System.nanoTime();
        }
        held.taken(bytesFramed() - pendingBytes());
        noteBacklog();
    }

    @Override
    protected void onWritable()
    {
        // The socket took the pending bytes: the runtime reads again, and so does the server.
        lastProgressNs = System.nanoTime();
        held.taken(bytesFramed() - pendingBytes());
        noteBacklog();
        whenCaughtUp();
    }

    /** What other threads read of the backlog: what the socket did not take, and what the runtime did not confirm. */
    private void noteBacklog()
    {
        final int unsent = pendingBytes();
        unsentSnapshot = unsent;
        backlogSnapshot = unsent + held.unconfirmedBytes();
    }

    /** A user's message this socket's runtime does not have: to another runtime. */
    private void handBack(final byte[] text, final boolean redelivered)
    {
        if (redelivered)
        {
            metrics.producerMessageRedelivered();
        }
        router.reroute(text, status -> metrics.producerMessageHandedBack(status == InboundRouter.DELIVERED));
    }

    /** A confirming runtime took every message up to {@code tag}: they leave its backlog. */
    private void onTaken(final long tag)
    {
        final int status = held.confirmed(tag);
        if (status == HeldMessages.CONFIRMED)
        {
            noteBacklog();
            whenCaughtUp();
        }
        else
        {
            nack(null, 400, "bad_request", status == HeldMessages.PAST_LAST ? "taken=" + tag +
                " is past the last message sent, tag=" + (held.nextTag() - 1) : "taken needs ?confirm=true");
        }
    }

    /**
     * Once what the runtime has not read is below half the window: reads it again, and sends it the presence it
     * could not take before. I/O thread.
     */
    private void whenCaughtUp()
    {
        final long unread = pendingBytes() + queuedBytes.get();
        if (unread < SEND_WINDOW_BYTES / 2)
        {
            if (readsPaused())
            {
                resumeReads();
            }
            if (unread + held.unconfirmedBytes() < SEND_WINDOW_BYTES / 2)
            {
                router.roomFor(this);
            }
        }
    }

    private void cutAsNotReading()
    {
        if (isClosing())
        {
            return;
        }
        metrics.producerCut();
        LOG.warn("producer cut: remote={} backlogBytes={} reason=not reading for {} ms", remote,
            queuedBytes.get() + backlogSnapshot, STALL_TIMEOUT_MS);
        router.detach(this);
        sendClose(CloseCodes.SLOW_CONSUMER, CloseCodes.reason(CloseCodes.SLOW_CONSUMER));
    }

    // Reading (I/O thread).

    @Override
    public boolean onFrame(final int opcode, final long payloadLength)
    {
        heardNs = System.nanoTime();
        final boolean control = opcode == WebSocketFrames.PING || opcode == WebSocketFrames.PONG ||
            (opcode == WebSocketFrames.CONTINUATION && payloadLength < FREE_FRAGMENT_BYTES);
        if (control && !isClosing() && !controlLimit.tryAcquire(1, System.nanoTime()))
        {
            metrics.rateLimited("producer_frames");
            LOG.warn("producer cut: remote={} reason=control frames over {}/s", remote, CONTROL_FRAMES_PER_SEC);
            router.detach(this);
            sendClose(CloseCodes.RATE_LIMITED, CloseCodes.reason(CloseCodes.RATE_LIMITED));
            pauseReads(); // the rest of the flood is not read; the close timeout ends the socket
            return false;
        }
        return true;
    }

    @Override
    public void onMessage(final int opcode, final DirectBuffer data, final int offset, final int length)
    {
        if (opcode == WebSocketFrames.BINARY)
        {
            nack(null, 400, "bad_request",
                "send events as JSON text frames; binary payloads go to POST /v1/events/binary");
            return;
        }
        if (frame.length < length)
        {
            frame = new byte[Math.max(length, frame.length * 2)];
        }
        data.getBytes(offset, frame, 0, length);
        final long taken = TakenFrame.tag(frame, length);
        if (taken != TakenFrame.NOT_TAKEN)
        {
            onTaken(taken);
            return;
        }
        events.handle(frame, length, this::answer);
    }

    @Override
    public void onPong()
    {
    }

    private void nack(final String ref, final int status, final String code, final String message)
    {
        answer(ResultCodec.nack(ref, status, code, message));
    }

    // Closing (I/O thread).

    @Override
    protected void onPeerClose(final int code, final String reason)
    {
        router.detach(this);
    }

    @Override
    protected void onProtocolViolation(final int code)
    {
        router.detach(this);
    }

    @Override
    protected void onAbort(final AbortCause cause)
    {
        router.detach(this);
    }

    @Override
    protected void onEnded()
    {
        ended = true;
        router.detach(this); // logs it
        held.handBack(bytesFramed() - pendingBytes(), this::handBack);
    }
}
