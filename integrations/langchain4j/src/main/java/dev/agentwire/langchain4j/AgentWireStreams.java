package dev.agentwire.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.service.TokenStream;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Publishes a LangChain4j run as an AgentWire run: an AI Service's {@link TokenStream} ({@link #publish}) or a
 * {@code StreamingChatModel} call ({@link #handler}). What LangChain4j reports becomes the run's events:
 * <ul>
 *   <li>partial thinking: {@code agent_thinking};</li>
 *   <li>partial responses: {@code agent_answer}, token by token (the answer's own type, not thinking: front ends
 *   show it as the assistant's message, AG-UI as a TEXT_MESSAGE_CHUNK of the run's message);</li>
 *   <li>{@code beforeToolExecution} / {@code onToolExecuted}: {@code tool_executing} / {@code tool_completed} (its
 *   result, or its error when the tool failed);</li>
 *   <li>{@code onCompleteResponse}: {@code agent_completed} with the answer, {@code streamed: true};</li>
 *   <li>{@code onError}: a failed {@code agent_completed}.</li>
 * </ul>
 * The run always ends. Thread-safe: each run has its own sink.
 */
public final class AgentWireStreams
{
    private AgentWireStreams()
    {
    }

    /**
     * Starts the stream and publishes its run; {@code agent_started} goes out first, here.
     *
     * @return the final response, or completed exceptionally with the stream's error (the run ended failed then).
     */
    public static CompletableFuture<ChatResponse> publish(final TokenStream stream, final RunSink sink)
    {
        final CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        final CallIds ids = new CallIds();
        sink.started();
        stream.onPartialThinking((final PartialThinking thinking) -> sink.thinking(thinking.text()))
            .onPartialResponse(sink::answer)
            .beforeToolExecution(before -> sink.toolExecuting(ids.of(before.request()), before.request().name(),
                before.request().arguments()))
            .onToolExecuted(executed -> sink.toolCompleted(ids.of(executed.request()), executed.result(),
                executed.hasFailed()))
            .onCompleteResponse(response ->
            {
                sink.completed(response.aiMessage() == null ? null : response.aiMessage().text());
                done.complete(response);
            })
            .onError(error ->
            {
                sink.failed(error);
                done.completeExceptionally(error);
            });
        try
        {
            stream.start();
        }
        catch (final RuntimeException ex)
        {
            sink.failed(ex);
            done.completeExceptionally(ex);
        }
        return done;
    }

    /**
     * A handler for one {@code StreamingChatModel} call, published as a run: {@code agent_started} here, thinking and
     * the answer's tokens as they stream, the end. Tool calls the model asks for are the application's to run (a
     * plain model call executes none): publish them with the sink's {@code toolExecuting} / {@code toolCompleted}
     * around their execution.
     *
     * @param done completed with the final response, or exceptionally with the call's error.
     */
    public static StreamingChatResponseHandler handler(final RunSink sink, final CompletableFuture<ChatResponse> done)
    {
        sink.started();
        return new StreamingChatResponseHandler()
        {
            @Override
            public void onPartialResponse(final String token)
            {
                sink.answer(token);
            }

            @Override
            public void onPartialThinking(final PartialThinking thinking)
            {
                sink.thinking(thinking.text());
            }

            @Override
            public void onCompleteResponse(final ChatResponse response)
            {
                sink.completed(response.aiMessage() == null ? null : response.aiMessage().text());
                done.complete(response);
            }

            @Override
            public void onError(final Throwable error)
            {
                sink.failed(error);
                done.completeExceptionally(error);
            }
        };
    }

    /** A tool call's id: the model's, or one made here when the model gave none (some providers do not). */
    private static final class CallIds
    {
        private final AtomicInteger made = new AtomicInteger();
        private final java.util.Map<ToolExecutionRequest, String> ids = new java.util.concurrent.ConcurrentHashMap<>();

        String of(final ToolExecutionRequest request)
        {
            if (request.id() != null && !request.id().isEmpty())
            {
                return request.id();
            }
            return ids.computeIfAbsent(request, r -> "call-" + made.incrementAndGet());
        }
    }
}
