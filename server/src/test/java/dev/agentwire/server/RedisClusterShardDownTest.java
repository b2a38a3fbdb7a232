package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shard of a Redis Cluster dies and has no replica to take over, on a cluster that serves what it still covers
 * ({@code cluster-require-full-coverage no}): the users of the other shards must not notice. Their events are
 * published and delivered, and a gap one of them meets meanwhile (its node cut off and back) is repaired as ever;
 * the dead shard's users are answered 503 until it returns with its data, and then go on in the same stream. And a
 * node whose connection to one shard alone drops (each shard has its own) repairs what it missed there, though no
 * later event shows the gap.
 */
@Timeout(180)
class RedisClusterShardDownTest
{
    private static final String PASSWORD = "shard-down-password-0123";

    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();

    @Test
    void shouldKeepServingAndRepairingTheOtherShardsUsersWhileAShardWithoutAReplicaIsDown() throws Exception
    {
        final RedisClusterProcess redis = closing.add(
            new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0));
        for (final RedisClusterInstance instance : redis.instances)
        {
            assertEquals("OK", instance.cli("CONFIG", "SET", "cluster-require-full-coverage", "no").trim());
            // Node b is a Redis user of its own, so that its connections alone can be cut and kept out for a while.
            assertEquals("OK", instance.cli("ACL", "SETUSER", "node-b", "on", ">" + PASSWORD, "~*", "&*", "+@all")
                .trim());
        }
        final String seeds = redis.instances.stream().map(i -> "127.0.0.1:" + i.port)
            .collect(Collectors.joining(","));
        final ServerFixture a = node("a", "redis://" + seeds);
        final ServerFixture b = node("b", "redis://node-b:" + PASSWORD + "@" + seeds);
        final String lost = "lost-user";
        final RedisClusterInstance down = redis.primaryOf(SlotMoves.slotOfUser(lost));
        String kept = null;
        for (int u = 0; kept == null; u++)
        {
            kept = redis.primaryOf(SlotMoves.slotOfUser("kept-" + u)) != down ? "kept-" + u : null;
        }
        final WsClient lostUser = b.connect(lost);
        final long lostEpoch = lostUser.nextOfType("welcome", 10_000).get("epoch").asLong();
        final WsClient keptUser = b.connect(kept);
        final long keptEpoch = keptUser.nextOfType("welcome", 10_000).get("epoch").asLong();
        assertEquals(202, a.publish(ServerFixture.note(lost, "before")).statusCode());
        assertEquals(202, a.publish(ServerFixture.note(kept, "before")).statusCode());
        assertEquals(1, lostUser.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        assertEquals(1, keptUser.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());

        // The lost user's shard dies, with no replica to promote; the others go on serving their slots.
        down.kill();
        awaitFlaggedDown(redis, down);
        RecordingAwait.until(() -> b.metric("agentwire_cluster_subscriptions_away") == 1, 10_000,
            "b's subscription connection to the dead shard counted away");
        assertEquals(202, a.publishUntilAccepted(ServerFixture.note(kept, "during"), 30_000));
        assertEquals(2, keptUser.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        // The dead shard's user: its shard's connection is down, so the call is not sent and the answer says so at
        // once (queued behind the reconnect, it could only time out: outcome unknown, after the command timeout).
        final HttpResponse<String> refused = a.publish(ServerFixture.note(lost, "during"));
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("unavailable", ServerFixture.json(refused).get("error").get("code").asText(), refused.body());
        assertEquals("not_attempted", ServerFixture.json(refused).get("results").get(0).get("status").asText(),
            refused.body());

        // Node b is cut off the live shards while the kept user's next (and last) event is published through a.
        for (final RedisClusterInstance instance : redis.instances)
        {
            if (instance != down)
            {
                assertEquals("OK", instance.cli("ACL", "SETUSER", "node-b", "off").trim());
                instance.cli("CLIENT", "KILL", "USER", "node-b");
            }
        }
        assertEquals(202, a.publish(ServerFixture.note(kept, "gap")).statusCode());
        for (final RedisClusterInstance instance : redis.instances)
        {
            if (instance != down)
            {
                assertEquals("OK", instance.cli("ACL", "SETUSER", "node-b", "on").trim());
            }
        }
        // Back, b learns the stream moved on and fills the gap, though one shard it follows is still down.
        final JsonNode gap = keptUser.collect(WsClient::isEvent, 1, 20_000).get(0);
        assertEquals(3, gap.get("seq").asLong());
        assertEquals(keptEpoch, gap.get("epoch").asLong());
        assertEquals("gap", gap.get("id").asText());

        // The dead shard returns with its data: its user's stream goes on where it was.
        down.start();
        // An ACL user made at runtime is not in the append-only file: made again, as an ACL file would keep it.
        assertEquals("OK", down.cli("ACL", "SETUSER", "node-b", "on", ">" + PASSWORD, "~*", "&*", "+@all").trim());
        redis.awaitOk(RedisClusterProcess.OK_TIMEOUT_MS);
        assertEquals(202, a.publishUntilAccepted(ServerFixture.note(lost, "after"), 30_000));
        final JsonNode after = lostUser.collect(WsClient::isEvent, 1, 20_000).get(0);
        assertEquals(lostEpoch, after.get("epoch").asLong(), "the same stream: " + after);
        assertEquals("after", after.get("id").asText());
        assertEquals(0, b.metric("agentwire_engine_stream_resets_total"), "no stream restarted");
        RecordingAwait.until(() -> b.metric("agentwire_cluster_subscriptions_away") == 0, 20_000,
            "every subscription connection back");
    }

    @Test
    void shouldRepairAQuietStreamWhoseShardAloneDroppedTheNodesConnection() throws Exception
    {
        final RedisClusterProcess redis = closing.add(
            new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0));
        for (final RedisClusterInstance instance : redis.instances)
        {
            assertEquals("OK", instance.cli("ACL", "SETUSER", "node-b", "on", ">" + PASSWORD, "~*", "&*", "+@all")
                .trim());
        }
        // The user's shard is not the one node b was given (where its first subscription connection goes).
        final RedisClusterInstance seed = redis.instances.get(0);
        String user = null;
        for (int u = 0; user == null; u++)
        {
            user = redis.primaryOf(SlotMoves.slotOfUser("blip-" + u)) != seed ? "blip-" + u : null;
        }
        final RedisClusterInstance shard = redis.primaryOf(SlotMoves.slotOfUser(user));
        final ServerFixture a = node("a", redis.url());
        final ServerFixture b = node("b", "redis://node-b:" + PASSWORD + "@127.0.0.1:" + seed.port);
        final WsClient socket = b.connect(user);
        final long epoch = socket.nextOfType("welcome", 10_000).get("epoch").asLong();
        assertEquals(202, a.publish(ServerFixture.note(user, "first")).statusCode());
        assertEquals(1, socket.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());

        // Only that shard drops node b's connections, and keeps it out while the user's last event is published.
        assertEquals("OK", shard.cli("ACL", "SETUSER", "node-b", "off").trim());
        shard.cli("CLIENT", "KILL", "USER", "node-b");
        assertEquals(202, a.publish(ServerFixture.note(user, "last")).statusCode());
        assertEquals("OK", shard.cli("ACL", "SETUSER", "node-b", "on").trim());

        // No later event shows the gap: the check after the shard's connection came back finds it.
        final JsonNode last = socket.collect(WsClient::isEvent, 1, 20_000).get(0);
        assertEquals(2, last.get("seq").asLong());
        assertEquals(epoch, last.get("epoch").asLong());
        assertEquals("last", last.get("id").asText());
    }

    /** Waits until every live instance flags the dead one as failed (after the cluster's node timeout). */
    private static void awaitFlaggedDown(final RedisClusterProcess redis, final RedisClusterInstance down)
        throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (final RedisClusterInstance instance : redis.instances)
        {
            while (instance != down && !instance.cli("CLUSTER", "NODES").lines()
                .anyMatch(line -> line.contains(":" + down.port + "@") && line.contains("fail") &&
                    !line.contains("fail?")))
            {
                assertTrue(System.nanoTime() < deadline, "the shard was never flagged failed");
                Thread.sleep(100);
            }
        }
    }


    private ServerFixture node(final String name, final String url) throws Exception
    {
        return closing.add(ServerFixture.clusterNode(dir, name, url));
    }
}
