package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user's message for an agent runtime on another node goes through the cluster's {@code inbound} stream in Redis.
 * The user hears when that hand-over failed (answered as every failure to reach Redis is). A node whose own runtimes
 * are busy hands messages to another node's runtime, or answers {@code agent_busy} as a single node does when there
 * is none, instead of sending them round through Redis to its own runtimes again and again.
 */
@Timeout(120)
class ClusterInboundTest
{
    private static final String HELLO =
        "{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"hello\"}}";
    private static final String CANCEL = "{\"type\":\"cancel\",\"run_id\":\"r-1\"}";

    @TempDir
    Path dir;
    private RedisNodes cluster;

    @AfterEach
    void tearDown() throws Exception
    {
        if (cluster != null)
        {
            cluster.close();
        }
    }

    @Test
    void shouldTellTheUserWhenTheClusterCouldNotTakeTheirCancelForAnotherNodesRuntime() throws Exception
    {
        // Before: a cancel over the socket was answered nothing and was gone, and one over HTTP was answered 202
        // "delivered". (A user_message was answered already: its interrupt check asks Redis first.)
        final Across across = across("uma");
        final WsClient user = across.user;

        cluster.redis.stop();
        user.send(CANCEL);
        final JsonNode error = nextError(user);
        assertEquals("unavailable", error.get("code").asText(), error.toString());
        assertTrue(error.get("message").asText().contains("no runtime got it"), error.toString());

        final HttpResponse<String> cancel =
            across.userNode.post("/v1/ag-ui/runs/r-1/cancel", "", Tokens.hs256("uma", 60_000));
        assertEquals(503, cancel.statusCode(), cancel.body());
        assertEquals("unavailable", ServerFixture.json(cancel).get("error").get("code").asText());

        user.send(HELLO);
        final JsonNode unchecked = nextError(user);
        assertEquals("unavailable", unchecked.get("code").asText());
        assertTrue(unchecked.get("message").asText().startsWith("the message was not handed to an agent runtime"),
            unchecked.toString());
        assertTrue(user.isOpen(), "the user's socket stays up");
    }

    @Test
    void shouldSayOutcomeUnknownWhenRedisDoesNotAnswerInTimeAndTheRuntimeMayStillGetIt() throws Exception
    {
        final Across across = across("ugo");

        cluster.redis.pause();
        try
        {
            across.user.send(CANCEL);
            final JsonNode error = nextError(across.user);
            assertEquals("outcome_unknown", error.get("code").asText(), error.toString());
        }
        finally
        {
            cluster.redis.unpause();
        }
        // The append was sent before Redis stopped answering: once it runs, the runtime gets the cancel.
        assertEquals("r-1", across.runtime.nextOfType("cancel", 15_000).get("run_id").asText());
    }

    @Test
    void shouldCarryUsersMessagesAcrossNodesAgainOnceRedisCameBackEmpty() throws Exception
    {
        // Redis lost the stream and its consumer group: the reading node makes the group again, from the stream's
        // start (it once made it at the end, past what other nodes appended before that; this test's timing did not
        // reach that window on the build before, so it checks the recovery, not the race).
        final Across across = across("una");

        cluster.redis.restartEmpty();
        // As soon as node b reaches Redis again (node a's reader may still be waiting out its backoff), a user who
        // connects now (the stream of one connected before moved to a new epoch: that socket is closed 1012).
        assertEquals(202, across.userNode.publishUntilAccepted(
            "{\"user\":\"probe\",\"type\":\"app.note\",\"data\":{}}", 20_000), "the user's node publishes again");
        final WsClient next = connected(across.userNode, "uno")[0];
        next.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"back\"}}");
        final JsonNode got = across.runtime.nextOfType("user_message", 15_000);
        assertEquals("back", got.get("data").get("text").asText(), got.toString());
        assertTrue(next.messages.stream().noneMatch(m -> "error".equals(m.path("type").asText())), "" + next.messages);
    }

    @Test
    void shouldAnswerAgentBusyWhenTheOnlyRuntimesAreThisNodesAndNotReading() throws Exception
    {
        // Before: the node counted its own runtimes as the cluster's, forwarded each message to the inbound stream,
        // read it back, found its runtimes busy and put it back, round and round, while the user heard nothing.
        cluster = new RedisNodes(dir, false);
        final ServerFixture a = cluster.node("a");
        final WsClient runtime = a.producerSocket();
        RecordingAwait.until(() -> a.server.producerCount() == 1, 5_000, "producer registered");
        runtime.stopReading();
        final WsClient[] users = connected(a, "ida", "ivo", "ina");
        // The runtime's 4 MiB backlog plus what the kernel's socket buffers take.
        assertTrue(sendBigUntil(users, () -> firstError(users) != null), "a user was told");
        final JsonNode busy = firstError(users);
        assertEquals("agent_busy", busy.get("code").asText(), busy.toString());
        assertEquals(":0", cluster.redis.command("XLEN aw:inbound"), "nothing went round through Redis");
    }

    @Test
    void shouldHandMessagesToAnotherNodesRuntimeWhileThisNodesOwnAreNotReading() throws Exception
    {
        cluster = new RedisNodes(dir, false);
        final ServerFixture a = cluster.node("a");
        final ServerFixture b = cluster.node("b");
        final WsClient stalled = a.producerSocket();
        RecordingAwait.until(() -> a.server.producerCount() == 1, 5_000, "producer registered");
        stalled.stopReading();
        final WsClient reading = b.producerSocket();
        final WsClient[] users = connected(a, "kai", "kim", "kit");
        // Until node a's runtime is full (4 MiB and the socket's buffers) and b's runtime gets what a's cannot take.
        assertTrue(sendBigUntil(users, () -> reading.messages.stream()
            .anyMatch(m -> "user_message".equals(m.path("type").asText()))), "b's runtime took what a's could not");
        for (final WsClient user : users)
        {
            assertTrue(user.messages.stream().noneMatch(m -> "error".equals(m.path("type").asText())),
                "no user was refused: " + user.messages);
        }
    }

    @Test
    void shouldHandWhatADeadRuntimeNeverConfirmedToARuntimeOnAnotherNodeMarkedRedelivered() throws Exception
    {
        cluster = new RedisNodes(dir, false);
        final ServerFixture a = cluster.node("a");
        final ServerFixture b = cluster.node("b");
        final WsClient heir = a.producerSocket();
        final WsClient user = connected(b, "cara")[0];
        awaitRoutedAcross(user, heir);
        try (RawWs.RawClient dying = RawWs.RawClient.connect(b.server.port(), "/v1/producer?confirm=true",
            Tokens.PRODUCER_KEY, 0, false))
        {
            RecordingAwait.until(() -> b.server.producerCount() == 1, 5_000, "b's own runtime is routed to");
            // b's own runtime is offered the message first: it reads it, and dies before confirming it.
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"run_id\":\"r-7\",\"data\":{}}");
            assertEquals("r-7", dying.nextOfType("user_message").path("run_id").asText());
            dying.reset();
            // Past any hello the routing check left in flight.
            final JsonNode again = heir.collect(m -> "r-7".equals(m.path("run_id").asText()), 1, 10_000).get(0);
            assertEquals("cara", again.path("user").asText());
            assertTrue(again.path("redelivered").asBoolean(), again.toString());
            assertEquals(1, b.metric("agentwire_producer_messages_redelivered_total"));
            // Counted when Redis answered the append, which may be after node a read the message.
            RecordingAwait.until(() -> b.metric("agentwire_producer_messages_rerouted_total") == 1, 5_000,
                "counted as rerouted");
        }
    }

    @Test
    void shouldTakeAgainAMessageGivenToAReadWhoseReplyNobodyHandled() throws Exception
    {
        // Before: a blocking read that timed out on its node stayed blocked in Redis, which gave it the next message
        // when it ran again (Redis paused, then resumed): the reply went nowhere, and the message stayed pending until
        // it expired, never reaching the runtime. Here a script appends a message and reads it at once, as that read.
        final Across across = across("ivo");
        assertTrue(cluster.redis.command("EVAL \"local id = redis.call('XADD', KEYS[1], '*', 'm', ARGV[1]) " +
            "redis.call('XREADGROUP', 'GROUP', 'producers', 'nodes', 'COUNT', 1, 'STREAMS', KEYS[1], '>') " +
            "return id\" 1 aw:inbound \"" + quoted("reply-lost") + "\"").startsWith("$"));
        final JsonNode taken = across.runtime.collect(m -> "reply-lost".equals(m.path("user").asText()), 1, 15_000)
            .get(0);
        assertEquals("user_message", taken.path("type").asText());
        RecordingAwait.until(() -> across.runtimeNode.metric("agentwire_cluster_inbound_reclaimed_total") == 1,
            5_000, "counted as taken again");
        RecordingAwait.until(() -> ":0".equals(cluster.redis.command("XLEN aw:inbound")), 5_000, "deleted");
    }

    @Test
    void shouldKeepOneConsumerInTheStreamsGroupHoweverManyNodesHaveReadIt() throws Exception
    {
        // Before: each node read as a consumer named by its id, which is new at every start, and consumers are never
        // removed from a group: one more in Redis for good at every deploy.
        cluster = new RedisNodes(dir, false);
        final WsClient user = connected(cluster.node("u"), "uli")[0];
        for (final String started : new String[]{"r1", "r2", "r3"})
        {
            final ServerFixture runtimeNode = cluster.node(started);
            awaitRoutedAcross(user, runtimeNode.producerSocket());
            runtimeNode.close();
        }
        assertEquals("*1", cluster.redis.command("XINFO CONSUMERS aw:inbound producers"));
    }

    @Test
    void shouldAnswerAgentBusyWhenEveryOtherNodesRuntimeIsBusyAndForwardAgainOnceOneReads() throws Exception
    {
        // Before: the user's node forwarded to the other node's runtime however full it was, and users' messages
        // waited in Redis for it, without a word to the user, for as long as it did not read.
        final Across across = across("ana");
        final WsClient runtime = across.runtime;
        final WsClient asker = across.user;
        runtime.stopReading();
        final WsClient[] users = connected(across.runtimeNode, "bea", "ben", "bo");
        // The runtime filled by its own node's users, until that node answers them agent_busy.
        assertTrue(sendBigUntil(users, () -> Arrays.stream(users).anyMatch(u -> u.messages.stream()
            .anyMatch(m -> "agent_busy".equals(m.path("code").asText())))), "the runtime is full");

        // The user's node learns it at the nodes' next beats (every 2 s each).
        JsonNode busy = null;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (busy == null && System.nanoTime() < deadline)
        {
            asker.send(HELLO);
            Thread.sleep(300);
            busy = asker.messages.stream().filter(m -> "agent_busy".equals(m.path("code").asText())).findFirst()
                .orElse(null);
        }
        assertNotNull(busy, "the user on the other node was told the only runtime is busy");
        assertEquals(0, across.userNode.metric("agentwire_cluster_producers_ready"));

        runtime.resumeReading();
        JsonNode taken = null;
        final long again = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (taken == null && System.nanoTime() < again)
        {
            asker.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"again\"}}");
            final long pollUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            while (taken == null && System.nanoTime() < pollUntil)
            {
                final JsonNode frame = runtime.messages.poll(100, TimeUnit.MILLISECONDS);
                taken = frame != null && "ana".equals(frame.path("user").asText()) &&
                    "again".equals(frame.path("data").path("text").asText()) ? frame : null;
            }
        }
        assertNotNull(taken, "forwarded again once the runtime reads");
    }

    @Test
    void shouldAnswerAgentBusyWhenAsManyMessagesWaitAsTheClusterKeepsAndDropOnlyThoseThatWaitedTooLong()
        throws Exception
    {
        // Before: the stream was capped by trimming, so past 10,000 each new message silently pushed out the oldest
        // waiting one, and a message left in the stream (a node died holding it) stayed until trimmed.
        cluster = new RedisNodes(dir, false);
        final ServerFixture userNode = cluster.node("a");
        try (ServerProcess runtimeNode = ServerProcess.start(0, dir.resolve("b.log"),
            Map.of("AGENTWIRE_REDIS_URL", cluster.redis.url(), "AGENTWIRE_NODE_ID", "b"));
            WsClient runtime = WsClient.connect(
                URI.create("ws://127.0.0.1:" + runtimeNode.port + "/v1/producer"), Tokens.PRODUCER_KEY))
        {
            final WsClient user = connected(userNode, "ulf")[0];
            awaitRoutedAcross(user, runtime);

            // Node b stalls: for the 10 s its liveness lasts, node a still sees its runtime with room, and forwards.
            runtimeNode.pause();
            try
            {
                // The stream made again by hand (b's reader makes its group again when it runs): first one message
                // that waited since long ago, as a node that died holding it would leave, then fresh ones to 10,000.
                assertEquals(":1", cluster.redis.command("DEL aw:inbound"));
                assertEquals("$3", cluster.redis.command("XADD aw:inbound 1-0 m \"" + quoted("stale") + "\""));
                assertEquals(":1", cluster.redis.command("EVAL \"for i = 1, 9999 do redis.call('XADD', KEYS[1], " +
                    "'*', 'm', '" + quoted("filler") + "') end return 1\" 1 aw:inbound"));
                assertEquals(":10000", cluster.redis.command("XLEN aw:inbound"));

                // The stale one is dropped, which makes room for this one.
                user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"last in\"}}");
                RecordingAwait.until(() -> userNode.metric("agentwire_cluster_inbound_expired_total") == 1, 10_000,
                    "the message that waited too long was dropped, and counted");
                assertEquals(":10000", cluster.redis.command("XLEN aw:inbound"));

                // The next finds 10,000 waiting: its sender is told, and no waiting message is pushed out for it.
                user.send(HELLO);
                final JsonNode busy = nextError(user);
                assertEquals("agent_busy", busy.get("code").asText(), busy.toString());
                assertEquals(1, userNode.metric("agentwire_cluster_inbound_refused_total"));
                assertEquals(":10000", cluster.redis.command("XLEN aw:inbound"));
            }
            finally
            {
                runtimeNode.unpause();
            }
            // Node b runs again and its runtime gets every waiting message, the oldest fresh one first, the last last.
            int fillers = 0;
            JsonNode got = runtime.nextOfType("user_message", 30_000);
            while ("filler".equals(got.path("user").asText()))
            {
                fillers++;
                got = runtime.nextOfType("user_message", 30_000);
            }
            assertEquals(9_999, fillers, "every fresh message that waited reached the runtime");
            assertEquals("last in", got.path("data").path("text").asText(), got.toString());
            // Node b deletes what it took after handing it on (asynchronously): awaited, not read at once.
            RecordingAwait.until(() -> ":0".equals(cluster.redis.command("XLEN aw:inbound")), 10_000,
                "the stream emptied");
        }
    }

    @Test
    void shouldNotHandARuntimeAMessageThatWaitedLongerThanTheClusterKeepsOne() throws Exception
    {
        // Before: a node that came to read handed its runtime whatever waited, however old (one left by a node that
        // died holding it: minutes, hours), and the stream kept such messages until trimmed.
        cluster = new RedisNodes(dir, false);
        final ServerFixture node = cluster.node("a");
        final WsClient runtime = node.producerSocket();
        RecordingAwait.until(() -> node.server.producerCount() == 1, 5_000, "producer registered");
        final WsClient sender = connected(node, "stale")[0];

        // In one step, the stream made again holding one message appended long ago: the node's reader finds its
        // group gone and reads the stream from its start once it made the group again.
        assertEquals(":1", cluster.redis.command("EVAL \"redis.call('DEL', KEYS[1]) " +
            "redis.call('XADD', KEYS[1], '1-0', 'm', ARGV[1]) return 1\" 1 aw:inbound \"" + quoted("stale") + "\""));
        RecordingAwait.until(() -> node.metric("agentwire_cluster_inbound_expired_total") == 1, 10_000,
            "the message that waited too long was dropped before the node read the stream");
        assertEquals(":0", cluster.redis.command("XLEN aw:inbound"));
        // Its sender, answered as if it would be handled, is told in their stream that it will not be.
        final JsonNode notice = sender.nextOfType("agentwire.message_lost", 10_000);
        assertEquals("user_message", notice.path("data").path("type").asText(), notice.toString());
        assertEquals("agent_busy", notice.path("data").path("reason").asText(), notice.toString());

        // The node reads on: a message that waits now reaches the runtime, the first it is handed.
        cluster.redis.command("XADD aw:inbound * m \"" + quoted("fresh") + "\"");
        final JsonNode got = runtime.nextOfType("user_message", 10_000);
        assertEquals("fresh", got.path("user").asText(), got.toString());
    }

    /** @return a user's message as a runtime receives it, its quotes escaped for a Redis inline command. */
    private static String quoted(final String userId)
    {
        return ("{\"type\":\"user_message\",\"user\":\"" + userId + "\",\"data\":{}}").replace("\"", "\\\"");
    }

    /** Two nodes over one Redis: a runtime on one, a user on the other whose messages have reached it. */
    private static final class Across
    {
        ServerFixture runtimeNode;
        ServerFixture userNode;
        WsClient runtime;
        WsClient user;
    }

    /** Starts Redis and two nodes, the runtime's ({@code a}) and the user's ({@code b}), and routes across. */
    private Across across(final String userId) throws Exception
    {
        cluster = new RedisNodes(dir, false);
        final Across across = new Across();
        across.runtimeNode = cluster.node("a");
        across.userNode = cluster.node("b");
        across.runtime = across.runtimeNode.producerSocket();
        across.user = connected(across.userNode, userId)[0];
        awaitRoutedAcross(across.user, across.runtime);
        return across;
    }

    /** @return users connected to {@code node}, each past its welcome. */
    private static WsClient[] connected(final ServerFixture node, final String... userIds) throws Exception
    {
        final WsClient[] users = new WsClient[userIds.length];
        for (int i = 0; i < users.length; i++)
        {
            users[i] = node.connect(userIds[i]);
            users[i].next(10_000);
        }
        return users;
    }

    /** Sends a user message of 30 KB from each user, 55 ms apart, up to 200 rounds, until {@code done}. */
    private static boolean sendBigUntil(final WsClient[] users, final BooleanSupplier done) throws Exception
    {
        final String message = "{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{\"text\":\"" +
            "b".repeat(30_000) + "\"}}";
        for (int round = 0; round < 200 && !done.getAsBoolean(); round++)
        {
            for (final WsClient user : users)
            {
                user.send(message);
            }
            Thread.sleep(55);
        }
        return done.getAsBoolean();
    }

    /** @return the first error any of the users was sent, or null. */
    private static JsonNode firstError(final WsClient[] users)
    {
        return Arrays.stream(users).flatMap(u -> u.messages.stream()).filter(m -> "error".equals(m.path("type")
            .asText())).findFirst().orElse(null);
    }

    /** Sends until the runtime on the other node got a message: the user's node learns of it at a heartbeat. */
    private static void awaitRoutedAcross(final WsClient user, final WsClient runtime) throws Exception
    {
        JsonNode message = null;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (message == null && System.nanoTime() < deadline)
        {
            user.send(HELLO);
            message = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
            while (message != null && !"user_message".equals(message.get("type").asText()))
            {
                message = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
            }
            user.messages.removeIf(m -> "error".equals(m.get("type").asText()));
        }
        assertNotNull(message, "the runtime on the other node got a message sent on this one");
        runtime.messages.clear();
    }

    /** @return the next error, past any {@code no_agent} left from before the node knew of the other's runtime. */
    private static JsonNode nextError(final WsClient user) throws Exception
    {
        JsonNode error = user.nextOfType("error", 10_000);
        while ("no_agent".equals(error.path("code").asText()))
        {
            error = user.nextOfType("error", 10_000);
        }
        return error;
    }
}
