package dev.agentwire.langchain4j;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.core.PublishStatus;

/**
 * A run published to an engine in this process ({@code AgentWire.publish}): no network hop, one reused draft and one
 * reused payload writer, so a token costs no allocation on AgentWire's side. Refusals (a full ring waits; a rule
 * refusal or a closed engine does not) are kept, the first one readable with {@link #firstRefusal()}: a run's
 * callbacks come from LangChain4j's threads, where nothing could be done with an exception. Thread-safe (one lock:
 * the draft and the writer are shared).
 */
public final class EmbeddedRunSink implements RunSink
{
    private final AgentWire engine;
    private final String user;
    private final String runId;
    private final String threadId;
    private final EventDraft draft = new EventDraft();
    private final PayloadWriter payload = new PayloadWriter();
    private boolean streamed;
    private long firstRefusal;

    /**
     * @param engine   the embedded engine.
     * @param user     whose run it is.
     * @param runId    the run's id (the user's message's, when it named one).
     * @param threadId the conversation, or null.
     */
    public EmbeddedRunSink(final AgentWire engine, final String user, final String runId, final String threadId)
    {
        this.engine = engine;
        this.user = user;
        this.runId = runId;
        this.threadId = threadId;
    }

    /** @return the run's id. */
    public String runId()
    {
        return runId;
    }

    /** @return the first refusal's {@link PublishStatus} (negative), or 0 when every event was accepted. */
    public synchronized long firstRefusal()
    {
        return firstRefusal;
    }

    @Override
    public synchronized void started()
    {
        publish(EventTypes.AGENT_STARTED, null, Outcome.NONE, payload.begin().string("agent", "langchain4j").end());
    }

    @Override
    public synchronized void thinking(final String text)
    {
        publish(EventTypes.AGENT_THINKING, null, Outcome.NONE, payload.begin().string("text", text).end());
    }

    @Override
    public synchronized void answer(final String token)
    {
        streamed = true;
        publish(EventTypes.AGENT_ANSWER, null, Outcome.NONE, payload.begin().string("text", token).end());
    }

    @Override
    public synchronized void toolExecuting(final String callId, final String tool, final String argumentsJson)
    {
        publish(EventTypes.TOOL_EXECUTING, callId, Outcome.NONE, payload.begin().string("tool_call_id", callId)
            .string("tool", tool).arguments("args", argumentsJson).end());
    }

    @Override
    public synchronized void toolCompleted(final String callId, final String result, final boolean failed)
    {
        publish(EventTypes.TOOL_COMPLETED, callId, Outcome.NONE, payload.begin().string("tool_call_id", callId)
            .string(failed ? "error" : "result", result).end());
    }

    @Override
    public synchronized void completed(final String answer)
    {
        payload.begin().string("outcome", "success").string("result", answer);
        if (streamed)
        {
            payload.bool("streamed", true);
        }
        publish(EventTypes.AGENT_COMPLETED, null, Outcome.SUCCESS, payload.end());
    }

    @Override
    public synchronized void failed(final Throwable error)
    {
        publish(EventTypes.AGENT_COMPLETED, null, Outcome.ERROR, payload.begin().string("outcome", "error")
            .string("error", Describe.error(error)).end());
    }

    private void publish(final String type, final String toolCallId, final byte outcome, final PayloadWriter data)
    {
        draft.reset().toUser(user).type(type).runId(runId).threadId(threadId).toolCallId(toolCallId).outcome(outcome)
            .payload(data.bytes(), 0, data.length());
        final long status = engine.publish(draft);
        if (status < 0 && firstRefusal == 0 && status != PublishStatus.DUPLICATE)
        {
            firstRefusal = status;
        }
    }
}
