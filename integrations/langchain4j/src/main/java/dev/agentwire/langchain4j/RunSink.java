package dev.agentwire.langchain4j;

/**
 * Where a LangChain4j run's events go: an embedded engine ({@link EmbeddedRunSink}) or a server in another process
 * through the producer client ({@link ProducerRunSink}). Called from LangChain4j's threads, tool calls possibly in
 * parallel: implementations are thread-safe. Each method publishes one event, in call order.
 */
public interface RunSink
{
    /** {@code agent_started}. */
    void started();

    /** {@code agent_thinking}: a delta of the model's thinking. */
    void thinking(String text);

    /** {@code agent_answer}: a delta of the answer, usually one token. */
    void answer(String token);

    /** {@code tool_executing}: the AI Service is about to run a tool (arguments as the model wrote them, JSON). */
    void toolExecuting(String callId, String tool, String argumentsJson);

    /** {@code tool_completed}: the tool returned {@code result}, or failed with it as the error's text. */
    void toolCompleted(String callId, String result, boolean failed);

    /** {@code agent_completed}, success: the whole answer, streamed before as {@link #answer} deltas when any were. */
    void completed(String answer);

    /** {@code agent_completed}, error: the run failed with this. */
    void failed(Throwable error);
}
