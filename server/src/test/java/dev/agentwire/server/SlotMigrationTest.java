package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import io.lettuce.core.cluster.SlotHash;
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

/**
 * Users' slots migrate to another shard slowly, by hand, while their events keep coming: each slot is half-moved for a
 * while before its keys go and again after, as when a large slot moves, so publishes meet the redirects a migration
 * makes. Every user must keep one stream: the same epoch, every event once and in order, and the migration must
 * finish (a second stream begun on the importing shard made it fail on keys both shards held).
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
        final RedisClusterProcess.Instance from = redis.primaryOf(slotOf("mover-0"));
        final List<String> names = new ArrayList<>();
        for (int u = 0; names.size() < USERS; u++)
        {
            if (redis.primaryOf(slotOf("mover-" + u)) == from)
            {
                names.add("mover-" + u);
            }
        }
        RedisClusterProcess.Instance to = null;
        for (final RedisClusterProcess.Instance instance : redis.instances)
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
            migrateSlot(redis, slotOf(name), to);
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

    /**
     * Moves one slot as {@code redis-cli --cluster reshard} does, but slowly: importing and migrating for
     * {@link #PAUSE_MS} before the keys go (MIGRATE), and again after, then the slot given to its new shard.
     */
    private static void migrateSlot(final RedisClusterProcess redis, final int slot,
        final RedisClusterProcess.Instance to) throws Exception
    {
        final RedisClusterProcess.Instance from = redis.primaryOf(slot);
        final String fromId = from.cli("CLUSTER", "MYID").trim();
        final String toId = to.cli("CLUSTER", "MYID").trim();
        final String at = Integer.toString(slot);
        expectOk(to.cli("CLUSTER", "SETSLOT", at, "IMPORTING", fromId));
        expectOk(from.cli("CLUSTER", "SETSLOT", at, "MIGRATING", toId));
        Thread.sleep(PAUSE_MS);
        for (String keys = from.cli("CLUSTER", "GETKEYSINSLOT", at, "100"); !keys.isBlank();
             keys = from.cli("CLUSTER", "GETKEYSINSLOT", at, "100"))
        {
            final List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", Integer.toString(to.port),
                "", "0", "5000", "KEYS"));
            migrate.addAll(List.of(keys.trim().split("\n")));
            expectOk(from.cli(migrate.toArray(new String[0])));
        }
        Thread.sleep(PAUSE_MS);
        for (final RedisClusterProcess.Instance instance : redis.instances)
        {
            if (instance.isPrimary())
            {
                expectOk(instance.cli("CLUSTER", "SETSLOT", at, "NODE", toId));
            }
        }
        redis.awaitOk(RedisClusterProcess.OK_TIMEOUT_MS);
    }

    private static void expectOk(final String answer)
    {
        assertEquals("OK", answer.trim(), "a migration step");
    }

    private static int slotOf(final String user)
    {
        return SlotHash.getSlot("aw:{u:" + user + "}:s");
    }

    private ServerFixture node(final String name, final RedisClusterProcess redis) throws Exception
    {
        return closing.add(new ServerFixture(Files.createDirectories(dir.resolve(name)),
            b -> b.redisUrl(redis.url()).nodeId(name).producerRatePerSec(1_000_000).producerBurst(1_000_000),
            AgentWireConfig.builder().sliceCount(1)));
    }
}
