package dev.agentwire.producer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The producer client against a real server in this process, over real sockets: numbers and order over both
 * transports, batching, a batch whose answer is cut (retried, delivered once), memory bounded while the server looks
 * stalled, each failure kind, runs that always end, and a user's prompt answered with a run.
 */
@Timeout(120)
class AgentWireProducerTest
{
    private TestServer server;

    @BeforeEach
    void start()
    {
        server = new TestServer();
    }

    @AfterEach
    void stop()
    {
        server.close();
    }

    /** A producer socket through the proxy that pings every {@code heartbeatMs}. */
    private static AgentWireProducer socketProducer(final TestServer.Proxy proxy, final long heartbeatMs)
    {
        return AgentWireProducer.connect(ProducerConfig.builder(proxy.url(), TestServer.KEY)
            .transport(ProducerConfig.Transport.SOCKET).heartbeatMs(heartbeatMs).build());
    }

    /** How a test's runtime answers one prompt, inside the run started for it. */
    @FunctionalInterface
    private interface PromptAnswer
    {
        void answer(ProducerRun run, Inbound message) throws InterruptedException;
    }

    /** Answers each user_message with a run of the prompt's own run id (ended as failed if the answer throws). */
    private static void answerPrompts(final AgentWireProducer producer, final String agent, final PromptAnswer answer)
        throws InterruptedException
    {
        producer.onInbound(message ->
        {
            if (!"user_message".equals(message.type()))
            {
                return;
            }
            try (ProducerRun run = producer.startRun(message.user(), message.threadId(), message.runId(), agent))
            {
                answer.answer(run, message);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        });
    }

    /**
     * Prompts, a new run each time, until the user's stream holds {@code runs} completed runs or 15 s passed, then
     * awaits them, and returns the runs' events. Until the runtime is back a prompt is answered no_agent; one the
     * server handed to the broken socket, which never took it, reaches no runtime, and the server tells the user so
     * by an agentwire.message_lost event: those notices are left out, each checked to name a prompt sent here.
     */
    private static List<JsonNode> promptUntil(final TestServer.UserSocket user, final int runs, final long pauseMs)
        throws Exception
    {
        final long deadline = System.nanoTime() + 15_000_000_000L;
        while (completedRuns(user.events()) < runs && System.nanoTime() < deadline)
        {
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"run_id\":\"r-again-" + System.nanoTime() +
                "\",\"data\":{\"text\":\"again?\"}}");
            Thread.sleep(pauseMs);
        }
        user.until(f -> completedRuns(f) >= runs, 10_000);
        final List<JsonNode> runEvents = new ArrayList<>();
        for (final JsonNode event : user.events())
        {
            if ("agentwire.message_lost".equals(event.path("type").asText()))
            {
                assertEquals("user_message", event.path("data").path("type").asText(), event::toString);
                assertTrue(event.path("data").path("run_id").asText().startsWith("r-again-"), event::toString);
            }
            else
            {
                runEvents.add(event);
            }
        }
        return runEvents;
    }

    private static long completedRuns(final List<JsonNode> events)
    {
        return events.stream().filter(e -> "agent_completed".equals(e.path("type").asText())).count();
    }

    private static List<String> types(final List<JsonNode> events)
    {
        return events.stream().map(e -> e.path("type").asText()).collect(Collectors.toList());
    }

    @ParameterizedTest
    @EnumSource(ProducerConfig.Transport.class)
    void shouldNumberEventsInOrderAndDeliverThemToTheUser(final ProducerConfig.Transport transport) throws Exception
    {
        try (TestServer.UserSocket user = server.new UserSocket("order");
             AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder(server.url(),
                 TestServer.KEY).transport(transport).build()))
        {
            final List<CompletableFuture<Published>> answers = new ArrayList<>();
            for (int n = 0; n < 200; n++)
            {
                answers.add(producer.publish(ProducerEvent.toUser("order").type("app.progress").data(Map.of("n", n))));
            }
            for (int n = 0; n < 200; n++)
            {
                final Published published = answers.get(n).get();
                assertEquals("accepted", published.status());
                assertEquals(n + 1L, published.seq());
            }
            user.until(f -> user.events().size() == 200, 10_000);
            for (int n = 0; n < 200; n++)
            {
                assertEquals(n, user.events().get(n).path("data").path("n").asInt());
            }
        }
    }

    @Test
    void shouldBatchPublishesThatArriveTogether() throws Exception
    {
        try (AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder(server.url(),
            TestServer.KEY).lingerMs(20).build()))
        {
            final List<CompletableFuture<Published>> answers = new ArrayList<>();
            for (int n = 0; n < 1000; n++)
            {
                answers.add(producer.publish(ProducerEvent.toUser("batched").type("app.tick").data(Map.of("n", n))));
            }
            CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0])).get();
            assertEquals(1000, producer.eventsSent());
            assertTrue(producer.batchesSent() <= 10, "batches " + producer.batchesSent());
        }
    }

    @Test
    void shouldRetryABatchWhoseAnswerWasCutAndDeliverEachEventOnce() throws Exception
    {
        try (TestServer.UserSocket user = server.new UserSocket("cut");
             TestServer.Proxy proxy = server.new Proxy();
             AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder(proxy.url(),
                 TestServer.KEY).lingerMs(10_000).maxBatchEvents(20).build()))
        {
            // One batch of the 20, however slowly they are published: it goes when full, not when a linger ends.
            proxy.cutsLeft.set(1); // the server stores the first batch; its answer never arrives
            final List<CompletableFuture<Published>> answers = new ArrayList<>();
            for (int n = 0; n < 20; n++)
            {
                answers.add(producer.publish(ProducerEvent.toUser("cut").type("app.step").data(Map.of("n", n))));
            }
            final Set<String> statuses = new HashSet<>();
            for (final CompletableFuture<Published> answer : answers)
            {
                statuses.add(answer.get().status());
            }
            assertEquals(1, proxy.cuts.get());
            assertEquals(Set.of("duplicate"), statuses, "stored by the cut attempt; the retry is told duplicate");
            assertEquals(40, producer.eventsSent());
            user.until(f -> user.events().size() == 20, 10_000);
            Thread.sleep(300); // nothing more comes
            assertEquals(20, user.events().size());
            assertEquals(20, user.events().stream().map(e -> e.path("id").asText()).distinct().count());
        }
    }

    @Test
    void shouldKeepMemoryBoundedWhileTheServerIsStalledAndDeliverEverythingAfter() throws Exception
    {
        final ExecutorService publishers = Executors.newSingleThreadExecutor();
        try (TestServer.UserSocket user = server.new UserSocket("stalled");
             TestServer.Proxy proxy = server.new Proxy();
             AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder(proxy.url(),
                 TestServer.KEY).maxInFlight(50).maxBatchEvents(20).timeoutMs(60_000).build()))
        {
            proxy.paused = true;
            final List<CompletableFuture<Published>> answers = new ArrayList<>();
            final Future<?> publishing = publishers.submit(() ->
            {
                for (int n = 0; n < 1000; n++)
                {
                    answers.add(producer.publish(ProducerEvent.toUser("stalled").type("app.n").data(Map.of("n", n))));
                }
                return null;
            });
            long peak = 0;
            for (int i = 0; i < 20; i++)
            {
                Thread.sleep(50);
                peak = Math.max(peak, producer.unanswered());
            }
            assertTrue(peak > 0 && peak <= 50, "unanswered peaked at " + peak);
            assertFalse(publishing.isDone(), "publish waits while the server is stalled");
            proxy.paused = false;
            publishing.get();
            for (int n = 0; n < 1000; n++)
            {
                assertEquals(n + 1L, answers.get(n).get().seq());
            }
            user.until(f -> user.events().size() == 1000, 20_000);
        }
        finally
        {
            publishers.shutdownNow();
        }
    }

    @Test
    void shouldRaiseOneExceptionClassPerFailureKind() throws Exception
    {
        try (AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder(server.url(),
            TestServer.KEY).build()))
        {
            final AgentWireException.Refused refused = assertThrows(AgentWireException.Refused.class, () ->
                producer.publishAndWait(ProducerEvent.toUser("rules").type("agent_thinking").runId("never")
                    .data(Map.of("text", "?"))));
            assertEquals("run_not_started", refused.code());
            assertEquals(422, refused.httpStatus());
            final AgentWireException.Refused agUi = assertThrows(AgentWireException.Refused.class, () ->
                producer.publishAgUi("rules", "nope", List.of(Map.of("type", "TEXT_MESSAGE_CONTENT",
                    "messageId", "m", "delta", "x"))));
            assertEquals("ag_ui_invalid", agUi.code());
            assertEquals("run_not_started", agUi.rule());
        }
        try (AgentWireProducer wrong = AgentWireProducer.connect(ProducerConfig.builder(server.url(), "wrong-key")
            .build()))
        {
            assertThrows(AgentWireException.Unauthorized.class, () ->
                wrong.publishAndWait(ProducerEvent.toUser("rules").type("app.x")));
        }
    }

    @Test
    void shouldStreamTheAnswerTokenByTokenAndSaySoAtCompletion() throws Exception
    {
        try (TestServer.UserSocket user = server.new UserSocket("streamer");
             AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder(server.url(),
                 TestServer.KEY).build()))
        {
            producer.run("streamer", "th", "writer", run ->
            {
                for (final String token : new String[]{"It ", "is ", "4 °C."})
                {
                    run.answer(token);
                }
                return "It is 4 °C.";
            });
            user.until(f -> user.events().size() == 5, 10_000);
            assertEquals(List.of("agent_started", "agent_answer", "agent_answer", "agent_answer", "agent_completed"),
                types(user.events()));
            assertTrue(user.events().get(4).path("data").path("streamed").asBoolean());
            assertEquals("It is 4 °C.", user.events().get(4).path("data").path("result").asText());
        }
    }

    @Test
    void shouldFailWithinItsTimeoutWhenTheSocketCannotConnect() throws Exception
    {
        final int dead;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            dead = probe.getLocalPort(); // closed again: nothing listens there
        }
        try (AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder("http://127.0.0.1:" + dead,
            TestServer.KEY).transport(ProducerConfig.Transport.SOCKET).timeoutMs(1_000).maxAttempts(3)
            .backoffMs(50, 200).build()))
        {
            final long started = System.nanoTime();
            final AgentWireException failed = assertThrows(AgentWireException.class, () ->
                producer.publishAndWait(ProducerEvent.toUser("nobody").type("app.x")));
            assertTrue(failed instanceof AgentWireException.Network || failed instanceof AgentWireException.Timeout,
                failed.toString());
            assertTrue(System.nanoTime() - started < 8_000_000_000L, "bounded by the timeout, not hanging");
        }
    }

    @Test
    void shouldEndARunThatThrowsMidwayWithAFailedCompletion() throws Exception
    {
        try (TestServer.UserSocket user = server.new UserSocket("thrower");
             AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder(server.url(),
                 TestServer.KEY).build()))
        {
            final IllegalStateException thrown = assertThrows(IllegalStateException.class, () ->
                producer.run("thrower", "th", "fragile", run ->
                {
                    run.thinking("about to fail");
                    try (ToolCall call = run.tool("search", Map.of("q", "fjords")))
                    {
                        throw new IllegalStateException("the model answered nonsense" + (call.id().isEmpty() ? "?" : ""));
                    }
                }));
            assertEquals("the model answered nonsense", thrown.getMessage());
            user.until(f -> user.events().size() == 5, 10_000);
            assertEquals(List.of("agent_started", "agent_thinking", "tool_executing", "tool_completed",
                "agent_completed"), types(user.events()));
            assertEquals("the tool call ended without a result",
                user.events().get(3).path("data").path("error").asText());
            assertEquals("error", user.events().get(4).path("data").path("outcome").asText());
            assertEquals("IllegalStateException: the model answered nonsense",
                user.events().get(4).path("data").path("error").asText());
        }
    }

    @Test
    void shouldBeRoutedNoUsersMessageWhileItOnlyPublishesAndTakeThemOnceItHasAHandler() throws Exception
    {
        // Before: a producer publishing over its socket without a message handler was routed its share of users'
        // messages, round robin, and dropped them unread: the user heard nothing and no runtime answered.
        try (TestServer.UserSocket user = server.new UserSocket("publisher-only");
             AgentWireProducer producer = AgentWireProducer.connect(ProducerConfig.builder(server.url(),
                 TestServer.KEY).transport(ProducerConfig.Transport.SOCKET).build()))
        {
            producer.publish(ProducerEvent.toUser("publisher-only").type("app.note").data(Map.of()))
                .get(10, TimeUnit.SECONDS);
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"anyone?\"}}");
            user.until(f -> f.stream().anyMatch(m -> "no_agent".equals(m.path("code").asText())), 10_000);

            // With a handler the socket is one a user's message is routed to (the publish-only one replaced).
            answerPrompts(producer, "echo", (run, message) -> run.complete("heard: " + message.text()));
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"run_id\":\"r-heard\"," +
                "\"data\":{\"text\":\"now?\"}}");
            user.until(f -> f.stream().anyMatch(m -> "agent_completed".equals(m.path("type").asText())), 10_000);
            assertEquals("heard: now?", user.events().stream().filter(e -> "agent_completed".equals(
                e.path("type").asText())).findFirst().orElseThrow().path("data").path("result").asText());
        }
    }

    @Test
    void shouldTakeAUsersPromptAndAnswerItWithARunAlsoAfterTheSocketBroke() throws Exception
    {
        try (TestServer.UserSocket user = server.new UserSocket("asker");
             TestServer.Proxy proxy = server.new Proxy();
             AgentWireProducer producer = socketProducer(proxy, 500))
        {
            answerPrompts(producer, "calculator", (run, message) ->
            {
                run.thinking("reading: " + message.text());
                try (ToolCall call = run.tool("calculator", Map.of("expression", "17*23")))
                {
                    call.result(17 * 23);
                }
                run.complete("17*23 = 391");
            });
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"run_id\":\"r-ask\",\"data\":{\"text\":\"17*23?\"}}");
            user.until(f -> user.events().size() == 5, 10_000);
            assertEquals(List.of("agent_started", "agent_thinking", "tool_executing", "tool_completed",
                "agent_completed"), types(user.events()));
            assertEquals("17*23 = 391", user.events().get(4).path("data").path("result").asText());

            // The runtime's connection breaks: it reconnects on its own and takes the next prompt.
            proxy.cutAll();
            final List<String> run = List.of("agent_started", "agent_thinking", "tool_executing", "tool_completed",
                "agent_completed");
            final List<JsonNode> events = promptUntil(user, 2, 500);
            assertEquals(run, types(events.subList(5, 10)), () -> events.toString());
        }
    }

    @Test
    void shouldGiveUpASocketThatFellSilentAndTakeTheNextPromptOnANewOne() throws Exception
    {
        try (TestServer.UserSocket user = server.new UserSocket("quiet");
             TestServer.Proxy proxy = server.new Proxy();
             AgentWireProducer producer = socketProducer(proxy, 200))
        {
            answerPrompts(producer, "echo", (run, message) -> run.complete("heard: " + message.text()));
            // onInbound returned: the server already routes prompts to this runtime, the first one included.
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"run_id\":\"r-1\",\"data\":{\"text\":\"1\"}}");
            user.until(f -> user.events().size() == 2, 10_000);
            assertEquals(List.of("agent_started", "agent_completed"), types(user.events()));

            // The connection goes silent, closed by no one: only the heartbeat can tell. The server still holds its
            // end, so prompts go round robin to it (lost with it) and to the new connection, until one is answered.
            proxy.silenceAll();
            final List<JsonNode> events = promptUntil(user, 2, 300);
            assertEquals(List.of("agent_started", "agent_completed"), types(events.subList(2, 4)),
                () -> events.toString());
            assertEquals(2, proxy.accepted.get());
        }
    }

    @Test
    void shouldKeepASocketWhoseHandlerIsBehindAndLoseNoMessage() throws Exception
    {
        final int prompts = 1_500; // past the 1,024 the client queues: the socket's reads are held back
        final CountDownLatch release = new CountDownLatch(1);
        final Set<String> handled = ConcurrentHashMap.newKeySet();
        try (TestServer.UserSocket user = server.new UserSocket("patient");
             TestServer.Proxy proxy = server.new Proxy();
             AgentWireProducer producer = socketProducer(proxy, 500))
        {
            producer.onInbound(message ->
            {
                if (!"user_message".equals(message.type()))
                {
                    return;
                }
                try
                {
                    release.await();
                    handled.add(message.text());
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            });
            for (int i = 0; i < prompts; i++)
            {
                user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"p" + i + "\"}}");
            }
            // Five heartbeat intervals in which no pong can be read: backpressure, not a dead peer.
            Thread.sleep(2_500);
            release.countDown();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (handled.size() < prompts && System.nanoTime() < deadline)
            {
                Thread.sleep(10);
            }
            assertEquals(prompts, handled.size());
            assertEquals(1, proxy.accepted.get());
            assertTrue(user.frames.stream().noneMatch(f -> "error".equals(f.path("type").asText())));
        }
    }
}
