package dev.agentwire.server.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.agui.AgUiIngest;
import dev.agentwire.server.agui.AgUiInputGate;
import dev.agentwire.server.agui.AgUiRules;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.auth.ProducerKey;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;
import dev.agentwire.server.websocket.WebSocketThreads;
import io.undertow.server.HttpHandler;

import java.util.function.Consumer;

/**
 * Where agent runtimes' events come in, every endpoint behind the producer key: {@code POST /v1/events},
 * {@code POST /v1/events/binary}, {@code PUT|DELETE /v1/rooms/{room}/members/{user}} and the producer socket
 * {@code GET /v1/producer}. All share one parser, one sequencer and one producer rate limit.
 */
public final class IngestEndpoints
{
    /**
     * Longest an HTTP ingest answer waits for the engine to number accepted events; past it the answer is a 202
     * with {@code "seqs_pending": true}.
     */
    public static final long RECEIPT_TIMEOUT_MS = 5_000;

    private final ProducerKey key;
    private final ProducerHttpHandler http;
    private final ProducerSocketHandler socket;
    private final AgUiIngest agUi;
    private final Sequencer sequencer;

    /**
     * @param sequencer          the one way events and room changes get in.
     * @param router             gives producer sockets users' messages and presence.
     * @param key                the producer key check.
     * @param metrics            counts refusals and rate-limit hits.
     * @param settings           sizes, the producers' rate and Retry-After.
     * @param threads            the I/O threads' WebSocket buffers (producer sockets).
     * @param engine             the engine's bounds, which native AG-UI runs share (maxRuns, open parts, retention).
     */
    public IngestEndpoints(
        final Sequencer sequencer,
        final InboundRouter router,
        final ProducerKey key,
        final ServerMetrics metrics,
        final IngestSettings settings,
        final WebSocketThreads threads,
        final AgentWireConfig engine)
    {
        this.key = key;
        this.sequencer = sequencer;
        final IngestParser parser = new IngestParser(settings.maxMessageBytes());
        final TokenBucket producerLimit =
            new TokenBucket(settings.producerRatePerSec(), settings.producerBurst(), System.nanoTime());
        // One native AG-UI run table for both ways in: a run may start over HTTP and go on over the socket.
        agUi = new AgUiIngest(engine, settings.maxMessageBytes());
        // What users send passes the threads' interrupt rules, kept with the native run states.
        router.gate(new AgUiInputGate(agUi, sequencer));
        http = new ProducerHttpHandler(parser, agUi, sequencer, producerLimit, metrics, settings.maxBodyBytes(),
            settings.maxMessageBytes(), settings.retryAfterSeconds());
        socket = new ProducerSocketHandler(parser, agUi, sequencer, producerLimit, metrics, router, settings, threads);
    }

    /**
     * Publishes a native AG-UI batch from inside the server (the demo agent), under the same rules as a producer's
     * {@code POST /v1/ag-ui/events} but not its rate.
     *
     * @param batch   {@code {user | room, runId?, id?, events}}.
     * @param refused told why, when nothing of the batch was stored; not told when all of it was.
     */
    public void publishAgUi(final JsonNode batch,
        final Consumer<String> refused)
    {
        final AgUiIngest.Parsed parsed;
        try
        {
            parsed = agUi.read(batch);
        }
        catch (final AgUiIngest.Invalid invalid)
        {
            refused.accept(invalid.getMessage());
            return;
        }
        agUi.submit(parsed, sequencer, size -> true, new AgUiIngest.Answer()
        {
            @Override
            public void refused(final AgUiRules.Violation violation)
            {
                refused.accept(violation.rule + ": " + violation.getMessage());
            }

            @Override
            public void rateLimited()
            {
                refused.accept("rate_limited");
            }

            @Override
            public void published(final BatchResult result)
            {
                if (!result.allAccepted())
                {
                    refused.accept(Refusals.name(result.refusal) + ": " +
                        result.accepted + " of the batch's events stored");
                }
            }
        });
    }

    /** @return native AG-UI runs whose state is kept now (bounded by the engine's maxRuns). */
    public int agUiRuns()
    {
        return agUi.runs();
    }

    /** @return native AG-UI runs forgotten at the bound or past their retention. */
    public long agUiRunsForgotten()
    {
        return agUi.runsForgotten();
    }

    /** @return {@code POST /v1/events}. */
    public HttpHandler events()
    {
        return key.guard(http.events());
    }

    /** @return {@code POST /v1/ag-ui/events}. */
    public HttpHandler agUiEvents()
    {
        return key.guard(http.agUiEvents());
    }

    /** @return {@code POST /v1/events/binary}. */
    public HttpHandler binaryEvents()
    {
        return key.guard(http.binaryEvents());
    }

    /** @return {@code PUT|DELETE /v1/rooms/{room}/members/{user}}. */
    public HttpHandler roomMembers()
    {
        return key.guard(http.roomMembers());
    }

    /** @return {@code GET /v1/producer}. */
    public HttpHandler producerSocket()
    {
        return key.guard(socket);
    }
}
