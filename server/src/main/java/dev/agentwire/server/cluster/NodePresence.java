package dev.agentwire.server.cluster;

import dev.agentwire.core.PresenceListener;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
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
 * dead node's users stay its targets for as long (they get those events when they resume elsewhere).
 * <p>
 * What Redis holds is made right again at the next beat, whole, in one call (presence.lua), when it is wrong: gone
 * (the node could not beat for longer, or Redis lost its data), or missing a write that failed (Redis away or
 * refusing writes while a user came or left). Both are counted ({@link #rewrites}) and logged: broadcasts of that
 * time missed those users.
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

    /** Times this node wrote its presence whole again because Redis's copy was wrong (gone, or a write failed). */
    final LongAdder rewrites = new LongAdder();
    private final String nodeId;
    private final String nodesKey;
    private final String nodeKey;
    private final String presentKey;
    /** heartbeat.lua's keys and arguments (the producer counts, [3] all and [5] with room, filled in at each beat). */
    private final String[] keys;
    private final byte[][] beatArgs;
    private final RedisClusterAsyncCommands<String, byte[]> commands;
    private final LuaScript heartbeat;
    private final LuaScript replace;
    private final IntSupplier localProducers;
    /** This node's producer sockets with room for a user's message now. */
    private final IntSupplier localReady;
    /** Told each presence command that failed (the link counts it); the scripts tell it themselves. */
    private final Consumer<Throwable> onError;
    /** The users connected here (under this object's lock, as everything that tells Redis of them). */
    private final Set<String> present = new HashSet<>();
    private volatile boolean reachable = true;
    private volatile int clusterProducers;
    private volatile int otherProducers;
    private volatile int clusterReady;
    private volatile int otherReady;
    /** Users added to the presence so far (under this object's lock). */
    private long adds;
    /** A write of the presence failed since it was last written whole: Redis's copy may be wrong (under the lock). */
    private boolean stale;

    NodePresence(
        final String prefix,
        final String nodeId,
        final RedisClusterAsyncCommands<String, byte[]> commands,
        final LuaScript heartbeat,
        final LuaScript replace,
        final IntSupplier localProducers,
        final IntSupplier localReady,
        final Consumer<Throwable> onError)
    {
        this.nodeId = nodeId;
        this.nodesKey = StreamCodec.nodesKey(prefix);
        this.nodeKey = StreamCodec.nodeKey(prefix, nodeId);
        this.presentKey = nodeKey + ":present";
        this.keys = new String[]{nodesKey, nodeKey, nodeKey + ":producers", presentKey, nodeKey + ":ready"};
        this.beatArgs = new byte[][]{bytes(prefix), bytes(nodeId), bytes(Long.toString(NODE_TTL_MS)), null,
            PRESENCE_TTL, null};
        this.commands = commands;
        this.heartbeat = heartbeat;
        this.replace = replace;
        this.localProducers = localProducers;
        this.localReady = localReady;
        this.onError = onError;
    }

    /**
     * Joins the cluster's view: what Redis still holds of this node id's presence belongs to an earlier process (a
     * node restarted with the same id), whose users are not connected here: it is removed, then the first beat.
     */
    void start()
    {
        synchronized (this)
        {
            commands.del(presentKey).exceptionally(this::writeFailed);
        }
        beat();
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

    /** @return producer sockets on the other live nodes, as of the last heartbeat. */
    int otherProducers()
    {
        return otherProducers;
    }

    /** @return producer sockets on all live nodes that had room for a user's message at their last heartbeat. */
    int clusterReady()
    {
        return clusterReady;
    }

    /** @return producer sockets on the other live nodes that had room at their last heartbeat. */
    int otherReady()
    {
        return otherReady;
    }

    @Override
    public void onFirstConnected(final String userId)
    {
        synchronized (this)
        {
            present.add(userId);
            // Its expiry at once: a set made by this add and never beaten (the node died first) would outlive it.
            commands.sadd(presentKey, bytes(userId)).exceptionally(this::writeFailed);
            commands.pexpire(presentKey, PRESENCE_TTL_MS).exceptionally(this::writeFailed);
            adds++;
        }
    }

    @Override
    public void onLastDisconnected(final String userId)
    {
        synchronized (this)
        {
            present.remove(userId);
            commands.srem(presentKey, bytes(userId)).exceptionally(this::writeFailed);
        }
    }

    /**
     * One beat (heartbeat.lua): liveness, producer count and presence's expiry renewed; presence written whole if
     * Redis's copy is wrong. Sent under the lock the users' adds and removes take, so every add counted before it
     * reached Redis first (one connection keeps commands in order): a presence found missing while users were
     * present and nobody was added since is gone, not yet to come.
     */
    void beat()
    {
        final byte[][] args = beatArgs.clone();
        final int local = localProducers.getAsInt();
        final int localReadyNow = localReady.getAsInt();
        args[3] = bytes(Integer.toString(local));
        args[5] = bytes(Integer.toString(localReadyNow));
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
                // Counted by the script's own failure handler, as every script call's.
                if (reachable)
                {
                    LOG.warn("redis unreachable: node={} cause={}", nodeId, error.toString());
                }
                reachable = false;
                return;
            }
            if (!reachable)
            {
                LOG.info("redis reachable again: node={}", nodeId);
            }
            reachable = true;
            final int producers = ((Number)answer.get(0)).intValue();
            clusterProducers = producers;
            otherProducers = Math.max(0, producers - local);
            final int ready = ((Number)answer.get(2)).intValue();
            clusterReady = ready;
            otherReady = Math.max(0, ready - localReadyNow);
            rewriteIfWrong(((Number)answer.get(1)).longValue() == 0, addsBefore);
        });
    }

    /**
     * Writes the presence whole when Redis's copy is wrong: gone while users are here, or missing a write that failed.
     * A set found gone while a user was added after the beat may only lack that user's add, still on its way: it is
     * written whole anyway (the whole truth, sent after those adds; a loss that raced a connect is not left in place),
     * and counted and logged only when it is known wrong.
     */
    private synchronized void rewriteIfWrong(final boolean gone, final long addsBefore)
    {
        final boolean writeFailed = stale;
        stale = false;
        if (gone ? present.isEmpty() : !writeFailed)
        {
            // Right as it is (none held and none here, or held with no write failed).
            return;
        }
        if (writeFailed || adds == addsBefore)
        {
            rewrites.increment();
            LOG.warn("presence written again: node={} users={} cause={} (broadcasts published meanwhile missed them)",
                nodeId, present.size(), writeFailed ? "a write of it failed" : "gone from redis");
        }
        final byte[][] args = new byte[1 + present.size()][];
        args[0] = PRESENCE_TTL;
        int at = 1;
        for (final String user : present)
        {
            args[at++] = bytes(user);
        }
        replace.run(commands, new String[]{presentKey}, args).exceptionally(this::stale);
    }

    /** Leaves the cluster's view: its users stop being broadcast targets at once. */
    void leave(final RedisClusterCommands<String, byte[]> sync)
    {
        sync.del(nodeKey, presentKey, nodeKey + ":producers", nodeKey + ":ready");
        sync.srem(nodesKey, bytes(nodeId));
    }

    /** A write of the presence failed: it is written whole at the next beat that reaches Redis. */
    private <T> T writeFailed(final Throwable error)
    {
        onError.accept(error);
        return stale(error);
    }

    /** As {@link #writeFailed}, for a script's call, which told the link of its failure itself. */
    private synchronized <T> T stale(final Throwable error)
    {
        stale = true;
        return null;
    }

    private static byte[] bytes(final String value)
    {
        return value.getBytes(StandardCharsets.UTF_8);
    }
}
