package dev.agentwire.server.ingest;

import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.sequencing.Sequencer;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.websockets.WebSocketConnectionCallback;
import io.undertow.websockets.WebSocketProtocolHandshakeHandler;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.spi.WebSocketHttpExchange;

/**
 * {@code GET /v1/producer} (behind the producer key): the upgrade to an agent runtime's socket, which publishes
 * events and receives users' messages and presence ({@link ProducerConnection}).
 */
final class ProducerSocketHandler implements HttpHandler, WebSocketConnectionCallback
{
    private final WebSocketProtocolHandshakeHandler handshake;
    private final IngestParser parser;
    private final Sequencer sequencer;
    private final TokenBucket producerLimit;
    private final ServerMetrics metrics;
    private final InboundRouter router;
    private final int maxFrameBytes;

    ProducerSocketHandler(
        final IngestParser parser,
        final Sequencer sequencer,
        final TokenBucket producerLimit,
        final ServerMetrics metrics,
        final InboundRouter router,
        final int maxFrameBytes)
    {
        this.parser = parser;
        this.sequencer = sequencer;
        this.producerLimit = producerLimit;
        this.metrics = metrics;
        this.router = router;
        this.maxFrameBytes = maxFrameBytes;
        this.handshake = new WebSocketProtocolHandshakeHandler(this, exchange ->
            Http.error(exchange, 426, "upgrade_required", "GET /v1/producer is a WebSocket endpoint"));
    }

    @Override
    public void handleRequest(final HttpServerExchange exchange) throws Exception
    {
        handshake.handleRequest(exchange);
    }

    @Override
    public void onConnect(final WebSocketHttpExchange exchange, final WebSocketChannel channel)
    {
        new ProducerConnection(channel, parser, sequencer, producerLimit, metrics, router, maxFrameBytes).start();
    }
}
