package dev.agentwire.server;

import dev.agentwire.server.websocket.CloseCodes;
import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several nodes over one real redis-server: cross-node delivery, ordering, isolation and resume, rooms and
 * broadcast, and Redis going away, coming back, and coming back empty. Nodes are in-process servers; the node
 * killed with SIGKILL is a separate process ({@link ClusterNodeKillTest}).
 */
@Timeout(120)
class ClusterTest
{
    @TempDir
    Path dir;
    private RedisNodes cluster;
    private RedisProcess redis;
    private ExecutorService producers;

    @AfterEach
    void tearDown() throws Exception
    {
        if (producers != null)
        {
            producers.shutdownNow();
        }
        if (cluster != null)
        {
            cluster.close();
        }
    }

    private ServerFixture node(final String name) throws Exception
    {
        return cluster.node(name);
    }

    private void startRedis(final boolean durable) throws Exception
    {
        cluster = new RedisNodes(dir, durable);
        redis = cluster.redis;
    }

    @Test
    void shouldDeliverEveryUsersRunsInOrderToDevicesOnEveryNodeAndNoOneElse() throws Exception
    {
        startRedis(false);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        final int users = 40;
        final int runs = 5;
        final WsClient[][] devices = new WsClient[users][2];
        for (int u = 0; u < users; u++)
        {
            devices[u][0] = a.connect("user-" + u);
            devices[u][1] = b.connect("user-" + u);
        }
        for (int u = 0; u < users; u++)
        {
            for (int d = 0; d < 2; d++)
            {
                assertEquals("welcome", devices[u][d].next(10_000).get("type").asText());
            }
        }

        // Four producers, each owning a quarter of the users, publishing each run through alternating nodes.
        producers = Executors.newFixedThreadPool(4);
        final List<Future<?>> done = new ArrayList<>();
        for (int p = 0; p < 4; p++)
        {
            final int producer = p;
            done.add(producers.submit(() ->
            {
                for (int run = 0; run < runs; run++)
                {
                    for (int u = producer; u < users; u += 4)
                    {
                        final ServerFixture via = (u + run) % 2 == 0 ? a : b;
                        final HttpResponse<String> response =
                            via.publish(ServerFixture.runBatch("user-" + u, "u" + u + "-r" + run));
                        if (response.statusCode() != 202)
                        {
                            throw new AssertionError(response.statusCode() + " " + response.body());
                        }
                    }
                }
                return null;
            }));
        }
        for (final Future<?> f : done)
        {
            f.get(90, TimeUnit.SECONDS);
        }
        final int expected = runs * 5;
        for (int u = 0; u < users; u++)
        {
            long epoch = -1;
            for (int d = 0; d < 2; d++)
            {
                final List<JsonNode> events = devices[u][d].collect(WsClient::isEvent, expected, 30_000);
                for (int i = 0; i < expected; i++)
                {
                    final JsonNode e = events.get(i);
                    assertEquals(i + 1, e.get("seq").asLong(), "user " + u + " device " + d);
                    assertEquals("u" + u + "-r" + (i / 5), e.get("run_id").asText(), "runs in publish order");
                    if (epoch == -1)
                    {
                        epoch = e.get("epoch").asLong();
                    }
                    assertEquals(epoch, e.get("epoch").asLong(), "one cursor, valid on every node");
                }
            }
        }
        Thread.sleep(300);
        for (int u = 0; u < users; u++)
        {
            for (int d = 0; d < 2; d++)
            {
                assertTrue(devices[u][d].messages.stream().noneMatch(WsClient::isEvent),
                    "nothing extra for user-" + u + ": " + devices[u][d].messages);
            }
        }
    }

    @Test
    void shouldResumeOnAnotherNodeWithNoGapAndNoDuplicate() throws Exception
    {
        startRedis(false);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        final WsClient first = a.connect("roamer");
        final JsonNode welcome = first.next(10_000);
        assertEquals(0, welcome.get("seq").asLong());
        for (int run = 0; run < 3; run++)
        {
            assertEquals(202, a.publish(ServerFixture.runBatch("roamer", "r" + run)).statusCode());
        }
        final List<JsonNode> seen = first.collect(WsClient::isEvent, 15, 10_000);
        final long epoch = seen.get(14).get("epoch").asLong();
        assertEquals(welcome.get("epoch").asLong(), epoch, "the welcome's epoch is the stream's");
        first.close();
        // A node follows only the users connected to it: once the roamer left, a reads none of its events.
        RecordingAwait.until(() -> a.metric("agentwire_cluster_users_followed") == 0, 10_000,
            "a stops following the roamer");
        for (int run = 3; run < 5; run++)
        {
            assertEquals(202, b.publish(ServerFixture.runBatch("roamer", "r" + run)).statusCode());
        }
        final WsClient back = b.connectWith(Tokens.hs256("roamer", 60_000), "epoch=" + epoch + "&after=15");
        back.nextOfType("welcome", 10_000);
        final JsonNode resumed = back.nextOfType("resumed", 10_000);
        assertTrue(resumed.get("recovered").asBoolean(), resumed.toString());
        assertEquals(16, resumed.get("from").asLong());
        final List<JsonNode> rest = back.collect(WsClient::isEvent, 10, 10_000);
        for (int i = 0; i < 10; i++)
        {
            assertEquals(16 + i, rest.get(i).get("seq").asLong());
        }
        final String metrics = WsClient.HTTP.send(java.net.http.HttpRequest.newBuilder(b.http("/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("agentwire_cluster_redis_up 1"), metrics);
        assertEquals(1, b.metric("agentwire_engine_backfills_total"), "b had none of it: it asked Redis once");
        assertEquals(15, a.metric("agentwire_cluster_events_received_total"), "a read only while the roamer was there");
        // Both nodes read their channel messages in place, off the subscription connection's bytes.
        for (final ServerFixture node : List.of(a, b))
        {
            assertEquals(1, node.metric("agentwire_cluster_feed_framed_total"), "one subscription connection");
            assertEquals(0, node.metric("agentwire_cluster_feed_unframed_total"));
        }
        // Live after the switch, through either node.
        assertEquals(202, a.publish("{\"user\":\"roamer\",\"type\":\"app.note\",\"data\":{\"n\":26}}").statusCode());
        assertEquals(26, back.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());

        // A device that never saw anything resumes from zero on a third node: all of it, recovered.
        final ServerFixture c = node("c");
        final WsClient fresh = c.connectWith(Tokens.hs256("roamer", 60_000), "epoch=0&after=0");
        fresh.nextOfType("welcome", 10_000);
        assertTrue(fresh.nextOfType("resumed", 10_000).get("recovered").asBoolean());
        final List<JsonNode> all = fresh.collect(WsClient::isEvent, 26, 10_000);
        assertEquals(26, all.get(25).get("seq").asLong());
        assertEquals(1, all.get(0).get("seq").asLong());
        final String cMetrics = WsClient.HTTP.send(java.net.http.HttpRequest.newBuilder(c.http("/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(cMetrics.contains("agentwire_engine_backfills_total 1"), "c started later: it asked Redis");
    }

    @Test
    void shouldShareRoomsAndBroadcastAcrossNodes() throws Exception
    {
        startRedis(false);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        final WsClient ann = a.connect("ann", "team");
        final WsClient ben = b.connect("ben", "team");
        final WsClient cid = b.connect("cid");
        ann.next(10_000);
        ben.next(10_000);
        cid.next(10_000);
        ann.send("{\"type\":\"join\",\"room\":\"team\"}");
        assertEquals("team", ann.nextOfType("joined", 10_000).get("room").asText());
        assertEquals(204, b.send("PUT", "/v1/rooms/team/members/ben").statusCode());
        assertEquals("team", ben.nextOfType("joined", 10_000).get("room").asText());

        final HttpResponse<String> toRoom =
            b.publish("{\"room\":\"team\",\"type\":\"app.note\",\"data\":{\"to\":\"team\"}}");
        assertEquals(202, toRoom.statusCode(), toRoom.body());
        assertEquals(2, ServerFixture.json(toRoom).get("results").get(0).get("seqs").size());
        assertEquals("team", ann.collect(WsClient::isEvent, 1, 10_000).get(0).get("room").asText());
        assertEquals("team", ben.collect(WsClient::isEvent, 1, 10_000).get(0).get("room").asText());
        // A room no one is in: accepted, numbered for no one, as on a single node.
        final HttpResponse<String> toNoOne = a.publish("{\"room\":\"empty\",\"type\":\"app.note\",\"data\":{}}");
        assertEquals(202, toNoOne.statusCode(), toNoOne.body());
        assertEquals(0, ServerFixture.json(toNoOne).get("results").get(0).get("seqs").size(), toNoOne.body());

        final HttpResponse<String> toAll = a.publish("{\"broadcast\":true,\"type\":\"app.notice\",\"data\":{}}");
        assertEquals(202, toAll.statusCode(), toAll.body());
        assertEquals(3, ServerFixture.json(toAll).get("results").get(0).get("seqs").size(), toAll.body());
        assertEquals(2, ann.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        assertEquals(2, ben.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        assertEquals(1, cid.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        Thread.sleep(200);
        assertTrue(cid.messages.stream().noneMatch(WsClient::isEvent), "cid is not in the room");
    }

    @Test
    void shouldRouteAUsersMessageToAnAgentRuntimeOnAnotherNodeAndItsAnswerBack() throws Exception
    {
        startRedis(false);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        final WsClient user = b.connect("uma");
        user.next(10_000);
        user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"anyone?\"}}");
        assertEquals("no_agent", user.nextOfType("error", 10_000).get("code").asText(), "no runtime anywhere");

        final WsClient runtime = a.producerSocket();
        RecordingAwait.until(() -> a.server.producerCount() == 1, 5_000, "producer registered");
        // Node b learns of a's runtime through Redis; until then it still answers no_agent.
        JsonNode message = null;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (message == null && System.nanoTime() < deadline)
        {
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"hello\"}}");
            message = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
            while (message != null && !"user_message".equals(message.get("type").asText()))
            {
                message = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
            }
            user.messages.removeIf(m -> "error".equals(m.get("type").asText()));
        }
        assertTrue(message != null, "the runtime on node a got the message sent on node b");
        assertEquals("uma", message.get("user").asText());
        assertEquals("hello", message.get("data").get("text").asText());

        runtime.send("{\"ref\":\"x1\",\"user\":\"uma\",\"type\":\"agent_started\",\"run_id\":\"ur-1\"," +
            "\"data\":{\"agent\":\"remote\"}}");
        assertEquals("accepted", runtime.nextOfType("ack", 10_000).get("status").asText());
        assertEquals("agent_started", user.collect(WsClient::isEvent, 1, 10_000).get(0).get("type").asText());
    }

    @Test
    void shouldRefuseWith503WhileRedisIsDownKeepConnectionsAndContinueInOrderWhenItReturns() throws Exception
    {
        startRedis(true);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        final WsClient dana = b.connect("dana");
        dana.next(10_000);
        assertEquals(202, a.publish(ServerFixture.runBatch("dana", "before")).statusCode());
        assertEquals(5, dana.collect(WsClient::isEvent, 5, 10_000).size());

        redis.stop();
        final HttpResponse<String> refused = a.publish(ServerFixture.runBatch("dana", "during"));
        assertEquals(503, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("Retry-After").isPresent());
        assertEquals("unavailable", ServerFixture.json(refused).get("error").get("code").asText());
        Thread.sleep(1_000);
        assertTrue(dana.isOpen(), "connections stay up while Redis is away");
        dana.send("{\"type\":\"ping\"}");
        assertEquals("pong", dana.nextOfType("pong", 5_000).get("type").asText());

        redis.start();
        RecordingAwait.until(() -> publishes(a, "{\"user\":\"dana\",\"type\":\"app.note\",\"data\":{\"n\":6}}"),
            20_000, "publishing works again");
        assertEquals(202, a.publish(ServerFixture.runBatch("dana", "after")).statusCode());
        final List<JsonNode> after = dana.collect(WsClient::isEvent, 6, 20_000);
        for (int i = 0; i < 6; i++)
        {
            assertEquals(6 + i, after.get(i).get("seq").asLong(), "in order, nothing lost: " + after);
        }
        assertTrue(dana.isOpen());
    }

    @Test
    void shouldTrimTheSharedHistoryByCountAndAgeAndSaySoOnResume() throws Exception
    {
        startRedis(false);
        final ServerFixture a = cluster.node("a", b -> { }, trimmedHistory());
        for (int n = 1; n <= 8; n++)
        {
            assertEquals(202, a.publish("{\"user\":\"ivy\",\"type\":\"app.note\",\"data\":{\"n\":" + n + "}}")
                .statusCode());
        }
        // A node that saw none of it answers from Redis: the last 5 kept, the cursor before them not recovered.
        final ServerFixture b = cluster.node("b", x -> { }, trimmedHistory());
        final WsClient byCount = b.connectWith(Tokens.hs256("ivy", 60_000), "epoch=0&after=0");
        byCount.nextOfType("welcome", 10_000);
        final JsonNode resumed = byCount.nextOfType("resumed", 10_000);
        assertFalse(resumed.get("recovered").asBoolean(), resumed.toString());
        assertEquals(4, resumed.get("from").asLong());
        final List<JsonNode> kept = byCount.collect(WsClient::isEvent, 5, 10_000);
        assertEquals(List.of(4L, 5L, 6L, 7L, 8L), kept.stream().map(e -> e.get("seq").asLong()).toList());

        // Past the age bound the old part goes and the young part stays: 6..8 aged out, 9 and 10 kept.
        Thread.sleep(2_000);
        for (int n = 9; n <= 10; n++)
        {
            assertEquals(202, a.publish("{\"user\":\"ivy\",\"type\":\"app.note\",\"data\":{\"n\":" + n + "}}")
                .statusCode());
        }
        final ServerFixture c = cluster.node("c", x -> { }, trimmedHistory());
        final WsClient partly = c.connectWith(Tokens.hs256("ivy", 60_000), "epoch=0&after=0");
        partly.nextOfType("welcome", 10_000);
        final JsonNode young = partly.nextOfType("resumed", 10_000);
        assertFalse(young.get("recovered").asBoolean(), young.toString());
        assertEquals(9, young.get("from").asLong(), young.toString());
        assertEquals(List.of(9L, 10L),
            partly.collect(WsClient::isEvent, 2, 10_000).stream().map(e -> e.get("seq").asLong()).toList());
        partly.close();

        // Past the age bound nothing is kept, and another node (nothing local either) says where history starts.
        Thread.sleep(2_000);
        final ServerFixture d = cluster.node("d", x -> { }, trimmedHistory());
        final WsClient byAge = d.connectWith(Tokens.hs256("ivy", 60_000), "epoch=0&after=0");
        byAge.nextOfType("welcome", 10_000);
        final JsonNode aged = byAge.nextOfType("resumed", 10_000);
        assertFalse(aged.get("recovered").asBoolean(), aged.toString());
        assertEquals(11, aged.get("from").asLong(), "history starts after the last seq: " + aged);
        Thread.sleep(200);
        assertTrue(byAge.messages.stream().noneMatch(WsClient::isEvent), "nothing older than the age bound");

        // The emptied history is a new key when the next event comes: it expires with the user's stream again.
        assertEquals(202, a.publish("{\"user\":\"ivy\",\"type\":\"app.note\",\"data\":{\"n\":11}}").statusCode());
        assertEquals(11, byAge.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        final long ttlMs = Long.parseLong(redis.command("PTTL aw:{u:ivy}:l").substring(1));
        assertTrue(ttlMs > 0, "the history list expires: pttl=" + ttlMs);
    }

    @Test
    void shouldNeverBlockSocketsOrTheSpineWhileRedisIsStalled() throws Exception
    {
        startRedis(false);
        final ServerFixture a =
            cluster.node("quick", b -> b.redisTimeoutMs(500), AgentWireConfig.builder().sliceCount(2));
        final WsClient gil = a.connect("gil");
        gil.next(10_000);
        assertEquals(202, a.publish("{\"user\":\"gil\",\"type\":\"app.note\",\"data\":{}}").statusCode());
        assertEquals(1, gil.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());

        dev.agentwire.core.Subscription local = null;
        java.util.concurrent.CountDownLatch localWelcome = null;
        redis.pause();
        try
        {
            final long startedNs = System.nanoTime();
            final HttpResponse<String> stalled = a.publish("{\"user\":\"gil\",\"type\":\"app.note\",\"data\":{}}");
            final long tookMs = (System.nanoTime() - startedNs) / 1_000_000;
            assertEquals(503, stalled.statusCode(), stalled.body());
            assertTrue(tookMs < 5_000, "answered within the command timeout, not held: " + tookMs + " ms");
            // The socket's I/O thread and the spine are free: pings are answered, and a subscribe travels the
            // ring and is taken by its slice at once (with the feed from Redis failing, the slice asks Redis and
            // holds the subscription until Redis answers, rather than answer from what may be stale).
            gil.send("{\"type\":\"ping\"}");
            assertEquals("pong", gil.nextOfType("pong", 2_000).get("type").asText());
            final long asked = a.server.engine().stats().backfillsRequested;
            final java.util.concurrent.CountDownLatch welcomed = new java.util.concurrent.CountDownLatch(1);
            local = a.server.engine().subscribe("gil", new dev.agentwire.core.SubscriberListener()
            {
                @Override
                public void onAvailable(final dev.agentwire.core.Subscription s)
                {
                    welcomed.countDown();
                }

                @Override
                public void onClosed(final dev.agentwire.core.Subscription s, final int reason)
                {
                }
            });
            // Either way the slice handled it at once: answered it, or asked Redis (once the feed had failed).
            RecordingAwait.until(() -> welcomed.getCount() == 0 || a.server.engine().stats().backfillsRequested > asked,
                2_000, "the slice took the subscribe while Redis hung");
            localWelcome = welcomed;
        }
        finally
        {
            redis.unpause();
        }
        assertTrue(localWelcome.await(20, TimeUnit.SECONDS), "welcomed once Redis answered");
        local.close();
        RecordingAwait.until(() -> publishes(a, "{\"user\":\"gil\",\"type\":\"app.note\",\"data\":{}}"),
            20_000, "publishing works again");
        assertTrue(gil.isOpen());
        final List<JsonNode> after = gil.collect(WsClient::isEvent, 1, 10_000);
        assertTrue(after.get(0).get("seq").asLong() >= 2, "numbers go on: " + after);
    }

    @Test
    void shouldDeliverAnEventTooLargeForTheFeedsQueueInItsPlaceWithNothingRepaired() throws Exception
    {
        startRedis(false);
        // A 3 MiB event is past an eighth of the feed's 16 MiB queue: it waits beside the queue, in its place.
        final int big = 3 << 20;
        final ServerFixture a = cluster.node("a", b -> b.maxMessageBytes(big + 1024).maxBodyBytes(2 * big),
            AgentWireConfig.builder().sliceCount(2).maxPayloadBytes(big + 1024).largePayloadMaxBytes(4L * big));
        final WsClient kim = a.connect("kim");
        kim.next(10_000);
        final String filler = "x".repeat(big - 64);
        for (final String data : List.of("{\"n\":1}", "{\"n\":2,\"p\":\"" + filler + "\"}", "{\"n\":3}"))
        {
            final HttpResponse<String> accepted =
                a.publish("{\"user\":\"kim\",\"type\":\"app.note\",\"data\":" + data + "}");
            assertEquals(202, accepted.statusCode(), accepted.body());
        }
        final List<JsonNode> events = kim.collect(WsClient::isEvent, 3, 30_000);
        for (int i = 0; i < 3; i++)
        {
            assertEquals(i + 1, events.get(i).get("seq").asLong());
            assertEquals(i + 1, events.get(i).get("data").get("n").asInt());
        }
        assertEquals(filler, events.get(1).get("data").get("p").asText());
        assertEquals(0, a.metric("agentwire_cluster_feed_dropped_total"), "taken in order, not dropped and repaired");
        assertEquals(3, a.metric("agentwire_cluster_events_received_total"));
    }

    @Test
    void shouldChangeTheEpochAndSayNotRecoveredWhenRedisComesBackEmpty() throws Exception
    {
        startRedis(false);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        final WsClient eve = b.connect("eve");
        eve.next(10_000);
        assertEquals(202, a.publish(ServerFixture.runBatch("eve", "old")).statusCode());
        final List<JsonNode> old = eve.collect(WsClient::isEvent, 5, 10_000);
        final long oldEpoch = old.get(0).get("epoch").asLong();

        redis.restartEmpty();
        RecordingAwait.until(() -> publishes(a, "{\"user\":\"eve\",\"type\":\"app.note\",\"data\":{}}"), 20_000,
            "publishing works again");
        // The node sees a new epoch for eve's stream: the live client is told to resume, never given seq 1 of
        // another stream as if it followed 5.
        assertEquals(CloseCodes.SERVICE_RESTART, eve.awaitClose(10_000));
        assertTrue(eve.messages.stream().noneMatch(WsClient::isEvent), "nothing from the new epoch: " + eve.messages);

        final WsClient back = a.connectWith(Tokens.hs256("eve", 60_000), "epoch=" + oldEpoch + "&after=5");
        final JsonNode welcome = back.nextOfType("welcome", 10_000);
        assertTrue(welcome.get("epoch").asLong() != oldEpoch, "a new epoch");
        final JsonNode resumed = back.nextOfType("resumed", 10_000);
        assertFalse(resumed.get("recovered").asBoolean(), resumed.toString());
        assertEquals(1, back.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
    }

    private static AgentWireConfig.Builder trimmedHistory()
    {
        return AgentWireConfig.builder().sliceCount(2).historyMaxEvents(5).historyMaxAgeMs(1_500);
    }

    private static boolean publishes(final ServerFixture node, final String event)
    {
        try
        {
            return node.publish(event).statusCode() == 202;
        }
        catch (final Exception ex)
        {
            return false;
        }
    }
}
