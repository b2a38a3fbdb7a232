package dev.agentwire.server.ingest;

import dev.agentwire.server.agui.AgUiIngest;
import dev.agentwire.server.agui.AgUiRules;
import com.fasterxml.jackson.core.JsonToken;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.server.http.BodyReader;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.PooledResponse;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import org.xnio.XnioExecutor;

import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Producer HTTP API (behind the producer key): {@code POST /v1/events} (one event or an array),
 * {@code POST /v1/events/binary} (raw bytes, addressing in the query), {@code PUT|DELETE
 * /v1/rooms/{room}/members/{user}}.
 */
final class ProducerHttpHandler
{
    private static final Runnable NOTHING = () -> { };

    private final IngestParser parser;
    private final AgUiIngest agUi;
    private final Sequencer sequencer;
    private final TokenBucket producerLimit;
    private final ServerMetrics metrics;
    private final int maxBodyBytes;
    private final int maxMessageBytes;
    private final String retryAfterSeconds;

    ProducerHttpHandler(
        final IngestParser parser,
        final AgUiIngest agUi,
        final Sequencer sequencer,
        final TokenBucket producerLimit,
        final ServerMetrics metrics,
        final int maxBodyBytes,
        final int maxMessageBytes,
        final int retryAfterSeconds)
    {
        this.parser = parser;
        this.agUi = agUi;
        this.sequencer = sequencer;
        this.producerLimit = producerLimit;
        this.metrics = metrics;
        this.maxBodyBytes = maxBodyBytes;
        this.maxMessageBytes = maxMessageBytes;
        this.retryAfterSeconds = Integer.toString(retryAfterSeconds);
    }

    HttpHandler events()
    {
        return postWithBody(this::onEventsBody);
    }

    HttpHandler binaryEvents()
    {
        return postWithBody(this::onBinaryBody);
    }

    /** {@code POST /v1/ag-ui/events}: native AG-UI events, checked by AG-UI's run rules (docs/AG-UI.md). */
    HttpHandler agUiEvents()
    {
        return postWithBody(this::onAgUiBody);
    }

    private void onAgUiBody(final HttpServerExchange exchange, final byte[] body, final int length)
    {
        final AgUiIngest.Parsed parsed;
        try
        {
            parsed = agUi.read(body, length);
        }
        catch (final AgUiIngest.Invalid invalid)
        {
            metrics.refused("invalid_argument");
            Http.error(exchange, 400, "bad_request", invalid.getMessage());
            return;
        }
        // Answered later, on this I/O thread (a cluster may check the batch again against its shared run state).
        exchange.dispatch(SameThreadExecutor.INSTANCE, NOTHING);
        final OneAnswer answer = new OneAnswer(exchange);
        final BatchResult[] taken = new BatchResult[1];
        agUi.submit(parsed, sequencer, events -> producerLimit.tryAcquire(events, System.nanoTime()),
            new AgUiIngest.Answer()
            {
                @Override
                public void refused(final AgUiRules.Violation violation)
                {
                    metrics.refused(AgUiRules.REFUSED);
                    final com.fasterxml.jackson.databind.node.ObjectNode body = Http.object()
                        .put("error", AgUiRules.REFUSED)
                        .put("rule", violation.rule)
                        .put("message", violation.getMessage());
                    if (violation.index >= 0)
                    {
                        body.put("index", violation.index);
                    }
                    answer.give(() -> Http.json(exchange, 422, body));
                }

                @Override
                public void rateLimited()
                {
                    metrics.rateLimited("producer");
                    answer.give(() ->
                    {
                        exchange.getResponseHeaders().put(Http.RETRY_AFTER, retryAfterSeconds);
                        Http.error(exchange, 429, "rate_limited", "producer publish rate exceeded");
                    });
                }

                @Override
                public void published(final BatchResult result)
                {
                    answer.give(() -> answer(exchange, result, false));
                }

                @Override
                public void taken(final BatchResult result)
                {
                    taken[0] = result;
                }
            });
        answer.unlessGivenWithin(IngestEndpoints.RECEIPT_TIMEOUT_MS, () ->
        {
            if (taken[0] != null)
            {
                // One node whose slices are slow to number: the events were taken, their seqs follow.
                answer(exchange, taken[0], true);
                return;
            }
            // No answer in time (a cluster's Redis): the outcome is unknown, nothing is claimed.
            exchange.getResponseHeaders().put(Http.RETRY_AFTER, retryAfterSeconds);
            Http.error(exchange, 503, Refusals.name(Refusals.OUTCOME_UNKNOWN),
                "no answer from the sequencer in time; retry with the same batch id");
        });
    }

    /**
     * An exchange's one answer, given on its I/O thread: the first wins, later ones are dropped. Giving it cancels
     * the receipt timeout, whose task would otherwise keep the exchange and the batch's results, drafts and body
     * reachable for {@link IngestEndpoints#RECEIPT_TIMEOUT_MS} after the answer: at 20,000 events/s that was 100,000
     * events' objects, copied by the collector as live (G1's young pauses took 25-50 ms at 10,000 connections).
     */
    private static final class OneAnswer
    {
        private final HttpServerExchange exchange;
        // Both read and written on the exchange's I/O thread only.
        private boolean given;
        private XnioExecutor.Key timeout;

        OneAnswer(final HttpServerExchange exchange)
        {
            this.exchange = exchange;
        }

        /** Gives the answer, on the I/O thread, unless one was given; callable from any thread. */
        void give(final Runnable answer)
        {
            exchange.getIoThread().execute(() -> giveNow(answer));
        }

        /** Gives {@code fallback} after {@code timeoutMs} unless an answer was given first; on the I/O thread. */
        void unlessGivenWithin(final long timeoutMs, final Runnable fallback)
        {
            if (!given)
            {
                timeout = exchange.getIoThread().executeAfter(() -> giveNow(fallback), timeoutMs, TimeUnit.MILLISECONDS);
            }
        }

        private void giveNow(final Runnable answer)
        {
            if (given)
            {
                return;
            }
            given = true;
            if (timeout != null)
            {
                timeout.remove();
                timeout = null;
            }
            answer.run();
        }
    }

    /** POST only, body bounded by maxBodyBytes (413 above), read whole, then handled on the I/O thread. */
    private HttpHandler postWithBody(final BodyReader.BodyHandler onBody)
    {
        return exchange ->
        {
            if (!Methods.POST.equals(exchange.getRequestMethod()))
            {
                Http.error(exchange, 405, "method_not_allowed", "use POST");
                return;
            }
            BodyReader.read(exchange, maxBodyBytes, onBody, this::onBodyFailure);
        };
    }

    HttpHandler roomMembers()
    {
        return exchange ->
        {
            final java.util.Map<String, String> path =
                exchange.getAttachment(io.undertow.util.PathTemplateMatch.ATTACHMENT_KEY).getParameters();
            final String room = path.get("room");
            final String user = path.get("user");
            final boolean join;
            if (Methods.PUT.equals(exchange.getRequestMethod()))
            {
                join = true;
            }
            else if (Methods.DELETE.equals(exchange.getRequestMethod()))
            {
                join = false;
            }
            else
            {
                Http.error(exchange, 405, "method_not_allowed", "use PUT or DELETE");
                return;
            }
            answerLater(exchange, () -> sequencer.membership(join, user, room, status ->
                exchange.getIoThread().execute(() ->
                {
                    if (status < 0)
                    {
                        final int http = Refusals.isRetryable(status) ? 503 : 400;
                        if (http == 503)
                        {
                            exchange.getResponseHeaders().put(Http.RETRY_AFTER, retryAfterSeconds);
                        }
                        Http.error(exchange, http, Refusals.name(status), "membership change refused");
                        return;
                    }
                    exchange.setStatusCode(204);
                    exchange.endExchange();
                })));
        };
    }

    /**
     * The answer comes when the engine has numbered the events (on a slice thread, then back on the I/O thread):
     * dispatching to a plain task keeps Undertow from ending the exchange when the body callback returns.
     */
    private static void answerLater(final HttpServerExchange exchange, final Runnable task)
    {
        exchange.dispatch(SameThreadExecutor.INSTANCE, task);
    }

    private void onBodyFailure(final HttpServerExchange exchange, final int failure)
    {
        if (failure == BodyReader.TOO_LARGE)
        {
            Http.error(exchange, 413, "too_large", "body is over " + maxBodyBytes + " bytes");
        }
        else
        {
            Http.error(exchange, 400, "bad_request", "body could not be read");
        }
    }

    private void onEventsBody(final HttpServerExchange exchange, final byte[] body, final int length)
    {
        final List<EventDraft> events;
        try
        {
            events = parser.parseBody(body, length);
        }
        catch (final IngestParser.Invalid invalid)
        {
            metrics.refused("invalid_argument");
            Http.error(exchange, 400, "bad_request", invalid.getMessage());
            return;
        }
        publish(exchange, events);
    }

    private void onBinaryBody(final HttpServerExchange exchange, final byte[] body, final int length)
    {
        final EventDraft event = new EventDraft();
        try
        {
            IngestParser.target(IngestParser.queryText(Http.query(exchange, "user"), "user"),
                IngestParser.queryText(Http.query(exchange, "room"), "room"),
                "true".equals(Http.query(exchange, "broadcast")) ? JsonToken.VALUE_TRUE : null, IngestParser.QUERY,
                event);
            final String type = IngestParser.required(
                IngestParser.queryText(Http.query(exchange, "type"), "type"), IngestParser.QUERY, "type");
            if (!EventTypes.isCustomType(type))
            {
                throw new IngestParser.Invalid("query.type must be a namespaced custom type (like app.audio): " +
                    "the five agent event types carry JSON data");
            }
            event.type(type)
                .runId(IngestParser.queryText(Http.query(exchange, "run_id"), "run_id"))
                .threadId(IngestParser.queryText(Http.query(exchange, "thread_id"), "thread_id"))
                .eventId(IngestParser.queryText(Http.query(exchange, "id"), "id"));
        }
        catch (final IngestParser.Invalid invalid)
        {
            Http.error(exchange, 400, "bad_request", invalid.getMessage());
            return;
        }
        if (length > maxMessageBytes)
        {
            Http.error(exchange, 413, "too_large", "binary payload is over " + maxMessageBytes + " bytes");
            return;
        }
        event.binary(true).payload(body, 0, length);
        publish(exchange, Collections.singletonList(event));
    }

    private void publish(final HttpServerExchange exchange, final List<EventDraft> events)
    {
        if (!producerLimit.tryAcquire(events.size(), System.nanoTime()))
        {
            metrics.rateLimited("producer");
            exchange.getResponseHeaders().put(Http.RETRY_AFTER, retryAfterSeconds);
            Http.error(exchange, 429, "rate_limited", "producer publish rate exceeded");
            return;
        }
        // The answer waits for the slices to number the events (microseconds); if a slice is stalled the producer
        // still gets its 202 after RECEIPT_TIMEOUT_MS, with "seqs_pending": true, rather than a hung request.
        // Marked dispatched so Undertow leaves the exchange open when this handler returns; the drafts point into
        // the body, which is valid only now, so they are published here, before returning.
        exchange.dispatch(SameThreadExecutor.INSTANCE, NOTHING);
        final OneAnswer answer = new OneAnswer(exchange);
        final BatchResult[] published = new BatchResult[1];
        sequencer.publish(events, batch -> answer.give(() -> answer(exchange, batch, false)),
            batch -> published[0] = batch);
        answer.unlessGivenWithin(IngestEndpoints.RECEIPT_TIMEOUT_MS, () ->
        {
            if (published[0] == null)
            {
                // A cluster's sequencer did not answer: the outcome is unknown, so nothing is claimed.
                exchange.getResponseHeaders().put(Http.RETRY_AFTER, retryAfterSeconds);
                Http.error(exchange, 503, Refusals.name(Refusals.OUTCOME_UNKNOWN),
                    "no answer from the sequencer in time; retry with the same event ids");
                return;
            }
            answer(exchange, published[0], true);
        });
    }

    private void answer(final HttpServerExchange exchange, final BatchResult batch, final boolean pending)
    {
        final int status = Refusals.httpStatus(batch.refusal);
        if (Refusals.isRetryable(batch.refusal))
        {
            exchange.getResponseHeaders().put(Http.RETRY_AFTER, retryAfterSeconds);
        }
        final PooledResponse response = PooledResponse.acquire();
        response.sendJson(exchange, status, ResultCodec.batch(response.buffer(), batch, pending));
    }
}
