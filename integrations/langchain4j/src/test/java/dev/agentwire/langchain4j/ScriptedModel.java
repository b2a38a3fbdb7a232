package dev.agentwire.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A streaming chat model that plays a script, in process, no network and no model (on a thread of its own, as a
 * provider's client streams): asked a question, it thinks
 * aloud and asks for the weather and the alerts at once (two tool calls in parallel); given the tools' results, it
 * streams an answer made of them, token by token. With {@code failAfterThinking}, it fails midway instead.
 */
final class ScriptedModel implements StreamingChatModel
{
    private final boolean failAfterThinking;

    ScriptedModel(final boolean failAfterThinking)
    {
        this.failAfterThinking = failAfterThinking;
    }

    @Override
    public void doChat(final ChatRequest request, final StreamingChatResponseHandler handler)
    {
        // As a provider's client does: the response streams on a thread of its own, after the call returned.
        final Thread stream = new Thread(() -> play(request, handler), "scripted-model-stream");
        stream.setDaemon(true);
        stream.start();
    }

    private void play(final ChatRequest request, final StreamingChatResponseHandler handler)
    {
        final ChatMessage last = request.messages().get(request.messages().size() - 1);
        if (!(last instanceof ToolExecutionResultMessage))
        {
            handler.onPartialThinking(new PartialThinking("The user wants the weather. "));
            handler.onPartialThinking(new PartialThinking("I will check the forecast and the alerts."));
            if (failAfterThinking)
            {
                handler.onError(new IllegalStateException("the model provider answered 529 overloaded"));
                return;
            }
            final List<ToolExecutionRequest> calls = List.of(
                ToolExecutionRequest.builder().id("call-weather").name("weather").arguments("{\"city\":\"Oslo\"}")
                    .build(),
                ToolExecutionRequest.builder().id("call-alerts").name("alerts").arguments("{\"region\":\"NO\"}")
                    .build());
            // Each call as soon as its arguments have streamed (a concurrent AI Service starts it then), then all.
            for (int i = 0; i < calls.size(); i++)
            {
                handler.onCompleteToolCall(new CompleteToolCall(i, calls.get(i)));
            }
            handler.onCompleteResponse(ChatResponse.builder().aiMessage(AiMessage.from(calls)).build());
            return;
        }
        final String results = request.messages().stream().filter(m -> m instanceof ToolExecutionResultMessage)
            .map(m -> ((ToolExecutionResultMessage)m).toolName() + "=" + ((ToolExecutionResultMessage)m).text())
            .sorted().collect(Collectors.joining("; "));
        final String answer = "In Oslo: " + results;
        final StringBuilder streamed = new StringBuilder();
        for (final String token : answer.split("(?<= )"))
        {
            handler.onPartialResponse(token);
            streamed.append(token);
        }
        handler.onCompleteResponse(ChatResponse.builder().aiMessage(AiMessage.from(streamed.toString())).build());
    }
}
