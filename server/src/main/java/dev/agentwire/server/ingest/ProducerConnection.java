package dev.agentwire.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.EventDraft;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import org.xnio.IoUtils;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collections;

/**
 * One agent runtime's producer socket. Each text frame is one event (the HTTP schema) with an optional {@code ref};
 * the answer is an {@code ack} (with the seqs assigned) or a {@code nack} (with the reason), carrying the same ref.
 * The runtime also receives users' {@code user_message}, {@code cancel} and {@code presence} frames here.
 */
final class ProducerConnection extends AbstractReceiveListener
{
    private final Gateway gateway;
    private final WebSocketChannel channel;
    private final ProducerHub hub;

    ProducerConnection(final Gateway gateway, final WebSocketChannel channel, final ProducerHub hub)
    {
        this.gateway = gateway;
        this.channel = channel;
        this.hub = hub;
    }

    void start()
    {
        channel.addCloseTask(ch -> hub.closed(this));
        channel.getReceiveSetter().set(this);
        channel.resumeReceives();
    }

    String remote()
    {
        return String.valueOf(channel.getSourceAddress());
    }

    /** Thread-safe: hops to the socket's I/O thread. */
    void send(final byte[] frame)
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
        return gateway.config.maxBodyBytes();
    }

    @Override
    protected long getMaxBinaryBufferSize()
    {
        return gateway.config.maxBodyBytes();
    }

    @Override
    protected void onFullTextMessage(final WebSocketChannel ch, final BufferedTextMessage message)
    {
        final String text = message.getData();
        final JsonNode frame;
        try
        {
            frame = Json.MAPPER.readTree(text);
        }
        catch (final IOException ex)
        {
            nack(null, 400, "bad_request", "not valid JSON");
            return;
        }
        final JsonNode refNode = frame == null ? null : frame.get("ref");
        final String ref = refNode == null || refNode.isNull() ? null : refNode.asText();
        final EventDraft event;
        try
        {
            event = gateway.parser.parseEvent(frame, "event");
        }
        catch (final IngestParser.Invalid invalid)
        {
            gateway.metrics.refused("invalid_argument");
            nack(ref, 400, "bad_request", invalid.getMessage());
            return;
        }
        if (!gateway.producerLimit.tryAcquire(1, System.nanoTime()))
        {
            gateway.metrics.rateLimited("producer");
            nack(ref, 429, "rate_limited", "producer publish rate exceeded");
            return;
        }
        gateway.publisher.publish(Collections.singletonList(event), batch ->
        {
            final BatchPublisher.EventResult result = batch.results.get(0);
            if (batch.allAccepted())
            {
                final ObjectNode ack = ResultCodec.result(result);
                ack.remove("index");
                ack.put("type", "ack");
                if (ref != null)
                {
                    ack.put("ref", ref);
                }
                send(bytes(ack));
            }
            else
            {
                nack(ref, BatchPublisher.httpStatus(batch.refusal), result.status, ResultCodec.message(batch.refusal));
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
