package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Redis Cluster under two nodes is resized while events keep coming, as an operator grows and shrinks it: a
 * fourth primary joins ({@code redis-cli --cluster add-node}), users' slots move to it one by one and then a share
 * of every shard's ({@code --cluster rebalance}), and one of the first primaries leaves, every slot of it moved off
 * and the shard forgotten ({@code --cluster del-node}) and stopped. Every user keeps one stream through it all (the
 * same epoch, every event once and in order, none lost), the nodes publish and follow on the new shapes without a
 * restart, a node started after the scale-in from a seed list led by the removed node starts, and a user resumes on
 * the other node from history that moved twice.
 */
@Timeout(240)
class RedisClusterScalingTest
{
    private static final int USERS = 12;
    /** A bound only: the publisher is stopped once the cluster has its last shape. */
    private static final int MAX_ROUNDS = 2_000;
    private static final long PAUSE_MS = 200;

    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();

    @Test
    void shouldKeepEveryStreamWholeWhileTheRedisClusterGrowsByAShardAndShrinksByAnother() throws Exception
    {
        final RedisClusterProcess redis = closing.add(
            new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0));
        final List<ServerFixture> nodes = List.of(node("a", redis), node("b", redis));
        final List<String> names = new ArrayList<>();
        final List<WsClient> users = new ArrayList<>();
        final List<Long> epochs = new ArrayList<>();
        for (int u = 0; u < USERS; u++)
        {
            names.add("grower-" + u);
            final WsClient user = nodes.get(u % 2).connect(names.get(u));
            epochs.add(user.nextOfType("welcome", 10_000).get("epoch").asLong());
            users.add(user);
        }
        final RoundPublisher publisher = new RoundPublisher(nodes.get(0), names, MAX_ROUNDS);
        awaitRounds(publisher, 5);

        // Out: a new primary, half the users' slots moved to it slowly, then a share of every shard's.
        final RedisClusterInstance added = redis.addPrimary();
        for (int u = 0; u < USERS; u += 2)
        {
            SlotMoves.migrateSlowly(redis, SlotMoves.slotOfUser(names.get(u)), added, PAUSE_MS);
        }
        redis.rebalance();
        final int afterGrowth = awaitRounds(publisher, publisher.accepted() + 5);

        // In: a first primary that holds some of the users leaves.
        final RedisClusterInstance removed = redis.primaryOf(SlotMoves.slotOfUser(names.get(1)));
        assertNotEquals(added, removed, "the odd users' slots stayed where they were");
        redis.removePrimary(removed);
        assertFalse(removed.process.isAlive(), "the shard is gone");
        awaitRounds(publisher, publisher.accepted() + 5);
        publisher.stop();
        assertNull(publisher.await(TimeUnit.SECONDS.toMillis(60)), "every round accepted");
        final int rounds = publisher.accepted();
        assertTrue(rounds > afterGrowth, "rounds published after the shard left: " + rounds);

        for (int u = 0; u < USERS; u++)
        {
            final List<JsonNode> events = users.get(u).collect(WsClient::isEvent, rounds, 20_000);
            for (int r = 0; r < rounds; r++)
            {
                assertEquals(r + 1, events.get(r).get("seq").asLong(), names.get(u) + ": " + events);
                assertEquals(epochs.get(u), events.get(r).get("epoch").asLong(), "one stream: " + events.get(r));
                assertEquals("r" + r, events.get(r).get("id").asText(), "in order: " + events.get(r));
            }
        }

        // A node started now, given the removed node first among its seeds, starts from the next one and follows.
        final ServerFixture late = node("c", "redis://127.0.0.1:" + removed.port + ",127.0.0.1:" + added.port);
        final WsClient second = late.connect(names.get(0));
        second.nextOfType("welcome", 10_000);

        // The other node publishes on the last shape too, and each user's next event follows on the same stream.
        final RoundPublisher last = new RoundPublisher(nodes.get(1), names, rounds, rounds + 1);
        assertNull(last.await(TimeUnit.SECONDS.toMillis(30)), "a round through the other node");
        for (int u = 0; u < USERS; u++)
        {
            final JsonNode next = users.get(u).collect(WsClient::isEvent, 1, 10_000).get(0);
            assertEquals(rounds + 1, next.get("seq").asLong(), names.get(u) + ": " + next);
            assertEquals(epochs.get(u), next.get("epoch").asLong());
        }
        assertEquals(rounds + 1, second.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        Thread.sleep(300);
        for (final WsClient user : users)
        {
            assertFalse(user.messages.stream().anyMatch(WsClient::isEvent), "nothing twice: " + user.messages);
        }

        // A user whose history moved to the new shard resumes on the other node from it.
        final WsClient back = nodes.get(1).connectWith(Tokens.hs256(names.get(0), 60_000),
            "epoch=" + epochs.get(0) + "&after=" + (rounds - 5));
        back.nextOfType("welcome", 10_000);
        assertTrue(back.nextOfType("resumed", 10_000).get("recovered").asBoolean());
        final List<JsonNode> missed = back.collect(WsClient::isEvent, 6, 10_000);
        assertEquals(rounds + 1, missed.get(5).get("seq").asLong(), "the history read where it now lives");
        for (final ServerFixture node : nodes)
        {
            assertEquals(0, node.metric("agentwire_engine_stream_resets_total"), "no stream restarted");
        }
    }

    @Test
    void shouldRefuseToStartOnSeedsThatAreASingleRedisOrThatNoneAnswers() throws Exception
    {
        final RedisProcess single = closing.add(
            new RedisProcess(Files.createDirectories(dir.resolve("single")), false));
        final String twice = "redis://127.0.0.1:" + single.port + ",127.0.0.1:" + single.port;
        final IllegalStateException notCluster = assertThrows(IllegalStateException.class, () -> node("a", twice));
        assertEquals("redisUrl lists seeds=2 but seed=1 is a single Redis, not a Redis Cluster node: a single Redis " +
            "takes one host (one that Sentinel fails over: redis-sentinel://)", notCluster.getMessage());

        final String closed = "redis://:a-password@127.0.0.1:" + TestPorts.free() + ",127.0.0.1:" + TestPorts.free();
        final String refused = assertThrows(IllegalStateException.class, () -> node("b", closed)).getMessage();
        assertTrue(refused.startsWith("redis unreachable at start: redisUrl=<set> seeds=2 (none answered; the last:)" +
            " cause="), refused);
        assertFalse(refused.contains("a-password"), refused);
    }

    /** @return the rounds accepted, once at least {@code rounds} were (the publisher keeps publishing). */
    private static int awaitRounds(final RoundPublisher publisher, final int rounds) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (publisher.accepted() < rounds && System.nanoTime() < deadline)
        {
            Thread.sleep(20);
        }
        assertTrue(publisher.accepted() >= rounds, "rounds accepted: " + publisher.accepted() + " of " + rounds);
        return publisher.accepted();
    }


    private ServerFixture node(final String name, final RedisClusterProcess redis) throws Exception
    {
        return node(name, redis.url());
    }

    private ServerFixture node(final String name, final String url) throws Exception
    {
        return closing.add(new ServerFixture(Files.createDirectories(dir.resolve(name)),
            b -> b.redisUrl(url).nodeId(name).producerRatePerSec(1_000_000).producerBurst(1_000_000),
            AgentWireConfig.builder().sliceCount(1)));
    }
}
