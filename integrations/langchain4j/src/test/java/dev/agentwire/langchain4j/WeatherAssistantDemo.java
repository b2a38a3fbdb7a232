package dev.agentwire.langchain4j;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.AgentWireServer;
import dev.agentwire.server.ServerConfig;
import dev.agentwire.server.demo.DemoMode;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.service.AiServices;

import java.util.concurrent.CountDownLatch;

/**
 * A runnable example: a LangChain4j AI Service with tools answers the prompts of the live page, embedded in the
 * server's process. Open the printed URL (the page is an AG-UI front end on {@code /v1/ag-ui}), ask for the weather,
 * and watch the run: the model's thinking, two tools in parallel (one failing), the answer token by token.
 * <p>
 * The model here is scripted ({@link ScriptedModel}: no network, no key); put any {@code StreamingChatModel} in its
 * place (OpenAI, Anthropic, Ollama) and nothing else changes.
 * <pre>
 * mvn -q -B -ntp install -DskipTests
 * mvn -q -B -ntp -pl integrations/langchain4j exec:exec@demo        # then open http://127.0.0.1:8080/
 * </pre>
 */
public final class WeatherAssistantDemo
{
    private WeatherAssistantDemo()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        final AgentWireServer server = AgentWireServer.start(ServerConfig.builder().host("127.0.0.1").port(port)
            .jwtSecret(DemoMode.randomSecret()).producerKey(DemoMode.randomSecret())
            .engine(AgentWireConfig.builder().build()).build(), true);
        final Assistant assistant = AiServices.builder(Assistant.class).streamingChatModel(new ScriptedModel(false))
            .chatMemoryProvider(memoryId -> MessageWindowChatMemory.withMaxMessages(20))
            .tools(new WeatherTools()).executeToolsConcurrently().build();
        // The page's prompts go to the AI Service instead of the demo's own agent.
        server.onInbound("user_message", AgentWirePrompts.embedded(server.engine(),
            (user, threadId, prompt) -> assistant.chat(prompt)));
        System.out.println("LangChain4j weather assistant on AgentWire: open http://127.0.0.1:" + server.port() + "/");
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        new CountDownLatch(1).await();
    }
}
