package dev.agentwire.server.ingest;

import dev.agentwire.server.agui.AgUiIngest;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.sequencing.Sequencer;
import dev.agentwire.server.websocket.WebSocketHandshake;
import dev.agentwire.server.websocket.WebSocketThreads;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/**
 * {@code GET /v1/producer} (behind the producer key): the upgrade to an agent runtime's socket, which publishes
 * events and receives users' messages and presence ({@link ProducerConnection}), on the server's own framing.
 * {@code ?inbound=none} makes a socket that only publishes: no user's message is routed to it, and no presence told
 * (a publisher that reads none would otherwise take its share of users' messages and lose them).
 */
final class ProducerSocketHandler implements HttpHandler
{
    /** {@code ?inbound=}: users' messages and presence come to this socket (the default). */
    static final String INBOUND_ALL = "all";
    /** {@code ?inbound=}: this socket only publishes. */
    static final String INBOUND_NONE = "none";
    /** {@code ?confirm=}: the runtime confirms the users' messages it takes ({@code {"taken":tag}}). */
    static final String CONFIRM_TRUE = "true";
    /** {@code ?confirm=}: a message is the runtime's once its socket took it (the default). */
    static final String CONFIRM_FALSE = "false";

    private final IngestParser parser;
    private final Sequencer sequencer;
    private final TokenBucket producerLimit;
    private final ServerMetrics metrics;
    private final InboundRouter router;
    private final IngestSettings settings;
    private final WebSocketThreads threads;

    private final AgUiIngest agUi;

    ProducerSocketHandler(
        final IngestParser parser,
        final AgUiIngest agUi,
        final Sequencer sequencer,
        final TokenBucket producerLimit,
        final ServerMetrics metrics,
        final InboundRouter router,
        final IngestSettings settings,
        final WebSocketThreads threads)
    {
        this.parser = parser;
        this.agUi = agUi;
        this.sequencer = sequencer;
        this.producerLimit = producerLimit;
        this.metrics = metrics;
        this.router = router;
        this.settings = settings;
        this.threads = threads;
    }

    @Override
    public void handleRequest(final HttpServerExchange exchange)
    {
        final String inbound = Http.query(exchange, "inbound");
        if (inbound != null && !INBOUND_ALL.equals(inbound) && !INBOUND_NONE.equals(inbound))
        {
            Http.error(exchange, 400, "bad_request", "inbound=" + inbound + " must be all (the default) or none");
            return;
        }
        final String confirm = Http.query(exchange, "confirm");
        if (confirm != null && !CONFIRM_TRUE.equals(confirm) && !CONFIRM_FALSE.equals(confirm))
        {
            Http.error(exchange, 400, "bad_request", "confirm=" + confirm + " must be true or false (the default)");
            return;
        }
        final boolean takesMessages = !INBOUND_NONE.equals(inbound);
        final boolean confirms = CONFIRM_TRUE.equals(confirm);
        final String remote = String.valueOf(exchange.getSourceAddress());
        WebSocketHandshake.upgrade(exchange, "GET /v1/producer", (connection, upgraded) ->
            new ProducerConnection(connection, threads, settings, parser, agUi, sequencer, producerLimit, metrics,
                router, remote, confirms).start(takesMessages));
    }
}
