package dev.agentwire.server.cluster;

import dev.agentwire.core.PresenceListener;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * This node as Redis sees it: its liveness, a key beaten every {@link #HEARTBEAT_INTERVAL_MS} that is gone
 * {@link #NODE_TTL_MS} after the last beat; and its presence, the users connected here, whom a broadcast numbers on
 * this node's behalf (publish.lua).
 * <p>
 * Presence outlives liveness ({@link #PRESENCE_TTL_MS}). A node that cannot beat for a while (a long pause, Redis
 * stalled, or out of its reach) keeps its sockets, and the feed repairs whatever their streams missed once it is
 * back; if its presence went with its liveness, the broadcasts of that time were numbered for none of its users, and
 * nothing would show them missing. So a broadcast reaches the users of every node whose presence Redis holds, and a
 * dead node's users stay its targets for as long (they get those events when they resume elsewhere). A node that
 * finds its presence gone (it could not beat for longer, or Redis lost its data) writes it again and counts it: the
 * broadcasts of that time did not reach its users ({@link #rewrites}, logged).
 * <p>
 * Threading: beats run on the link's executor; connects and disconnects come from the slices.
 */
final class NodePresence implements PresenceListener
{
    /** A node whose liveness key is older than this is not counted among live nodes (its producer sockets). */
    static final long NODE_TTL_MS = 10_000;
    static final long HEARTBEAT_INTERVAL_MS = 2_000;
    /** How long Redis keeps a node's presence after its last beat: the longest pause its users' broadcasts outlast. */
    static final long PRESENCE_TTL_MS = 120_000;
    private static final Logger LOG = LoggerFactory.getLogger(NodePresence.class);
    private static final byte[] PRESENCE_TTL = bytes(Long.toString(PRESENCE_TTL_MS));

    /** Times this node found its presence gone from Redis while users were connected, and wrote it again. */
    final LongAdder rewrites = new LongAdder();
    private final String nodeId;
    private final String nodesKey;
    private final String nodeKey;
    private final String presentKey;
    /** heartbeat.lua's keys and arguments (the producer count, [3], filled in at each beat). */
    private final String[] keys;
    private final byte[][] beatArgs;
    private final RedisClusterAsyncCommands<String, byte[]> commands;
    private final LuaScript heartbeat;
    private final IntSupplier localProducers;
    private final LongAdder redisErrors;
    private final Consumer<Throwable> onError;
    /** The users connected here (under this object's lock, as everything that tells Redis of them). */
    private final Set<String> present = new HashSet<>();
    private volatile boolean reachable = true;
    private volatile int clusterProducers;
    /** Users added to the presence so far (under this object's lock). */
    private long adds;

    NodePresence(
        final String prefix,
        final String nodeId,
        final RedisClusterAsyncCommands<String, byte[]> commands,
        final LuaScript heartbeat,
        final IntSupplier localProducers,
        final LongAdder redisErrors,
        final Consumer<Throwable> onError)
    {
        this.nodeId = nodeId;
        this.nodesKey = StreamCodec.nodesKey(prefix);
        this.nodeKey = StreamCodec.nodeKey(prefix, nodeId);
        this.presentKey = nodeKey + ":present";
        this.keys = new String[]{nodesKey, nodeKey, nodeKey + ":producers", presentKey};
        this.beatArgs = new byte[][]{bytes(prefix), bytes(nodeId), bytes(Long.toString(NODE_TTL_MS)), null,
            PRESENCE_TTL};
        this.commands = commands;
        this.heartbeat = heartbeat;
        this.localProducers = localProducers;
        this.redisErrors = redisErrors;
        this.onError = onError;
    }

    /** @return whether the last heartbeat reached Redis. */
    boolean isReachable()
    {
        return reachable;
    }

    /** @return producer sockets on all live nodes, as of the last heartbeat. */
    int clusterProducers()
    {
        return clusterProducers;
    }

    @Override
    public void onFirstConnected(final String userId)
    {
        synchronized (this)
        {
            present.add(userId);
            // Its expiry at once: a set made by this add and never beaten (the node died first) would outlive it.
            commands.sadd(presentKey, bytes(userId)).exceptionally(this::failed);
            commands.pexpire(presentKey, PRESENCE_TTL_MS).exceptionally(this::failed);
            adds++;
        }
    }

    @Override
    public void onLastDisconnected(final String userId)
    {
        synchronized (this)
        {
            present.remove(userId);
            commands.srem(presentKey, bytes(userId)).exceptionally(this::failed);
        }
    }

    /**
     * One beat (heartbeat.lua): liveness, producer count and presence's expiry renewed; presence written again if
     * Redis no longer held it. Sent under the lock the users' adds and removes take, so every add counted before it
     * reached Redis first (one connection keeps commands in order): a presence found missing while users were
     * present and nobody was added since is gone, not yet to come.
     */
    void beat()
    {
        final byte[][] args = beatArgs.clone();
        args[3] = bytes(Integer.toString(localProducers.getAsInt()));
        final long addsBefore;
        final CompletionStage<List<Object>> reply;
        synchronized (this)
        {
            addsBefore = adds;
            reply = heartbeat.run(commands, keys, args);
        }
        reply.whenComplete((answer, error) ->
        {
            if (error != null)
            {
                if (reachable)
                {
                    LOG.warn("redis unreachable: node={} cause={}", nodeId, error.toString());
                }
                reachable = false;
                redisErrors.increment();
                return;
            }
            if (!reachable)
            {
                LOG.info("redis reachable again: node={}", nodeId);
            }
            reachable = true;
            clusterProducers = ((Number)answer.get(0)).intValue();
            if (((Number)answer.get(1)).longValue() == 0)
            {
                rewrite(addsBefore);
            }
        });
    }

    /**
     * Redis no longer held this node's presence: the users connected here are written again, with its expiry, unless
     * one was added after the beat that found it missing (then the next beat tells).
     */
    private synchronized void rewrite(final long addsBefore)
    {
        if (present.isEmpty() || adds != addsBefore)
        {
            return;
        }
        final List<byte[]> users = new ArrayList<>();
        for (final String user : present)
        {
            users.add(bytes(user));
        }
        rewrites.increment();
        LOG.warn("presence gone from redis, written again: node={} users={} (broadcasts published while it was " +
            "gone did not reach them)", nodeId, users.size());
        for (int from = 0; from < users.size(); from += 1_000)
        {
            final List<byte[]> chunk = users.subList(from, Math.min(users.size(), from + 1_000));
            commands.sadd(presentKey, chunk.toArray(new byte[0][])).exceptionally(this::failed);
        }
        commands.pexpire(presentKey, PRESENCE_TTL_MS).exceptionally(this::failed);
    }

    /** Leaves the cluster's view: its users stop being broadcast targets at once. */
    void leave(final RedisClusterCommands<String, byte[]> sync)
    {
        sync.del(nodeKey, presentKey, nodeKey + ":producers");
        sync.srem(nodesKey, bytes(nodeId));
    }

    private <T> T failed(final Throwable error)
    {
        onError.accept(error);
        return null;
    }

    private static byte[] bytes(final String value)
    {
        return value.getBytes(StandardCharsets.UTF_8);
    }
}
