package dev.agentwire.server.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.EventDraft;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.runtime.RuntimeChannel;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import org.xnio.IoUtils;

import java.nio.ByteBuffer;
import java.util.Collections;

/**
 * One agent runtime's producer socket. Each text frame is one event (the HTTP schema) with an optional {@code ref};
 * the answer is an {@code ack} (with the seqs assigned) or a {@code nack} (with the reason), carrying the same ref.
 * The runtime also receives users' {@code user_message}, {@code cancel} and {@code presence} frames here.
 */
final class ProducerConnection extends AbstractReceiveListener implements RuntimeChannel
{
    private final WebSocketChannel channel;
    private final IngestParser parser;
    private final Sequencer sequencer;
    private final TokenBucket producerLimit;
    private final ServerMetrics metrics;
    private final InboundRouter router;
    private final int maxFrameBytes;

    ProducerConnection(
        final WebSocketChannel channel,
        final IngestParser parser,
        final Sequencer sequencer,
        final TokenBucket producerLimit,
        final ServerMetrics metrics,
        final InboundRouter router,
        final int maxFrameBytes)
    {
        this.channel = channel;
        this.parser = parser;
        this.sequencer = sequencer;
        this.producerLimit = producerLimit;
        this.metrics = metrics;
        this.router = router;
        this.maxFrameBytes = maxFrameBytes;
    }

    void start()
    {
        channel.addCloseTask(ch -> router.detach(this));
        channel.getReceiveSetter().set(this);
        channel.resumeReceives();
        router.attach(this);
    }

    @Override
    public String remote()
    {
        return String.valueOf(channel.getSourceAddress());
    }

    /** Thread-safe: hops to the socket's I/O thread. */
    @Override
    public void send(final byte[] frame)
    {
        try
        {
            channel.getIoThread().execute(() -> WebSockets.sendText(ByteBuffer.wrap(frame), channel, null));
        }
        catch (final java.util.concurrent.RejectedExecutionException stopping)
        {
            IoUtils.safeClose(channel);
        }
    }

    @Override
    protected long getMaxTextBufferSize()
    {
        return maxFrameBytes;
    }

    @Override
    protected long getMaxBinaryBufferSize()
    {
        return maxFrameBytes;
    }

    @Override
    protected void onFullTextMessage(final WebSocketChannel ch, final BufferedTextMessage message)
    {
        final byte[] frame = message.getData().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        final String[] refs = new String[1];
        final EventDraft event;
        try
        {
            event = parser.parseFrame(frame, refs);
        }
        catch (final IngestParser.Invalid invalid)
        {
            if (!"not valid JSON".equals(invalid.getMessage()))
            {
                metrics.refused("invalid_argument");
            }
            nack(refs[0], 400, "bad_request", invalid.getMessage());
            return;
        }
        final String ref = refs[0];
        if (!producerLimit.tryAcquire(1, System.nanoTime()))
        {
            metrics.rateLimited("producer");
            nack(ref, 429, "rate_limited", "producer publish rate exceeded");
            return;
        }
        sequencer.publish(Collections.singletonList(event), batch ->
        {
            final EventResult result = batch.results.get(0);
            if (batch.allAccepted())
            {
                send(ResultCodec.ack(result, ref));
            }
            else
            {
                nack(ref, Refusals.httpStatus(batch.refusal), Refusals.name(result.status),
                    Refusals.message(batch.refusal));
            }
        });
    }

    @Override
    protected void onFullBinaryMessage(final WebSocketChannel ch, final BufferedBinaryMessage message)
    {
        message.getData().free();
        nack(null, 400, "bad_request", "send events as JSON text frames; binary payloads go to POST /v1/events/binary");
    }

    @Override
    protected void onError(final WebSocketChannel ch, final Throwable error)
    {
        IoUtils.safeClose(ch);
    }

    private void nack(final String ref, final int status, final String code, final String message)
    {
        final ObjectNode nack = Http.object();
        nack.put("type", "nack");
        if (ref != null)
        {
            nack.put("ref", ref);
        }
        nack.put("status", status);
        nack.put("code", code);
        nack.put("message", message);
        send(bytes(nack));
    }

    private static byte[] bytes(final ObjectNode node)
    {
        try
        {
            return Json.MAPPER.writeValueAsBytes(node);
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

}
