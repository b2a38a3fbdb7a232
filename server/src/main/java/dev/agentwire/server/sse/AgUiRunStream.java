package dev.agentwire.server.sse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.SubscriberListener;
import dev.agentwire.core.Subscription;
import dev.agentwire.core.SubscriptionHandler;
import dev.agentwire.server.agui.AgUiGroups;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.runtime.LostMessageNotices;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import org.agrona.ExpandableArrayBuffer;
import org.xnio.XnioExecutor;
import org.xnio.channels.StreamSinkChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One run's AG-UI events as Server-Sent Events (docs/AG-UI.md, "The HTTP agent endpoint"): each AG-UI event of the
 * user's stream that belongs to the run is one {@code data:} line, its {@code id:} the cursor
 * {@code <epoch>:<seq>:<part>}; the stream ends after the run's end ({@code RUN_FINISHED} or {@code RUN_ERROR}).
 * <p>
 * The subscription is polled on the exchange's I/O thread and written to the response without blocking: while the
 * client has not taken what was written, nothing more is polled (the subscription holds the rest, and cuts the stream
 * as slow like a socket when its bound is hit; the client then continues with {@code Last-Event-ID}). A comment line
 * every {@link #KEEPALIVE_MS} keeps proxies from timing the stream out. A closed client connection ends the
 * subscription, never the run. Touched on the I/O thread only, except {@link #listener}'s callbacks.
 */
final class AgUiRunStream implements SubscriptionHandler
{
    /** A comment line this often keeps intermediaries from closing a quiet stream. */
    static final long KEEPALIVE_MS = 15_000;
    /** Output bytes written but not yet taken by the client, past which nothing more is polled. */
    static final int MAX_PENDING_BYTES = 256 * 1024;
    private static final int POLL_LIMIT = 64;
    private static final byte[] ID = "id: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA = "\ndata: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MESSAGE_LOST = LostMessageNotices.TYPE.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEPALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final HttpString X_ACCEL_BUFFERING = new HttpString("X-Accel-Buffering");

    private final HttpServerExchange exchange;
    private final byte[] runId;
    private final long cursorEpoch;
    private final long skipSeq;
    private final int skipParts;
    private final boolean reportLoss;
    private final long startTimeoutMs;
    private final Runnable onEnd;
    private final AgUiGroups groups = new AgUiGroups();
    private final ExpandableArrayBuffer group = new ExpandableArrayBuffer(4096);
    private final ExpandableArrayBuffer out = new ExpandableArrayBuffer(8192);
    private int outLength;
    private ByteBuffer sending;
    private StreamSinkChannel channel;
    private Subscription subscription;
    private boolean runEnded;
    /** An event of the run was written: it started. */
    private boolean runSeen;
    /**
     * The next keep-alive and the start timeout's check, removed when the stream ends: each would hold the stream's
     * buffers until it ran (15 s and up to a minute: at a thousand short runs a second, hundreds of MB).
     */
    private XnioExecutor.Key keepalive;
    private XnioExecutor.Key startCheck;
    private boolean finished;
    private boolean moreToPoll;

    /** Told by the subscription on a slice thread: the poll goes to the I/O thread. */
    final SubscriberListener listener = new SubscriberListener()
    {
        @Override
        public void onAvailable(final Subscription s)
        {
            exchange.getIoThread().execute(AgUiRunStream.this::drain);
        }

        @Override
        public void onClosed(final Subscription s, final int reason)
        {
            exchange.getIoThread().execute(AgUiRunStream.this::drain);
        }
    };

    /**
     * @param runId       the run whose events are sent.
     * @param cursorEpoch the epoch of the client's cursor (0: none).
     * @param skipSeq    the seq of the cursor the client continues from (its parts up to {@code skipParts} are
     *                   skipped), or 0.
     * @param reportLoss whether a resume that could not recover is told ({@code CUSTOM agentwire.resumed}).
     * @param startTimeoutMs how long after {@link #start} the run's first event may take, then the stream ends with
     *                   {@code RUN_ERROR} {@code run_start_timeout}; 0: no limit.
     * @param onEnd      run once when the stream ends (its slot is given back).
     */
    AgUiRunStream(final HttpServerExchange exchange, final String runId, final long cursorEpoch, final long skipSeq,
        final int skipParts, final boolean reportLoss, final long startTimeoutMs, final Runnable onEnd)
    {
        this.exchange = exchange;
        this.runId = runId.getBytes(StandardCharsets.UTF_8);
        this.cursorEpoch = cursorEpoch;
        this.skipSeq = skipSeq;
        this.skipParts = skipParts;
        this.reportLoss = reportLoss;
        this.startTimeoutMs = startTimeoutMs;
        this.onEnd = onEnd;
    }

    /** Sends the headers and starts following {@code subscription} (on the I/O thread). */
    void start(final Subscription subscription)
    {
        this.subscription = subscription;
        open();
        exchange.addExchangeCompleteListener((done, next) ->
        {
            end();
            next.proceed();
        });
        channel.getCloseSetter().set(c -> end());
        scheduleKeepalive();
        if (startTimeoutMs > 0)
        {
            startCheck = exchange.getIoThread().executeAfter(this::startTimedOut, startTimeoutMs,
                TimeUnit.MILLISECONDS);
        }
        drain();
    }

    /**
     * The runtime took the input but no event of the run came in time (it died after taking it, or never starts
     * it): a stock client would wait for ever. The stream ends with {@code RUN_ERROR}; events of the run that come
     * later are in the user's stream as ever ({@code GET /v1/ag-ui/runs/{runId}} follows them).
     */
    private void startTimedOut()
    {
        startCheck = null;
        drain(); // what the subscription holds first: an event that just came is not a timeout
        if (finished || runSeen || runEnded)
        {
            return;
        }
        if (sending != null || outLength > 0)
        {
            // The client has not taken what was written, so the subscription was not read to its end: look again.
            startCheck = exchange.getIoThread().executeAfter(this::startTimedOut, 1, TimeUnit.SECONDS);
            return;
        }
        appendUnnumbered(Http.object().put("type", "RUN_ERROR").put("code", "run_start_timeout").put("message",
            "the agent runtime took the input but did not start the run within " + startTimeoutMs + " ms"));
        runEnded = true;
        flush();
    }

    /** Writes one AG-UI event that belongs to no cursor (an answer made here, such as RUN_ERROR), and ends. */
    void failRun(final ObjectNode event)
    {
        open();
        appendUnnumbered(event);
        runEnded = true;
        flush();
    }

    /** The event stream's headers, and its channel, written to as the client takes it. */
    private void open()
    {
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-cache");
        exchange.getResponseHeaders().put(X_ACCEL_BUFFERING, "no");
        channel = exchange.getResponseChannel();
        channel.getWriteSetter().set(c -> flush());
    }

    private void scheduleKeepalive()
    {
        keepalive = exchange.getIoThread().executeAfter(() ->
        {
            if (!finished)
            {
                append(KEEPALIVE, 0, KEEPALIVE.length);
                flush();
            }
            if (!finished)
            {
                scheduleKeepalive();
            }
        }, KEEPALIVE_MS, TimeUnit.MILLISECONDS);
    }

    /** Polls what the subscription holds into the output while the client keeps up, then writes. */
    private void drain()
    {
        if (finished || subscription == null)
        {
            return;
        }
        moreToPoll = false;
        while (!runEnded)
        {
            if (outLength >= MAX_PENDING_BYTES || sending != null)
            {
                // The client has not taken what was written: the next poll waits for the write to complete (the
                // subscription signals only once per poll, so the signal that brought this drain is not repeated).
                moreToPoll = true;
                break;
            }
            if (subscription.poll(this, POLL_LIMIT) < POLL_LIMIT)
            {
                break;
            }
        }
        if (subscription.isClosed() && !runEnded)
        {
            // Cut (slow consumer, shutdown): what was polled goes out, then the stream ends; the client continues
            // from its last id.
            runEnded = true;
        }
        flush();
    }

    /** Writes the output without blocking; resumes when the client takes more; ends once the run's end is out. */
    private void flush()
    {
        if (finished)
        {
            return;
        }
        try
        {
            while (true)
            {
                if (sending == null)
                {
                    if (outLength == 0)
                    {
                        break;
                    }
                    final byte[] bytes = new byte[outLength];
                    out.getBytes(0, bytes);
                    outLength = 0;
                    sending = ByteBuffer.wrap(bytes);
                }
                channel.write(sending);
                if (sending.hasRemaining())
                {
                    channel.resumeWrites();
                    return;
                }
                sending = null;
            }
            if (!channel.flush())
            {
                channel.resumeWrites();
                return;
            }
            channel.suspendWrites();
            if (runEnded)
            {
                finished = true;
                channel.shutdownWrites();
                if (channel.flush())
                {
                    exchange.endExchange();
                }
                else
                {
                    channel.getWriteSetter().set(c -> closeWhenFlushed());
                    channel.resumeWrites();
                }
                end();
                return;
            }
            if (moreToPoll)
            {
                drain();
            }
        }
        catch (final IOException gone)
        {
            // The client went away: the run goes on; it may continue the stream with its last id.
            finished = true;
            exchange.endExchange();
            end();
        }
    }

    private void closeWhenFlushed()
    {
        try
        {
            if (channel.flush())
            {
                channel.suspendWrites();
                exchange.endExchange();
            }
        }
        catch (final IOException gone)
        {
            exchange.endExchange();
        }
    }

    /** Ends the subscription and gives the stream's slot back, once. */
    private void end()
    {
        finished = true;
        if (startCheck != null)
        {
            startCheck.remove();
            startCheck = null;
        }
        if (keepalive != null)
        {
            keepalive.remove();
            keepalive = null;
        }
        if (subscription != null)
        {
            subscription.close();
            subscription = null;
            onEnd.run();
        }
    }

    @Override
    public void onWelcome(final String userId, final long epoch, final long lastSeq)
    {
    }

    @Override
    public void onResumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
    {
        // The subscription resumed after the seq before the cursor's (to send the cursor's group again), so it cannot
        // tell a cursor of another epoch from a client that has nothing: the epoch is compared here.
        if (reportLoss && (!recovered || epoch != cursorEpoch))
        {
            final ObjectNode value = Http.object().put("recovered", false).put("epoch", epoch).put("from", fromSeq)
                .put("to", toSeq);
            final ObjectNode event = Http.object().put("type", "CUSTOM").put("name", "agentwire.resumed");
            event.set("value", value);
            appendUnnumbered(event);
        }
    }

    @Override
    public void onEvent(final AgentEvent event)
    {
        // Compared and numbered where they are stored: a stream follows its user's every event, nothing is made
        // for the events of other runs.
        if (!AgUiGroups.ofRun(event, runId) || event.seq() < skipSeq)
        {
            final String lost = !runSeen && !runEnded && event.seq() >= skipSeq &&
                AgUiGroups.ofType(event, MESSAGE_LOST) ? lostInputReason(event) : null;
            if (lost != null)
            {
                // No event of the run will come: the client is told now, not at the start timeout.
                appendUnnumbered(Http.object().put("type", "RUN_ERROR").put("code", "message_lost").put("message",
                    "the run's input reached no agent runtime (" + lost + "): send it again"));
                runEnded = true;
            }
            return;
        }
        runSeen = true;
        group.checkLimit(AgUiGroups.maxBytes(event));
        final int length = groups.write(event, group, 0);
        int at = 0;
        int part = 0;
        while (at < length)
        {
            // One unmasked text frame per AG-UI event: 2 header bytes, or 4 / 10 with an extended length.
            final int first = group.getByte(at + 1) & 0x7F;
            final int header = first == 126 ? 4 : first == 127 ? 10 : 2;
            final int payload = first == 126 ? group.getShort(at + 2, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF :
                first == 127 ? (int)group.getLong(at + 2, java.nio.ByteOrder.BIG_ENDIAN) : first;
            if (event.seq() > skipSeq || part > skipParts)
            {
                append(ID, 0, ID.length);
                outLength += out.putLongAscii(outLength, event.epoch());
                out.putByte(outLength++, (byte)':');
                outLength += out.putLongAscii(outLength, event.seq());
                out.putByte(outLength++, (byte)':');
                outLength += out.putIntAscii(outLength, part);
                append(DATA, 0, DATA.length);
                appendFrom(group, at + header, payload);
                append(END, 0, END.length);
            }
            at += header + payload;
            part++;
        }
        if (AgUiGroups.endsRun(event))
        {
            runEnded = true;
        }
    }

    /** @return why this run's input reached no runtime, if this notice of a lost message names it; else null. */
    private String lostInputReason(final AgentEvent notice)
    {
        final JsonNode data;
        try
        {
            data = Json.MAPPER.readTree(notice.payloadBytes());
        }
        catch (final IOException ex)
        {
            return null; // the server writes the notice: not one
        }
        return new String(runId, StandardCharsets.UTF_8).equals(data.path("run_id").asText(null)) ?
            data.path("reason").asText("lost") : null;
    }

    @Override
    public void onJoined(final String room)
    {
    }

    @Override
    public void onLeft(final String room)
    {
    }

    @Override
    public void onClosed(final int reason)
    {
        runEnded = true;
    }

    private void appendUnnumbered(final ObjectNode event)
    {
        final byte[] json;
        try
        {
            json = Json.MAPPER.writeValueAsBytes(event);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("an event could not be written", ex);
        }
        append(DATA, 1, DATA.length - 1);
        append(json, 0, json.length);
        append(END, 0, END.length);
    }

    private void append(final byte[] bytes, final int offset, final int length)
    {
        out.putBytes(outLength, bytes, offset, length);
        outLength += length;
    }

    private void appendFrom(final ExpandableArrayBuffer source, final int offset, final int length)
    {
        out.putBytes(outLength, source, offset, length);
        outLength += length;
    }
}
