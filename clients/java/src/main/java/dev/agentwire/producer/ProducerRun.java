package dev.agentwire.producer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One run of an agent for a user ({@link AgentWireProducer#startRun}): thinking, tool calls that always pair, and
 * an end that always comes. Events are published in the order the methods are called; each method waits for its
 * event's answer except {@link #thinkingAsync}. Thread-safe for parallel tool calls.
 */
public final class ProducerRun implements AutoCloseable
{
    private final AgentWireProducer producer;
    private final String user;
    private final String threadId;
    private final String runId;
    private final String agent;
    private final AtomicInteger calls = new AtomicInteger();
    private volatile boolean ended;
    private volatile boolean streamed;

    ProducerRun(final AgentWireProducer producer, final String user, final String threadId, final String runId,
        final String agent)
    {
        this.producer = producer;
        this.user = user;
        this.threadId = threadId;
        this.runId = runId;
        this.agent = agent;
    }

    /** @return the run's id. */
    public String id()
    {
        return runId;
    }

    void start() throws InterruptedException
    {
        publish("agent_started", Map.of("agent", agent));
    }

    Published publish(final String type, final Map<String, ?> data) throws InterruptedException
    {
        return AgentWireProducer.await(publishAsync(type, data));
    }

    CompletableFuture<Published> publishAsync(final String type, final Map<String, ?> data)
        throws InterruptedException
    {
        return producer.publish(ProducerEvent.toUser(user).type(type).runId(runId).threadId(threadId).data(data));
    }

    /** A delta of the agent's working (AG-UI: reasoning); waits for its answer. */
    public Published thinking(final String text) throws InterruptedException
    {
        return publish("agent_thinking", Map.of("text", text));
    }

    /** As {@link #thinking}, without waiting: token streams publish this way, batched. */
    public CompletableFuture<Published> thinkingAsync(final String text) throws InterruptedException
    {
        return publishAsync("agent_thinking", Map.of("text", text));
    }

    /**
     * A delta of the answer, streamed as the model writes it ({@code agent_answer}), without waiting: tokens go out
     * batched, in order. The completion then says {@code streamed: true}, so front ends show the answer once.
     */
    public CompletableFuture<Published> answer(final String token) throws InterruptedException
    {
        streamed = true;
        return publishAsync("agent_answer", Map.of("text", token));
    }

    /**
     * Starts a tool call ({@code tool_executing}); end it with {@link ToolCall#result} or {@link ToolCall#fail}, or
     * let {@code close()} end it as failed.
     *
     * @param args the tool's arguments (a JSON object, or what Jackson makes one of).
     */
    public ToolCall tool(final String tool, final Object args) throws InterruptedException
    {
        return tool(tool, args, runId + "-call-" + calls.incrementAndGet());
    }

    /** As {@link #tool(String, Object)}, with the tool call's own id (the model's). */
    public ToolCall tool(final String tool, final Object args, final String callId) throws InterruptedException
    {
        final Map<String, Object> data = new LinkedHashMap<>();
        data.put("tool_call_id", callId);
        data.put("tool", tool);
        data.put("args", args == null ? Map.of() : args);
        publish("tool_executing", data);
        return new ToolCall(this, callId);
    }

    /** Ends the run: {@code agent_completed}, success, with the answer. */
    public void complete(final Object result) throws InterruptedException
    {
        final Map<String, Object> data = new LinkedHashMap<>();
        data.put("outcome", "success");
        if (result != null)
        {
            data.put("result", result);
        }
        if (streamed)
        {
            data.put("streamed", true);
        }
        end(data);
    }

    /** Ends the run as failed, with the error's text. */
    public void fail(final Throwable error) throws InterruptedException
    {
        end(Map.of("outcome", "error", "error", describe(error)));
    }

    /** Ends the run as cancelled (the user's cancel, a shutdown). */
    public void cancel() throws InterruptedException
    {
        end(Map.of("outcome", "cancelled", "error", "cancelled"));
    }

    private void end(final Map<String, ?> data) throws InterruptedException
    {
        if (ended)
        {
            return;
        }
        ended = true;
        publish("agent_completed", data);
    }

    static String describe(final Throwable error)
    {
        return error.getMessage() == null ? error.getClass().getSimpleName() :
            error.getClass().getSimpleName() + ": " + error.getMessage();
    }

    /** @return whether the run has ended. */
    public boolean ended()
    {
        return ended;
    }

    /**
     * Ends the run as failed if nothing ended it (an exception escaped a try-with-resources). Interrupted while
     * waiting for that answer, it keeps the thread's interrupt set (the event is still sent).
     */
    @Override
    public void close()
    {
        if (!ended)
        {
            try
            {
                end(Map.of("outcome", "error", "error", "the run ended without an answer"));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
