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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Users' slots migrate to another shard slowly, by hand, while their events keep coming: each slot is half-moved for a
 * while before its keys go and again after, as when a large slot moves, so publishes meet the redirects a migration
 * makes. Every user must keep one stream: the same epoch, every event once and in order, and the migration must
 * finish (a second stream begun on the importing shard made it fail on keys both shards held). And a user whose keys
 * have moved while the slot still migrates resumes on another node (its history read on the importing shard through
 * {@code ASK}), as the Redis user docs/CLUSTER.md documents, and keeps its stream once the slot has moved.
 */
@Timeout(180)
class SlotMigrationTest
{
    private static final int USERS = 4;
    private static final int ROUNDS = 30;
    private static final long PAUSE_MS = 400;

    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();


    @Test
    void shouldKeepEveryStreamWholeWhileItsSlotMigratesSlowly() throws Exception
    {
        final RedisClusterProcess redis = closing.add(
            new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0));
        final ServerFixture a = node("a", redis);
        final ServerFixture b = node("b", redis);
        // Users whose streams live on one shard, and another shard to move them to.
        final RedisClusterInstance from = redis.primaryOf(SlotMoves.slotOfUser("mover-0"));
        final List<String> names = new ArrayList<>();
        for (int u = 0; names.size() < USERS; u++)
        {
            if (redis.primaryOf(SlotMoves.slotOfUser("mover-" + u)) == from)
            {
                names.add("mover-" + u);
            }
        }
        RedisClusterInstance to = null;
        for (final RedisClusterInstance instance : redis.instances)
        {
            to = instance != from && instance.isPrimary() ? instance : to;
        }
        final List<WsClient> users = new ArrayList<>();
        final List<Long> epochs = new ArrayList<>();
        for (final String name : names)
        {
            final WsClient user = b.connect(name);
            epochs.add(user.nextOfType("welcome", 10_000).get("epoch").asLong());
            users.add(user);
        }

        final RoundPublisher publisher = new RoundPublisher(a, names, ROUNDS);
        for (final String name : names)
        {
            SlotMoves.migrateSlowly(redis, SlotMoves.slotOfUser(name), to, PAUSE_MS);
        }
        assertNull(publisher.await(TimeUnit.SECONDS.toMillis(90)), "every round accepted");

        for (int u = 0; u < USERS; u++)
        {
            final List<JsonNode> events = users.get(u).collect(WsClient::isEvent, ROUNDS, 20_000);
            for (int r = 0; r < ROUNDS; r++)
            {
                assertEquals(r + 1, events.get(r).get("seq").asLong(), names.get(u) + ": " + events);
                assertEquals(epochs.get(u), events.get(r).get("epoch").asLong(), "one stream: " + events.get(r));
            }
        }
        Thread.sleep(300);
        for (final WsClient user : users)
        {
            assertFalse(user.messages.stream().anyMatch(WsClient::isEvent), "nothing twice: " + user.messages);
        }
    }

    @Test
    void shouldResumeAndFollowAUserWhoseKeysMovedBeforeItsSlotDidAsTheDocumentedRedisUser() throws Exception
    {
        final RedisClusterProcess redis = closing.add(
            new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0));
        final String password = "migration-acl-password-0123";
        final String[] acl = RedisAclTest.documentedAcl().replace(" >change-me ", " >" + password + " ").split(" ");
        for (final RedisClusterInstance instance : redis.instances)
        {
            assertEquals("OK", RedisAclTest.cli(instance.port, acl).trim());
        }
        final String url = "redis://agentwire:" + password + "@127.0.0.1:" + redis.instances.get(0).port;
        final ServerFixture a = node("a", url);
        final ServerFixture b = node("b", url);
        final String name = "asker";
        final WsClient first = b.connect(name);
        final long epoch = first.nextOfType("welcome", 10_000).get("epoch").asLong();
        assertEquals(202, a.publish(ServerFixture.runBatch(name, "r1")).statusCode());
        assertEquals(5, first.collect(WsClient::isEvent, 5, 10_000).size());
        first.close();

        // The user's keys go to another shard, and its slot stays migrating: the old shard answers ASK for them.
        final int slot = SlotMoves.slotOfUser(name);
        final RedisClusterInstance from = redis.primaryOf(slot);
        RedisClusterInstance to = null;
        for (final RedisClusterInstance instance : redis.instances)
        {
            to = instance != from && instance.isPrimary() ? instance : to;
        }
        final String toId = SlotMoves.begin(from, to, slot);
        SlotMoves.moveKeys(from, to, slot);

        // A resume on the other node reads the history where the keys now are (following ASK, as the documented user).
        final WsClient back = a.connectWith(Tokens.hs256(name, 60_000), "epoch=" + epoch + "&after=2");
        back.nextOfType("welcome", 10_000);
        assertTrue(back.nextOfType("resumed", 10_000).get("recovered").asBoolean());
        final List<JsonNode> missed = back.collect(WsClient::isEvent, 3, 10_000);
        assertEquals(List.of(3L, 4L, 5L), missed.stream().map(e -> e.get("seq").asLong()).toList());

        // The migration ends, and the user's next event reaches the resumed socket on the same stream.
        SlotMoves.finish(redis, slot, toId);
        final String event = ServerFixture.note(name, "after");
        final int status = b.publishUntilAccepted(event, 20_000);
        assertEquals(202, status);
        final JsonNode next = back.collect(WsClient::isEvent, 1, 10_000).get(0);
        assertEquals(6, next.get("seq").asLong());
        assertEquals(epoch, next.get("epoch").asLong());
        assertEquals(0, a.metric("agentwire_engine_stream_resets_total"), "the socket kept, no resume asked");
        for (final RedisClusterInstance instance : redis.instances)
        {
            assertEquals("", RedisAclTest.cli(instance.port, "ACL", "LOG").trim(), "nothing refused: " + instance.port);
        }
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
