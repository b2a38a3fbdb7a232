package dev.agentwire.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentwire.producer.AgentWireException;
import dev.agentwire.producer.AgentWireProducer;
import dev.agentwire.producer.ProducerRun;
import dev.agentwire.producer.ToolCall;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A run published to a server in another process through the producer client: the answer's tokens go out batched
 * without waiting for each ({@link ProducerRun#answer}), the other events in order, each waited for. What failed is
 * kept, the first readable with {@link #firstFailure()}: a run's callbacks come from LangChain4j's threads. Thread-safe.
 */
public final class ProducerRunSink implements RunSink
{
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final AgentWireProducer producer;
    private final String user;
    private final String runId;
    private final String threadId;
    private final Map<String, ToolCall> calls = new ConcurrentHashMap<>();
    private volatile ProducerRun run;
    private volatile Exception firstFailure;

    /**
     * @param runId the run's id (the user's message's, when it named one).
     */
    public ProducerRunSink(final AgentWireProducer producer, final String user, final String runId,
        final String threadId)
    {
        this.producer = producer;
        this.user = user;
        this.runId = runId;
        this.threadId = threadId;
    }

    /** @return the first publish that failed, or null. */
    public Exception firstFailure()
    {
        return firstFailure;
    }

    @FunctionalInterface
    private interface Step
    {
        void run() throws InterruptedException;
    }

    private synchronized void step(final Step step)
    {
        try
        {
            step.run();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            remember(ex);
        }
        catch (final AgentWireException ex)
        {
            remember(ex);
        }
    }

    private void remember(final Exception ex)
    {
        if (firstFailure == null)
        {
            firstFailure = ex;
        }
    }

    @Override
    public void started()
    {
        step(() -> run = producer.startRun(user, threadId, runId, "langchain4j"));
    }

    @Override
    public void thinking(final String text)
    {
        step(() -> run.thinkingAsync(text));
    }

    @Override
    public void answer(final String token)
    {
        step(() -> run.answer(token));
    }

    @Override
    public void toolExecuting(final String callId, final String tool, final String argumentsJson)
    {
        step(() -> calls.put(callId, run.tool(tool, arguments(argumentsJson), callId)));
    }

    @Override
    public void toolCompleted(final String callId, final String result, final boolean failed)
    {
        step(() ->
        {
            final ToolCall call = calls.remove(callId);
            if (call == null)
            {
                return;
            }
            if (failed)
            {
                call.fail(result);
            }
            else
            {
                call.result(result);
            }
        });
    }

    @Override
    public void completed(final String answer)
    {
        step(() -> run.complete(answer));
    }

    @Override
    public void failed(final Throwable error)
    {
        step(() ->
        {
            if (run != null)
            {
                run.fail(error);
            }
        });
    }

    private static Object arguments(final String json)
    {
        try
        {
            final JsonNode args = json == null || json.isBlank() ? null : MAPPER.readTree(json);
            return args != null && args.isObject() ? args : Map.of();
        }
        catch (final IOException ex)
        {
            return Map.of();
        }
    }
}
