package dev.agentwire.producer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A JVM agent runtime's connection to an AgentWire server in another process (docs/PROTOCOL.md, "Agent runtimes"):
 * publish events to users, rooms or everyone, run helpers that always end a run, and users' messages in. The same
 * vocabulary as the embedded engine ({@code AgentWire.publish}), which stays the zero-allocation path for a runtime
 * in the server's process.
 * <p>
 * Every event carries an idempotency key (made here unless given), so retries — on network errors, 5xx, 429 and the
 * server's saturation answers — never deliver an event twice. {@link #publish} waits while
 * {@code maxInFlight} events are unanswered: memory stays bounded however slow the server. Thread-safe.
 */
public final class AgentWireProducer implements AutoCloseable
{
    private final ProducerConfig config;
    private final HttpTransport http;
    private final SocketTransport socket;
    private final Pipeline pipeline;
    private final String idPrefix = "java-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
    private final AtomicLong ids = new AtomicLong();

    private AgentWireProducer(final ProducerConfig config)
    {
        this.config = config;
        this.http = new HttpTransport(config);
        this.socket = new SocketTransport(config);
        this.pipeline = new Pipeline(config, config.transport == ProducerConfig.Transport.SOCKET ? socket : http);
    }

    /** @return a producer for the configured server (connections open when first needed). */
    public static AgentWireProducer connect(final ProducerConfig config)
    {
        return new AgentWireProducer(config);
    }

    String nextId()
    {
        return idPrefix + "-" + ids.incrementAndGet();
    }

    /**
     * Publishes one event; waits while {@code maxInFlight} events are unanswered.
     *
     * @return its numbers once stored; or completed exceptionally with an {@link AgentWireException}:
     *         {@link AgentWireException.Refused} (never retried), {@link AgentWireException.Unauthorized},
     *         {@link AgentWireException.Busy} / {@link AgentWireException.Network} (after the retries),
     *         {@link AgentWireException.Timeout}.
     * @throws InterruptedException interrupted while waiting for room.
     */
    public CompletableFuture<Published> publish(final ProducerEvent event) throws InterruptedException
    {
        final String id = nextId();
        final ObjectNode json = event.toJson(id);
        final byte[] encoded;
        try
        {
            encoded = ProducerEvent.MAPPER.writeValueAsBytes(json);
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalArgumentException("the event cannot be encoded: " + ex.getMessage(), ex);
        }
        return pipeline.submit(json.get("id").asText(), encoded);
    }

    /**
     * {@link #publish}, waiting for the answer.
     *
     * @throws AgentWireException why it was not stored.
     */
    public Published publishAndWait(final ProducerEvent event) throws InterruptedException
    {
        return await(publish(event));
    }

    static Published await(final CompletableFuture<Published> answer) throws InterruptedException
    {
        try
        {
            return answer.get();
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof AgentWireException)
            {
                throw (AgentWireException)ex.getCause();
            }
            throw new IllegalStateException(ex.getCause());
        }
    }

    /**
     * Publishes native AG-UI events ({@code POST /v1/ag-ui/events}, or an {@code ag_ui} frame on the socket),
     * checked whole by AG-UI's run rules, retried like {@link #publish} under one batch key (stored once).
     *
     * @param user   the user the run belongs to.
     * @param runId  the open run the events continue, or null when they start with {@code RUN_STARTED}.
     * @param events the AG-UI events (JSON objects, or what Jackson makes them of).
     * @return the server's answer.
     * @throws AgentWireException.Refused {@code code() == "ag_ui_invalid"}, {@code rule()} the AG-UI rule broken.
     */
    public JsonNode publishAgUi(final String user, final String runId, final List<?> events)
        throws InterruptedException
    {
        pipeline.flush(); // what was published before these goes first
        final ObjectNode body = ProducerEvent.MAPPER.createObjectNode().put("user", user);
        if (runId != null)
        {
            body.put("runId", runId);
        }
        body.put("id", nextId());
        body.set("events", ProducerEvent.MAPPER.valueToTree(events));
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMs);
        AgentWireException last = null;
        for (int attempt = 1; attempt <= config.maxAttempts; attempt++)
        {
            try
            {
                final JsonNode answer = agUiAttempt(body);
                if (answer != null)
                {
                    return answer;
                }
            }
            catch (final AgentWireException.Busy | AgentWireException.Network ex)
            {
                last = ex;
            }
            if (System.nanoTime() - deadlineNs >= 0)
            {
                throw new AgentWireException.Timeout("native AG-UI batch not answered in time; last: " + last);
            }
            final long boundMs = Math.min(config.maxBackoffMs, config.initialBackoffMs << Math.min(attempt, 20));
            Thread.sleep(ThreadLocalRandom.current().nextLong(boundMs + 1));
        }
        throw last;
    }

    private JsonNode agUiAttempt(final ObjectNode body) throws InterruptedException
    {
        final int status;
        final String code;
        final String message;
        if (pipeline.transport == socket)
        {
            final JsonNode answer = socket.sendAgUi(body.toString());
            if ("ack".equals(answer.path("type").asText()))
            {
                return answer;
            }
            if (answer.path("error").isObject())
            {
                status = 503;
                code = answer.path("error").path("code").asText();
                message = answer.path("error").path("message").asText();
            }
            else
            {
                status = answer.path("status").asInt();
                message = answer.path("message").asText();
                if (status == 422)
                {
                    throw new AgentWireException.Refused("ag_ui_invalid", message, 422, answer.path("code").asText());
                }
                code = answer.path("code").asText();
            }
        }
        else
        {
            final HttpResponse<byte[]> response = http.postAgUi(body.toString().getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
            final JsonNode answer = HttpTransport.json(response.body());
            status = response.statusCode();
            if (status == 202)
            {
                return answer;
            }
            if (status == 422 && "ag_ui_invalid".equals(answer.path("error").asText()))
            {
                throw new AgentWireException.Refused("ag_ui_invalid", answer.path("message").asText(), 422,
                    answer.path("rule").asText());
            }
            code = answer.path("error").path("code").asText("http_" + status);
            message = answer.path("error").path("message").asText("");
        }
        throw Answers.refusal(status, code, message); // Busy is retried by the caller
    }

    /**
     * Starts a run: publishes {@code agent_started} and waits for it. End it with {@link ProducerRun#complete},
     * {@link ProducerRun#fail} or {@link ProducerRun#cancel}; {@code close()} ends it as failed if none was called
     * (try-with-resources: an exception that escaped ends the run, never leaves it open).
     *
     * @param runId the run's id, or null for one made here.
     */
    public ProducerRun startRun(final String user, final String threadId, final String runId, final String agent)
        throws InterruptedException
    {
        final ProducerRun run = new ProducerRun(this, user, threadId, runId != null ? runId : "run-" + nextId(),
            agent);
        run.start();
        return run;
    }

    /** The body of a run: returns its answer; what it throws ends the run as failed (interruption: cancelled). */
    @FunctionalInterface
    public interface RunBody<T>
    {
        T run(ProducerRun run) throws Exception;
    }

    /**
     * A run from start to end: {@code agent_started}, the body, then {@code agent_completed} with its answer, with
     * what it threw ({@code error}), or {@code cancelled} when it was interrupted. Rethrows what the body threw.
     */
    public <T> T run(final String user, final String threadId, final String agent, final RunBody<T> body)
        throws Exception
    {
        final ProducerRun run = startRun(user, threadId, null, agent);
        final T answer;
        try
        {
            answer = body.run(run);
        }
        catch (final InterruptedException ex)
        {
            run.cancel();
            throw ex;
        }
        catch (final Exception | Error ex)
        {
            run.fail(ex);
            throw ex;
        }
        run.complete(answer);
        return answer;
    }

    /**
     * Users' messages (prompts — an AG-UI front end's whole {@code RunAgentInput} included —, cancels, presence) go
     * to {@code handler}, one at a time, on a thread of their own, over the producer socket, which opens now and
     * reconnects on its own.
     */
    public void onInbound(final Consumer<Inbound> handler) throws InterruptedException
    {
        socket.onInbound(handler);
    }

    /** @return events published and not yet answered (never more than {@code maxInFlight}). */
    public long unanswered()
    {
        return pipeline.unanswered();
    }

    /** @return batches sent so far, retries included. */
    public long batchesSent()
    {
        return pipeline.batchesSent.get();
    }

    /** @return events sent so far, retries included. */
    public long eventsSent()
    {
        return pipeline.eventsSent.get();
    }

    /** Waits until every event published so far is answered. */
    public void flush() throws InterruptedException
    {
        pipeline.flush();
    }

    /** Sends what is queued (within each event's timeout), then closes the connections. */
    @Override
    public void close()
    {
        pipeline.close();
        socket.close();
    }
}
