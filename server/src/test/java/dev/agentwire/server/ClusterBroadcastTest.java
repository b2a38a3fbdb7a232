package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who a broadcast reaches over Redis: every user connected to a node whose presence Redis still holds. A node's
 * liveness (10 s) lapses whenever it cannot beat for a while (a long pause, Redis stalled or out of reach) though
 * its sockets stay up; its users must not silently miss the broadcasts of that time. Their presence outlives it
 * ({@code PRESENCE_TTL_MS}), and the node writes it whole again when Redis lost it or a write of it failed.
 */
@Timeout(60)
class ClusterBroadcastTest
{
    private static final String BROADCAST = "{\"broadcast\":true,\"type\":\"app.notice\",\"data\":{}}";

    @TempDir
    Path dir;
    private RedisNodes cluster;
    private RedisProcess redis;

    @BeforeEach
    void startRedis() throws Exception
    {
        cluster = new RedisNodes(dir, false);
        redis = cluster.redis;
    }

    @AfterEach
    void tearDown() throws Exception
    {
        cluster.close();
    }

    /** Connects a user to a node and waits until Redis holds the node's presence of it. */
    private WsClient present(final ServerFixture node, final String nodeId, final String user) throws Exception
    {
        final WsClient client = node.connect(user);
        client.nextOfType("welcome", 10_000);
        RecordingAwait.until(() -> ":1".equals(redis.command("SISMEMBER aw:{n}:node:" + nodeId + ":present " + user)),
            10_000, user + " present on node " + nodeId);
        return client;
    }

    @Test
    void shouldReachTheUsersOfANodeWhoseLivenessLapsedWhileItsSocketsStayedUp() throws Exception
    {
        final ServerFixture a = cluster.node("a");
        final ServerFixture b = cluster.node("b");
        final WsClient ann = present(a, "a", "ann");
        final WsClient bo = present(b, "b", "bo");

        // As Redis sees a node that could not beat for over 10 s (paused, cut off, or Redis itself stalled): its
        // liveness key expired. Its sockets are up, and it delivers again as soon as it can.
        assertEquals(":1", redis.command("DEL aw:{n}:node:b"));
        final HttpResponse<String> toAll = a.publish(BROADCAST);
        assertEquals(202, toAll.statusCode(), toAll.body());
        assertEquals(2, ServerFixture.json(toAll).get("results").get(0).get("seqs").size(), toAll.body());
        assertEquals(1, ann.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        final JsonNode got = bo.collect(WsClient::isEvent, 1, 10_000).get(0);
        assertEquals("app.notice", got.get("type").asText(), got.toString());
        assertEquals(":1", redis.command("SISMEMBER aw:{n}:nodes b"), "still a node whose users broadcasts reach");
    }

    @Test
    void shouldExpireEveryPresenceAndForgetAGoneNodeWithNothingLeftOrAPresenceWithoutExpiry() throws Exception
    {
        final ServerFixture a = cluster.node("a");
        present(a, "a", "ann");
        final long ttlMs = Long.parseLong(redis.command("PTTL aw:{n}:node:a:present").substring(1));
        assertTrue(ttlMs > 10_000 && ttlMs <= 120_000, "a presence expires, well after liveness: " + ttlMs);

        // A node gone for longer than its presence lasts: nothing of it left but its name in the set.
        assertEquals(":1", redis.command("SADD aw:{n}:nodes ghost"));
        final HttpResponse<String> toAll = a.publish(BROADCAST);
        assertEquals(202, toAll.statusCode(), toAll.body());
        assertEquals(1, ServerFixture.json(toAll).get("results").get(0).get("seqs").size(), toAll.body());
        assertEquals(":0", redis.command("SISMEMBER aw:{n}:nodes ghost"), "a node with nothing left is forgotten");

        // A node of an earlier build, gone: its presence was written without an expiry, which only its liveness
        // ended. It goes with the liveness, as it did then.
        assertEquals(":1", redis.command("SADD aw:{n}:nodes old"));
        assertEquals(":1", redis.command("SADD aw:{n}:node:old:present zed"));
        final HttpResponse<String> again = a.publish(BROADCAST);
        assertEquals(1, ServerFixture.json(again).get("results").get(0).get("seqs").size(), again.body());
        assertEquals(":0", redis.command("EXISTS aw:{n}:node:old:present"));
        assertEquals(":0", redis.command("SISMEMBER aw:{n}:nodes old"));
    }

    @Test
    void shouldForgetThePresenceOfAnEarlierProcessWithTheSameNodeId() throws Exception
    {
        // A node killed, then started again with the same id before its presence expired: its users then are not
        // connected to the new process, and the new one's beats must not keep them broadcast targets.
        assertEquals(":1", redis.command("SADD aw:{n}:node:a:present gone-user"));
        assertEquals(":1", redis.command("PEXPIRE aw:{n}:node:a:present 120000"));
        final ServerFixture a = cluster.node("a");
        present(a, "a", "ann");
        assertEquals(":0", redis.command("SISMEMBER aw:{n}:node:a:present gone-user"));
        final HttpResponse<String> toAll = a.publish(BROADCAST);
        assertEquals(1, ServerFixture.json(toAll).get("results").get(0).get("seqs").size(), toAll.body());
    }

    @Test
    void shouldWriteItsPresenceWholeAgainAfterWritesOfItFailed() throws Exception
    {
        // This one needs Redis's data across a restart: an append-only file.
        cluster.close();
        cluster = new RedisNodes(dir.resolve("durable"), true);
        redis = cluster.redis;
        final ServerFixture a = cluster.node("a");
        final WsClient ann = present(a, "a", "ann");
        // Redis is away for a while (stopped, then started with its data): a user who came meanwhile was never
        // added (the write was refused, not sent), one who left was never removed.
        redis.stop();
        final WsClient amy = a.connect("amy");
        ann.close();
        RecordingAwait.until(() -> a.metric("agentwire_cluster_redis_errors_total") >= 2, 10_000,
            "the two writes refused");
        redis.start();
        amy.nextOfType("welcome", 20_000);
        RecordingAwait.until(() -> ":1".equals(redis.command("SISMEMBER aw:{n}:node:a:present amy")) &&
            ":0".equals(redis.command("SISMEMBER aw:{n}:node:a:present ann")), 10_000,
            "the next beat writes the presence whole again: amy in, ann out");
        assertEquals(":1", redis.command("SCARD aw:{n}:node:a:present"));
        assertTrue(Long.parseLong(redis.command("PTTL aw:{n}:node:a:present").substring(1)) > 0, "with its expiry");
        assertEquals(1, a.metric("agentwire_cluster_presence_rewrites_total"));
    }

    @Test
    void shouldWriteItsPresenceAgainWhenRedisLostItAndCountIt() throws Exception
    {
        final ServerFixture a = cluster.node("a");
        present(a, "a", "ann");
        present(a, "a", "amy");
        assertEquals(":1", redis.command("DEL aw:{n}:node:a:present"));
        RecordingAwait.until(() -> ":2".equals(redis.command("SCARD aw:{n}:node:a:present")), 10_000,
            "the next beat writes the node's users again");
        assertEquals(1, a.metric("agentwire_cluster_presence_rewrites_total"));
        assertTrue(Long.parseLong(redis.command("PTTL aw:{n}:node:a:present").substring(1)) > 0, "with its expiry");
    }
}
