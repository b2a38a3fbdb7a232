package dev.agentwire.server.cluster;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where each key and sharded channel lives: on a single Redis, one shard; on a Redis Cluster, the primary that
 * serves the key's slot, as the client's slot map says. The one place that routes by shard, for the sequencer's
 * group commits, the feed's subscriptions and the head announcements.
 */
final class Shards
{
    static final String SINGLE_SHARD = "single";

    private final RedisClusterClient sharded;
    private final Executor executor;
    private final LongAdder errors;
    /**
     * For how long every watch reads the slot map again after the epoch moved. The epoch moves when a failover's
     * election starts, before the slots move, and a map read just after may still be one a shard has not updated:
     * how long the shards take to agree is time, not watches (ShardsTest failed without these reads). Its later CI
     * failures, first blamed on these reads, were its failover not happening: the replica was still in its first
     * sync (RedisClusterProcess#failover now waits for one in sync).
     */
    static final long REREAD_AFTER_EPOCH_CHANGE_MS = 10_000;
    /** The cluster's epoch at the last answer of {@link #watch}, or -1; on the executor only. */
    private long epoch = -1;
    /** Until when (nanoTime) every watch reads the slot map again: the epoch moved; on the executor only. */
    private long rereadUntilNs = System.nanoTime();
    /** {@link #watch}'s last question, until answered. */
    private java.util.concurrent.CompletableFuture<String> asked;
    /** A read of the slot map is queued and has not started: more asks for one are that one. */
    private final AtomicBoolean refreshQueued = new AtomicBoolean();

    /**
     * @param sharded  the Redis Cluster client, or null for a single Redis.
     * @param executor where a slot map refresh runs (it blocks).
     * @param errors   counts refreshes that failed.
     */
    Shards(final RedisClusterClient sharded, final Executor executor, final LongAdder errors)
    {
        this.sharded = sharded;
        this.executor = executor;
        this.errors = errors;
    }

    /** @return whether Redis is a sharded Redis Cluster (scripts then check their keys are served where they run). */
    boolean isSharded()
    {
        return sharded != null;
    }

    /**
     * Subscribes (or unsubscribes) channels on a shard's connection: the one connection for a single Redis, the
     * connection to the given shard (see {@link #shardOf}) for a sharded one, where channels live on their slot's
     * primary.
     */
    java.util.concurrent.CompletableFuture<Void> ssubscribe(
        final StatefulRedisPubSubConnection<String, byte[]> pubSub, final String shard, final boolean subscribe,
        final String... channels)
    {
        if (sharded == null)
        {
            final RedisFuture<Void> done = subscribe ? pubSub.async().ssubscribe(channels) :
                pubSub.async().sunsubscribe(channels);
            return done.toCompletableFuture();
        }
        final io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection<String, byte[]> cluster =
            (io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection<String, byte[]>)pubSub;
        // SSUBSCRIBE takes the channels of one slot at a time: one command per slot, on its shard's connection.
        final java.util.Map<Integer, List<String>> bySlot = new java.util.HashMap<>();
        for (final String channel : channels)
        {
            bySlot.computeIfAbsent(SlotHash.getSlot(channel), k -> new ArrayList<>()).add(channel);
        }
        final List<java.util.concurrent.CompletableFuture<Void>> all = new ArrayList<>();
        for (final List<String> slot : bySlot.values())
        {
            final String[] some = slot.toArray(new String[0]);
            all.add(cluster.getConnectionAsync(shard).thenCompose(node ->
                (subscribe ? node.async().ssubscribe(some) : node.async().sunsubscribe(some)).toCompletableFuture()));
        }
        return java.util.concurrent.CompletableFuture.allOf(all.toArray(new java.util.concurrent.CompletableFuture[0]));
    }

    /**
     * @return the shard a key (or a sharded channel) lives on: its slot's primary's node id on a sharded Redis,
     *     one name for a single Redis.
     */
    String shardOf(final String key)
    {
        if (sharded == null)
        {
            return SINGLE_SHARD;
        }
        final RedisClusterNode node = sharded.getPartitions().getMasterBySlot(SlotHash.getSlot(key));
        return node == null ? SINGLE_SHARD : node.getNodeId();
    }

    /**
     * Asks a sharded Redis for its configuration's epoch ({@code CLUSTER INFO} on a connection already open, tens of
     * microseconds of Redis) and reads the slot map again when it moved: every failover raises it, as does a slot
     * migration to a shard whose epoch is not already the highest (the others are learnt on the redirect or the
     * {@code sunsubscribe} they cause), and at every watch for {@link #REREAD_AFTER_EPOCH_CHANGE_MS} after. Also
     * when the question failed or found no answer since the last call: the shard that answers may be the one going
     * away.
     * Called on the executor, every {@link RedisLink#SLOT_MAP_WATCH_MS}.
     */
    void watch(final RedisClusterAsyncCommands<String, byte[]> commands)
    {
        if (sharded == null)
        {
            return;
        }
        if (asked != null && !asked.isDone())
        {
            refresh();
            return;
        }
        if (System.nanoTime() - rereadUntilNs < 0)
        {
            refresh();
        }
        asked = commands.clusterInfo().toCompletableFuture();
        asked.whenCompleteAsync((info, error) ->
        {
            final long now = error == null ? currentEpoch(info) : -1;
            if (now < 0 || now != epoch)
            {
                epoch = now;
                rereadUntilNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REREAD_AFTER_EPOCH_CHANGE_MS);
                refresh();
            }
        }, executor);
    }

    /** @return {@code cluster_current_epoch} of a {@code CLUSTER INFO} answer, or -1 when it has none. */
    static long currentEpoch(final String info)
    {
        final String field = "cluster_current_epoch:";
        final int at = info == null ? -1 : info.indexOf(field);
        if (at < 0)
        {
            return -1;
        }
        final int from = at + field.length();
        int end = from;
        while (end < info.length() && Character.isDigit(info.charAt(end)))
        {
            end++;
        }
        return end == from ? -1 : Long.parseLong(info, from, end, 10);
    }

    /** @return a name for the current slot map: it changes when slots move or a replica is promoted. */
    String topology()
    {
        if (sharded == null)
        {
            return SINGLE_SHARD;
        }
        final List<String> owners = new ArrayList<>();
        for (final RedisClusterNode node : sharded.getPartitions())
        {
            if (node.is(RedisClusterNode.NodeFlag.UPSTREAM) && !node.hasNoSlots())
            {
                // The slots hashed as they are iterated: getSlots() boxes every slot into a new list.
                final int[] hash = {1};
                node.forEachSlot(slot -> hash[0] = 31 * hash[0] + slot);
                owners.add(node.getNodeId() + '=' + hash[0]);
            }
        }
        java.util.Collections.sort(owners);
        return String.join(";", owners);
    }

    /**
     * Asks a sharded Redis for its slot map now (after a redirect or a failover), unless a read is already queued:
     * a migration ends the subscription of every channel in its slots at once, and each asks.
     */
    void refresh()
    {
        if (sharded != null && refreshQueued.compareAndSet(false, true))
        {
            executor.execute(() ->
            {
                // Cleared before the read: an ask while it runs may have seen a later change, and queues one more.
                refreshQueued.set(false);
                try
                {
                    sharded.refreshPartitions();
                }
                catch (final RuntimeException ex)
                {
                    errors.increment();
                }
            });
        }
    }

    /** @return whether a failure means the slot map moved (retry on the right shard), not that Redis is away. */
    static boolean isTopologyError(final Throwable error)
    {
        final String message = String.valueOf(RedisLink.unwrap(error).getMessage());
        return message.startsWith("MOVED") || message.startsWith("ASK") || message.startsWith("TRYAGAIN") ||
            message.startsWith("CROSSSLOT") || message.startsWith("CLUSTERDOWN") ||
            message.contains("non local key") || message.contains("different hash slots");
    }
}
