package dev.agentwire.server;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Moves one slot of a Redis Cluster by hand, step by step, as {@code redis-cli --cluster reshard} does for each slot
 * (importing, migrating, the keys with {@code MIGRATE}, then the slot given to its new shard), so a test can hold
 * the slot half-moved while events keep coming and publishes meet the {@code ASK} and {@code MOVED} redirects a
 * migration makes.
 */
final class SlotMoves
{
    private SlotMoves()
    {
    }

    /** Moves one slot slowly: importing and migrating for {@code pauseMs} before its keys go, and again after. */
    static void migrateSlowly(final RedisClusterProcess redis, final int slot, final RedisClusterInstance to,
        final long pauseMs) throws Exception
    {
        final RedisClusterInstance from = redis.primaryOf(slot);
        if (from == to)
        {
            return;
        }
        final String toId = begin(from, to, slot);
        Thread.sleep(pauseMs);
        moveKeys(from, to, slot);
        Thread.sleep(pauseMs);
        finish(redis, slot, toId);
    }

    /** @return the importing shard's id, once the slot is importing there and migrating here. */
    static String begin(final RedisClusterInstance from, final RedisClusterInstance to,
        final int slot) throws Exception
    {
        final String fromId = from.cli("CLUSTER", "MYID").trim();
        final String toId = to.cli("CLUSTER", "MYID").trim();
        final String at = Integer.toString(slot);
        expectOk(to.cli("CLUSTER", "SETSLOT", at, "IMPORTING", fromId));
        expectOk(from.cli("CLUSTER", "SETSLOT", at, "MIGRATING", toId));
        return toId;
    }

    /** Moves every key of the slot (MIGRATE, a hundred at a time). */
    static void moveKeys(final RedisClusterInstance from, final RedisClusterInstance to,
        final int slot) throws Exception
    {
        final String at = Integer.toString(slot);
        for (String keys = from.cli("CLUSTER", "GETKEYSINSLOT", at, "100"); !keys.isBlank();
             keys = from.cli("CLUSTER", "GETKEYSINSLOT", at, "100"))
        {
            final List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", Integer.toString(to.port),
                "", "0", "5000", "KEYS"));
            migrate.addAll(List.of(keys.trim().split("\n")));
            expectOk(from.cli(migrate.toArray(new String[0])));
        }
    }

    /** Gives the slot to its new shard on every primary, and waits for the cluster to agree. */
    static void finish(final RedisClusterProcess redis, final int slot, final String toId) throws Exception
    {
        for (final RedisClusterInstance instance : redis.instances)
        {
            if (instance.process.isAlive() && instance.isPrimary())
            {
                expectOk(instance.cli("CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", toId));
            }
        }
        redis.awaitOk(RedisClusterProcess.OK_TIMEOUT_MS);
    }

    /** @return the slot of a user's stream: every key and the channel of the user share its hash tag. */
    static int slotOfUser(final String user)
    {
        return io.lettuce.core.cluster.SlotHash.getSlot("aw:{u:" + user + "}:s");
    }

    private static void expectOk(final String answer)
    {
        assertEquals("OK", answer.trim(), "a migration step");
    }
}
