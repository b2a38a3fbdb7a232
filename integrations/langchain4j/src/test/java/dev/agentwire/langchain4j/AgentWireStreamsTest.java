package dev.agentwire.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.SubscriberListener;
import dev.agentwire.core.Subscription;
import dev.agentwire.core.SubscriptionHandler;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.service.AiServices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An AI Service with tools, on a scripted streaming model, publishing its run to an embedded engine: what the user's
 * stream holds, event by event — thinking, two tool calls in parallel (one failing), the answer token by token, the
 * end — a model that fails midway, which still ends the run, and a plain streaming model call.
 */
@Timeout(60)
class AgentWireStreamsTest
{
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private AgentWire engine;

    @BeforeEach
    void start()
    {
        engine = AgentWire.start(AgentWireConfig.builder().sliceCount(1).build());
    }

    @AfterEach
    void stop()
    {
        engine.close();
    }

    private static Assistant assistant(final boolean failing)
    {
        return AiServices.builder(Assistant.class).streamingChatModel(new ScriptedModel(failing))
            .chatMemory(MessageWindowChatMemory.withMaxMessages(20))
            .tools(new WeatherTools()).executeToolsConcurrently().build();
    }

    @Test
    void shouldPublishThinkingParallelToolCallsAndTheAnswerTokenByToken() throws Exception
    {
        final List<JsonNode> events = new ArrayList<>();
        final Subscription subscription = engine.subscribe("alice", listener());
        final EmbeddedRunSink sink = new EmbeddedRunSink(engine, "alice", "run-1", "th-1");
        final ChatResponse response = AgentWireStreams.publish(assistant(false).chat("Weather in Oslo?"), sink)
            .get(30, TimeUnit.SECONDS);

        await(subscription, events, e -> e.stream().anyMatch(n -> "agent_completed".equals(n.path("type").asText())));
        assertEquals(0, sink.firstRefusal(), "every event accepted by the engine's run rules");
        final List<String> types = events.stream().map(e -> e.path("type").asText()).collect(Collectors.toList());
        assertEquals("agent_started", types.get(0));
        assertEquals(List.of("agent_thinking", "agent_thinking"), types.subList(1, 3));
        assertEquals(2, types.stream().filter("tool_executing"::equals).count());
        assertEquals(2, types.stream().filter("tool_completed"::equals).count());
        assertTrue(types.lastIndexOf("tool_completed") < types.indexOf("agent_answer"), types.toString());
        assertEquals("agent_completed", types.get(types.size() - 1));

        final JsonNode failed = events.stream().filter(e -> "tool_completed".equals(e.path("type").asText()) &&
            e.path("data").has("error")).findFirst().orElseThrow();
        assertEquals("call-alerts", failed.path("data").path("tool_call_id").asText());
        assertTrue(failed.path("data").path("error").asText().contains("down"), failed.toString());
        final JsonNode weather = events.stream().filter(e -> "tool_completed".equals(e.path("type").asText()) &&
            e.path("data").has("result")).findFirst().orElseThrow();
        assertEquals("4 °C, light snow in Oslo", weather.path("data").path("result").asText());

        final String streamed = events.stream().filter(e -> "agent_answer".equals(e.path("type").asText()))
            .map(e -> e.path("data").path("text").asText()).collect(Collectors.joining());
        assertEquals(response.aiMessage().text(), streamed);
        assertTrue(events.stream().filter(e -> "agent_answer".equals(e.path("type").asText())).count() > 5,
            "token by token");
        final JsonNode completed = events.get(events.size() - 1).path("data");
        assertEquals("success", completed.path("outcome").asText());
        assertEquals(streamed, completed.path("result").asText());
        assertTrue(completed.path("streamed").asBoolean());
    }

    @Test
    void shouldEndTheRunFailedWhenTheModelFailsMidway() throws Exception
    {
        final List<JsonNode> events = new ArrayList<>();
        final Subscription subscription = engine.subscribe("bob", listener());
        final EmbeddedRunSink sink = new EmbeddedRunSink(engine, "bob", "run-2", "th-2");
        final CompletableFuture<ChatResponse> done = AgentWireStreams.publish(assistant(true).chat("Weather?"), sink);
        final ExecutionException failure = assertThrows(ExecutionException.class, () -> done.get(30, TimeUnit.SECONDS));
        assertTrue(failure.getCause().getMessage().contains("overloaded"), failure.toString());

        await(subscription, events, e -> e.stream().anyMatch(n -> "agent_completed".equals(n.path("type").asText())));
        assertEquals(List.of("agent_started", "agent_thinking", "agent_thinking", "agent_completed"),
            events.stream().map(e -> e.path("type").asText()).collect(Collectors.toList()));
        final JsonNode completed = events.get(3).path("data");
        assertEquals("error", completed.path("outcome").asText());
        assertTrue(completed.path("error").asText().contains("overloaded"), completed.toString());
        assertEquals(0, sink.firstRefusal());
    }

    @Test
    void shouldPublishAPlainStreamingModelCallAsARun() throws Exception
    {
        final List<JsonNode> events = new ArrayList<>();
        final Subscription subscription = engine.subscribe("carol", listener());
        final EmbeddedRunSink sink = new EmbeddedRunSink(engine, "carol", "run-3", "th-3");
        final CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        // A call that continues from tool results the application ran: the model streams its answer.
        new ScriptedModel(false).chat(ChatRequest.builder().messages(List.of(UserMessage.from("Weather?"),
            AiMessage.from(List.of(ToolExecutionRequest.builder().id("c1").name("weather").arguments("{}").build())),
            ToolExecutionResultMessage.from("c1", "weather", "4 °C"))).build(),
            AgentWireStreams.handler(sink, done));
        final ChatResponse response = done.get(30, TimeUnit.SECONDS);

        await(subscription, events, e -> e.stream().anyMatch(n -> "agent_completed".equals(n.path("type").asText())));
        final List<String> types = events.stream().map(e -> e.path("type").asText()).collect(Collectors.toList());
        assertEquals("agent_started", types.get(0));
        assertEquals("agent_completed", types.get(types.size() - 1));
        assertTrue(types.subList(1, types.size() - 1).stream().allMatch("agent_answer"::equals), types.toString());
        assertEquals(response.aiMessage().text(), events.stream().filter(e -> "agent_answer".equals(
            e.path("type").asText())).map(e -> e.path("data").path("text").asText()).collect(Collectors.joining()));
    }

    private static SubscriberListener listener()
    {
        return new SubscriberListener()
        {
            @Override
            public void onAvailable(final Subscription s)
            {
            }

            @Override
            public void onClosed(final Subscription s, final int reason)
            {
            }
        };
    }

    /** Polls the subscription until the very condition the test then asserts holds. */
    private static void await(final Subscription subscription, final List<JsonNode> events,
        final java.util.function.Predicate<List<JsonNode>> condition) throws InterruptedException
    {
        final SubscriptionHandler handler = new SubscriptionHandler()
        {
            @Override
            public void onWelcome(final String userId, final long epoch, final long lastSeq)
            {
            }

            @Override
            public void onResumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
            {
            }

            @Override
            public void onEvent(final AgentEvent event)
            {
                final byte[] data = event.payloadBytes();
                try
                {
                    events.add(MAPPER.createObjectNode().put("type", event.type())
                        .set("data", MAPPER.readTree(new String(data, StandardCharsets.UTF_8))));
                }
                catch (final IOException ex)
                {
                    throw new IllegalStateException(ex);
                }
            }

            @Override
            public void onJoined(final String room)
            {
            }

            @Override
            public void onLeft(final String room)
            {
            }

            @Override
            public void onClosed(final int reason)
            {
            }
        };
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.test(events))
        {
            if (subscription.poll(handler, 64) == 0)
            {
                if (System.nanoTime() > deadline)
                {
                    throw new AssertionError("not within 20 s: " + events);
                }
                Thread.sleep(5);
            }
        }
    }
}
