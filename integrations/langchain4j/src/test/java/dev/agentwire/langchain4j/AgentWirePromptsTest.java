package dev.agentwire.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.producer.AgentWireProducer;
import dev.agentwire.producer.ProducerConfig;
import dev.agentwire.server.AgentWireServer;
import dev.agentwire.server.ServerConfig;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.service.AiServices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user's prompt starts the AI Service, and its run reaches that user's sockets — the native one and AG-UI's — with
 * the runtime embedded in the server's process, and with the runtime in another process through the producer client.
 */
@Timeout(60)
class AgentWirePromptsTest
{
    private static final String SECRET = "langchain4j-test-secret-0123456789-0123456789";
    private static final String KEY = "langchain4j-test-producer-key-0123456789";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private AgentWireServer server;
    private AgentWireProducer producer;

    @AfterEach
    void stop()
    {
        if (producer != null)
        {
            producer.close();
        }
        if (server != null)
        {
            server.close();
        }
    }

    private void startServer()
    {
        server = AgentWireServer.start(ServerConfig.builder().host("127.0.0.1").port(0).ioThreads(2)
            .jwtSecret(SECRET).producerKey(KEY).engine(AgentWireConfig.builder().sliceCount(2).build()).build());
    }

    private static AgentWirePrompts.Service assistant()
    {
        final Assistant assistant = AiServices.builder(Assistant.class).streamingChatModel(new ScriptedModel(false))
            .chatMemoryProvider(memoryId -> MessageWindowChatMemory.withMaxMessages(20))
            .tools(new WeatherTools()).executeToolsConcurrently().build();
        return (user, threadId, prompt) -> assistant.chat(prompt);
    }

    @Test
    void shouldAnswerAUsersPromptWithARunFromAnEmbeddedRuntime() throws Exception
    {
        startServer();
        server.onInbound("user_message", AgentWirePrompts.embedded(server.engine(), assistant()));
        try (Socket native1 = new Socket("/v1/ws", "ada"); Socket agUi = new Socket("/v1/ag-ui", "ada"))
        {
            native1.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"run_id\":\"r-embedded\"," +
                "\"data\":{\"text\":\"Weather in Oslo?\"}}");
            assertWholeRun(native1, "r-embedded");
            // The same run as AG-UI: the answer's tokens are chunks of one message, and the run finishes.
            agUi.until(f -> f.stream().anyMatch(e -> "RUN_FINISHED".equals(e.path("type").asText())));
            final List<JsonNode> chunks = agUi.frames.stream()
                .filter(e -> "TEXT_MESSAGE_CHUNK".equals(e.path("type").asText())).collect(Collectors.toList());
            assertTrue(chunks.size() > 5, "streamed: " + chunks.size());
            assertTrue(chunks.stream().allMatch(c -> "r-embedded".equals(c.path("messageId").asText())));
            assertEquals(0, agUi.frames.stream().filter(e -> "TEXT_MESSAGE_START".equals(e.path("type").asText()))
                .count(), "the streamed answer is not repeated at the end");
        }
    }

    @Test
    void shouldAnswerAUsersPromptWithARunThroughTheProducerClient() throws Exception
    {
        startServer();
        producer = AgentWireProducer.connect(ProducerConfig.builder("http://127.0.0.1:" + server.port(), KEY)
            .transport(ProducerConfig.Transport.SOCKET).build());
        producer.onInbound(AgentWirePrompts.producer(producer, assistant()));
        try (Socket user = new Socket("/v1/ws", "grace"))
        {
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"run_id\":\"r-remote\"," +
                "\"data\":{\"text\":\"Weather in Oslo?\"}}");
            assertWholeRun(user, "r-remote");
        }
    }

    private static void assertWholeRun(final Socket user, final String runId) throws InterruptedException
    {
        user.until(f -> f.stream().anyMatch(e -> "agent_completed".equals(e.path("type").asText())));
        final List<JsonNode> run = user.frames.stream().filter(e -> runId.equals(e.path("run_id").asText()))
            .collect(Collectors.toList());
        final List<String> types = run.stream().map(e -> e.path("type").asText()).collect(Collectors.toList());
        assertEquals("agent_started", types.get(0), types.toString());
        assertEquals(2, types.stream().filter("agent_thinking"::equals).count(), types.toString());
        assertEquals(2, types.stream().filter("tool_executing"::equals).count(), types.toString());
        assertEquals(2, types.stream().filter("tool_completed"::equals).count(), types.toString());
        assertTrue(types.stream().filter("agent_answer"::equals).count() > 5, types.toString());
        final JsonNode completed = run.get(run.size() - 1);
        assertEquals("agent_completed", completed.path("type").asText());
        assertEquals("success", completed.path("data").path("outcome").asText());
        final String streamed = run.stream().filter(e -> "agent_answer".equals(e.path("type").asText()))
            .map(e -> e.path("data").path("text").asText()).collect(Collectors.joining());
        assertEquals(streamed, completed.path("data").path("result").asText());
        assertTrue(streamed.contains("weather=4 °C, light snow in Oslo"), streamed);
        for (int i = 1; i < run.size(); i++)
        {
            assertEquals(run.get(i - 1).path("seq").asLong() + 1, run.get(i).path("seq").asLong(), "in order, no gap");
        }
    }

    /** A user's socket that records every frame. */
    private final class Socket implements AutoCloseable
    {
        final List<JsonNode> frames = new CopyOnWriteArrayList<>();
        final WebSocket socket;

        Socket(final String path, final String user) throws Exception
        {
            socket = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" +
                server.port() + path + "?access_token=" + token(user)), new WebSocket.Listener()
                {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(final WebSocket ws, final CharSequence data, final boolean last)
                    {
                        partial.append(data);
                        if (last)
                        {
                            try
                            {
                                frames.add(MAPPER.readTree(partial.toString()));
                            }
                            catch (final Exception ex)
                            {
                                throw new IllegalStateException(ex);
                            }
                            partial.setLength(0);
                        }
                        ws.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
            until(f -> !f.isEmpty());
        }

        void send(final String json) throws Exception
        {
            socket.sendText(json, true).get(5, TimeUnit.SECONDS);
        }

        void until(final Predicate<List<JsonNode>> condition) throws InterruptedException
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!condition.test(frames))
            {
                if (System.nanoTime() > deadline)
                {
                    throw new AssertionError("not within 20 s: " + frames);
                }
                Thread.sleep(10);
            }
        }

        @Override
        public void close()
        {
            socket.abort();
        }
    }

    private static String token(final String user) throws Exception
    {
        final Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        final String head = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        final String body = b64.encodeToString(("{\"sub\":\"" + user + "\",\"exp\":" +
            (System.currentTimeMillis() / 1000 + 600) + "}").getBytes(StandardCharsets.UTF_8));
        final Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return head + "." + body + "." + b64.encodeToString(mac.doFinal((head + "." + body)
            .getBytes(StandardCharsets.UTF_8)));
    }
}
