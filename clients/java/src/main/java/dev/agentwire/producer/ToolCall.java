package dev.agentwire.producer;

import java.util.LinkedHashMap;
import java.util.Map;

/** A tool call of a {@link ProducerRun}: started, then ended once with a result or an error. */
public final class ToolCall implements AutoCloseable
{
    private final ProducerRun run;
    private final String id;
    private boolean done;

    ToolCall(final ProducerRun run, final String id)
    {
        this.run = run;
        this.id = id;
    }

    /** @return the tool call's id. */
    public String id()
    {
        return id;
    }

    /** Ends the call with its result ({@code tool_completed}). */
    public void result(final Object result) throws InterruptedException
    {
        final Map<String, Object> data = new LinkedHashMap<>();
        data.put("tool_call_id", id);
        data.put("result", result);
        end(data);
    }

    /** Ends the call as failed ({@code tool_completed} with the error's text). */
    public void fail(final Throwable error) throws InterruptedException
    {
        end(Map.of("tool_call_id", id, "error", ProducerRun.describe(error)));
    }

    /** Ends the call as failed with the error's text as given (a framework's report of a tool's failure). */
    public void fail(final String error) throws InterruptedException
    {
        end(Map.of("tool_call_id", id, "error", error == null ? "failed" : error));
    }

    private synchronized void end(final Map<String, ?> data) throws InterruptedException
    {
        if (done)
        {
            return;
        }
        done = true;
        run.publish("tool_completed", data);
    }

    /** Ends the call as failed if nothing ended it (interrupted meanwhile: the thread's interrupt stays set). */
    @Override
    public void close()
    {
        try
        {
            end(Map.of("tool_call_id", id, "error", "the tool call ended without a result"));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
