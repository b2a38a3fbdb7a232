package dev.agentwire.server.cluster;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * This node's link to the cluster's Redis: the client and its connections, the Lua scripts that number events
 * and read history atomically, the node's liveness and the users connected to it (for broadcast), and the one
 * thread on which Redis answers are handed to the engine.
 * <p>
 * Redis keys are listed in docs/CLUSTER.md; a user's keys and channel share the hash tag {@code {u:<user>}}
 * ({@link StreamCodec#userTag}).
 * <p>
 * Threading: commands are asynchronous; nothing here blocks a caller. Answers arrive on Lettuce's event loop and
 * are moved to {@link #executor()} before they touch the engine, whose ring may make a publisher wait.
 */
final class RedisLink implements AutoCloseable
{
    /**
     * How often a node asks a sharded Redis whether its configuration changed (the cluster's epoch, which every
     * failover raises) and compares its slot map ({@link Shards#watch}, {@link StreamFeed}).
     */
    static final long SLOT_MAP_WATCH_MS = 1_000;
    static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);
    private static final long MAX_JS_SAFE_EPOCH = 1L << 53;

    final ClusterSettings settings;
    final String prefix;
    final LongAdder redisErrors = new LongAdder();
    final ReadOnlyPolicy readOnly;
    /** Exactly one of these two is set: a single Redis (or a primary with replicas), or a sharded Redis Cluster. */
    private final RedisClient single;
    private final RedisClusterClient sharded;
    private final AbstractRedisClient client;
    /** The client's threads and Netty pipeline: subscription connections get a {@link ChannelMessageHandler}. */
    private final ClientResources resources;
    /** Where the subscription connection's channel messages go (set by {@link #connectPubSub}). */
    private volatile ChannelMessageHandler.ChannelMessageSink channelMessages;
    /** Subscription connections given a {@link ChannelMessageHandler}, and those whose bytes it could not frame. */
    final LongAdder framedConnections = new LongAdder();
    final LongAdder unframedConnections = new LongAdder();
    /** Where each key and channel lives: one shard for a single Redis, the slot map's for a Redis Cluster. */
    final Shards shards;
    private final StatefulConnection<String, byte[]> connection;
    private final RedisClusterAsyncCommands<String, byte[]> commands;
    private final RedisClusterCommands<String, byte[]> syncCommands;
    private final ScheduledExecutorService executor;
    private final LuaScript publish;
    private final LuaScript fetch;
    private final LuaScript reepoch;
    private final LuaScript heartbeat;
    private final LuaScript heads;
    private final LuaScript inbound;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Reads Redis's primaries' settings at start and every {@link ClusterSettings#settingsCheckMs}. */
    final RedisSettingsPolicy settingsPolicy;
    /** This node's liveness and the users connected here, as Redis holds them (broadcast targets). */
    final NodePresence presence;

    /**
     * @param localProducers how many producer sockets this node holds (read at every heartbeat).
     * @param localReady     how many of them have room for a user's message (read at every heartbeat).
     */
    RedisLink(final ClusterSettings settings, final IntSupplier localProducers, final IntSupplier localReady)
    {
        this.settings = settings;
        this.prefix = settings.keyPrefix;
        this.readOnly = new ReadOnlyPolicy(settings.nodeId);
        final List<RedisURI> seeds = RedisSeeds.uris(settings.redisUrl, settings.redisTimeoutMs,
            settings.sentinelPassword);
        final ChannelMessageHandler.ChannelMessageSink toFeed = (buffer, channelAt, channelLength, messageAt,
            messageLength) -> channelMessages.onMessage(buffer, channelAt, channelLength, messageAt, messageLength);
        resources = ClientResources.builder().nettyCustomizer(new NettyCustomizer()
        {
            @Override
            public void afterChannelInitialized(final io.netty.channel.Channel channel)
            {
                readOnly.watch(channel);
                if (ChannelMessageHandler.installOn(channel, toFeed, unframedConnections))
                {
                    framedConnections.increment();
                }
            }
        }).build();
        final RedisSeeds.Probe probe;
        try
        {
            probe = RedisSeeds.probe(resources, seeds, RedisClientOptions.probe(settings));
        }
        catch (final RuntimeException ex)
        {
            resources.shutdown();
            throw ex;
        }
        final RedisURI uri = probe.uri();
        if (probe.cluster())
        {
            probe.client().shutdown();
            single = null;
            sharded = RedisClusterClient.create(resources, seeds);
            sharded.setOptions(RedisClientOptions.sharded(settings));
            client = sharded;
        }
        else
        {
            single = probe.client();
            sharded = null;
            single.setOptions(RedisClientOptions.single(settings));
            client = single;
        }
        publish = new LuaScript("publish.lua", this::failed);
        fetch = new LuaScript("fetch.lua", this::failed);
        reepoch = new LuaScript("reepoch.lua", this::failed);
        heartbeat = new LuaScript("heartbeat.lua", this::failed);
        heads = new LuaScript("head.lua", this::failed);
        inbound = new LuaScript("inbound.lua", this::failed);
        executor = Executors.newSingleThreadScheduledExecutor(task ->
        {
            final Thread thread = new Thread(task, "agentwire-cluster");
            thread.setDaemon(true);
            return thread;
        });
        shards = new Shards(sharded, executor, redisErrors);
        final RedisSettingsPolicy.Reader readSettings;
        try
        {
            if (sharded != null)
            {
                final StatefulRedisClusterConnection<String, byte[]> c = sharded.connect(CODEC);
                connection = c;
                commands = c.async();
                syncCommands = c.sync();
                readSettings = RedisSettingsPolicy.readerOf(c);
            }
            else
            {
                final StatefulRedisConnection<String, byte[]> c = single.connect(CODEC);
                connection = c;
                commands = c.async();
                syncCommands = c.sync();
                readSettings = RedisSettingsPolicy.readerOf(uri, c);
            }
        }
        catch (final RuntimeException ex)
        {
            executor.shutdownNow();
            client.shutdown();
            resources.shutdown();
            throw new IllegalStateException("redis unreachable at start: redisUrl=<set> cause=" + ex.getMessage() +
                " root=" + rootCause(ex), ex);
        }
        settingsPolicy = RedisSettingsPolicy.start(readSettings, executor, settings.settingsCheckMs,
            2 * settings.redisTimeoutMs);
        presence = new NodePresence(prefix, settings.nodeId, commands, heartbeat,
            new LuaScript("presence.lua", this::failed), localProducers, localReady, this::failed);
        presence.start();
        executor.scheduleWithFixedDelay(presence::beat, NodePresence.HEARTBEAT_INTERVAL_MS,
            NodePresence.HEARTBEAT_INTERVAL_MS, TimeUnit.MILLISECONDS);
        if (sharded != null)
        {
            executor.scheduleWithFixedDelay(() -> shards.watch(commands), SLOT_MAP_WATCH_MS, SLOT_MAP_WATCH_MS,
                TimeUnit.MILLISECONDS);
        }
    }

    /** @return a new connection for a blocking reader (the inbound stream). */
    OwnConnection connectBlocking()
    {
        if (sharded != null)
        {
            final StatefulRedisClusterConnection<String, byte[]> c = sharded.connect(CODEC);
            return new OwnConnection(c, c.sync(), c.async());
        }
        final StatefulRedisConnection<String, byte[]> c = single.connect(CODEC);
        return new OwnConnection(c, c.sync(), c.async());
    }

    /**
     * @param messages where the connection's channel messages go, read off its bytes on Lettuce's event loop
     *                 ({@link ChannelMessageHandler}); everything else it receives reaches its Lettuce listeners.
     * @return a new connection for channel subscriptions (the stream feed), the only one this link makes.
     */
    StatefulRedisPubSubConnection<String, byte[]> connectPubSub(final ChannelMessageHandler.ChannelMessageSink messages)
    {
        channelMessages = messages;
        if (sharded != null)
        {
            final io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection<String, byte[]> c =
                sharded.connectPubSub(CODEC);
            c.setNodeMessagePropagation(true);
            return c;
        }
        return single.connectPubSub(CODEC);
    }

    void addConnectionListener(final RedisConnectionStateListener listener)
    {
        client.addListener(listener);
    }

    void removeConnectionListener(final RedisConnectionStateListener listener)
    {
        client.removeListener(listener);
    }

    ScheduledExecutorService executor()
    {
        return executor;
    }

    /** Publishes a changed producer count now rather than at the next heartbeat. */
    void producersChanged()
    {
        if (!closed.get())
        {
            executor.execute(presence::beat);
        }
    }

    /** Has Redis announce on each user's channel where its stream stands (head.lua, once per shard). */
    java.util.concurrent.CompletableFuture<Void> announceHeads(final List<String> users)
    {
        final java.util.Map<String, List<String>> byShard = new java.util.HashMap<>();
        for (final String user : users)
        {
            final String shard = shards.shardOf(StreamCodec.userTag(prefix, user));
            byShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(user);
        }
        final List<java.util.concurrent.CompletableFuture<List<Object>>> all = new ArrayList<>();
        for (final List<String> some : byShard.values())
        {
            final byte[][] streams = new byte[some.size()][];
            for (int i = 0; i < streams.length; i++)
            {
                streams[i] = bytes(StreamCodec.userTag(prefix, some.get(i)) + ":s");
            }
            all.add(heads.run(commands, new String[]{StreamCodec.userTag(prefix, some.get(0)) + ":s"}, streams)
                .toCompletableFuture());
        }
        return java.util.concurrent.CompletableFuture.allOf(all.toArray(new java.util.concurrent.CompletableFuture[0]));
    }

    /**
     * publish.lua on {@code shard}, where every key of the arguments lives. On a Redis Cluster the call goes to that
     * shard's own connection, which follows no redirect: a slot that moved or is migrating answers MOVED or ASK, and
     * the group is sent again once the slot map says where its keys are (GroupCommit). Followed, an ASK ran the call
     * on the shard importing the slot, before the stream's keys had arrived there: the script found no stream and
     * began a new one beside the old, and the migration then failed on the keys both shards held (BUSYKEY).
     * <p>
     * A shard whose connection is down (its primary died; the client reconnects) is answered at once, nothing sent
     * ({@link ShardDownException}: 503, not attempted), as one Redis that is away is: queued behind the reconnect, the
     * call could only time out (a dead primary is replaced after the cluster's node timeout, seconds, if at all), and
     * every producer publishing to that shard's users would wait out the command timeout on each request.
     *
     * @param shard      the shard's node id ({@link Shards#shardOf}); ignored on one Redis.
     * @param routingKey the first entry's tag.
     */
    CompletionStage<List<Object>> publish(final String shard, final String routingKey, final byte[][] args)
    {
        final String[] keys = {routingKey};
        if (sharded == null || Shards.SINGLE_SHARD.equals(shard))
        {
            return publish.run(commands, keys, args);
        }
        @SuppressWarnings("unchecked")
        final StatefulRedisClusterConnection<String, byte[]> routed =
            (StatefulRedisClusterConnection<String, byte[]>)connection;
        java.util.concurrent.CompletableFuture<StatefulRedisConnection<String, byte[]>> node;
        try
        {
            node = routed.getConnectionAsync(shard);
        }
        catch (final RuntimeException unknown)
        {
            node = java.util.concurrent.CompletableFuture.failedFuture(unknown);
        }
        return node.handle((found, error) -> found).thenCompose(found ->
        {
            if (found == null)
            {
                return CompletableFuture.failedFuture(
                    new IllegalStateException("MOVED: no connection to shard=" + shard + " (the slot map moved)"));
            }
            if (!found.isOpen())
            {
                return CompletableFuture.failedFuture(new ShardDownException(shard));
            }
            return publish.run(found.async(), keys, args);
        });
    }

    /**
     * reepoch.lua: moves a stream that went back behind what a node saw to a new epoch: Redis's head is behind
     * {@code seenSeq} ({@code repeatedSeq} 0), or the channel brought {@code repeatedSeq} again with a record Redis's
     * history does not hold at that seq.
     *
     * @return {epoch, lastSeq} as Redis holds the stream afterwards (empty when it holds none).
     */
    CompletionStage<List<Object>> reepoch(final String userId, final long epoch, final long seenSeq,
        final long repeatedSeq, final byte[] record)
    {
        final String tag = StreamCodec.userTag(prefix, userId);
        return reepoch.run(commands, new String[]{tag + ":s", tag + ":l"}, new byte[][]{bytes(Long.toString(epoch)),
            bytes(Long.toString(seenSeq)), bytes(epochCandidate()), bytes(Long.toString(repeatedSeq)),
            record == null ? new byte[0] : record});
    }

    CompletionStage<List<Object>> fetch(final String userId, final byte[][] args)
    {
        final String tag = StreamCodec.userTag(prefix, userId);
        return fetch.run(commands, new String[]{tag + ":s", tag + ":l"}, args);
    }

    /**
     * Joins or leaves a room (its member set lives on the room's shard), then tells the user's nodes on its channel
     * (on the user's shard) for the joined/left notices.
     */
    CompletionStage<Long> membership(final boolean join, final String userId, final String room)
    {
        final String members = StreamCodec.roomMembersKey(prefix, room);
        final byte[] user = bytes(userId);
        final CompletionStage<Long> changed = join ? commands.sadd(members, user) : commands.srem(members, user);
        return changed.thenCompose(count -> commands.spublish(StreamCodec.userTag(prefix, userId),
            StreamCodec.roomChange(join, room)));
    }

    /**
     * inbound.lua: appends a user's message for a runtime on another node ({@link ClusterInbound}), or with none only
     * drops what waited too long.
     *
     * @param group   the readers' consumer group: what it took before is dropped uncounted in the answer's list.
     * @param message the message, or null to drop only.
     * @return {appended (1, or 0: as many waited already, or none given), dropped for waiting longer than
     * {@code longestWaitMs}, the fields of those no node took}; a failure is already counted.
     */
    CompletionStage<List<Object>> appendInbound(final String key, final String group, final long mostWaiting,
        final long longestWaitMs, final byte[] message)
    {
        final byte[] most = bytes(Long.toString(mostWaiting));
        final byte[] longest = bytes(Long.toString(longestWaitMs));
        final byte[] readers = bytes(group);
        return inbound.run(commands, new String[]{key}, message == null ?
            new byte[][]{most, longest, readers} : new byte[][]{most, longest, readers, message});
    }

    /** @return a random epoch for a stream Redis does not hold yet (safe as a JavaScript number). */
    static String epochCandidate()
    {
        return Long.toString(ThreadLocalRandom.current().nextLong(1, MAX_JS_SAFE_EPOCH));
    }

    <T> T failed(final Throwable error)
    {
        redisErrors.increment();
        readOnly.onError(error);
        return null;
    }

    private static byte[] bytes(final String value)
    {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** Leaves the cluster's view (its users stop being broadcast targets at once), then disconnects. */
    @Override
    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        executor.shutdownNow();
        try
        {
            presence.leave(syncCommands);
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("could not leave the cluster cleanly: node={} cause={}", settings.nodeId, ex.toString());
        }
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    /** @return the innermost cause, as it says itself: a refused certificate, a refused password, a closed port. */
    static String rootCause(final Throwable error)
    {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause)
        {
            cause = cause.getCause();
        }
        return cause.toString();
    }

    /**
     * @return whether a failed command may still have run: it timed out after it was sent. Any other failure means it
     * never reached Redis, or Redis refused it whole (every caller's "outcome unknown" against "not done").
     */
    static boolean mayHaveRun(final Throwable error)
    {
        return unwrap(error) instanceof RedisCommandTimeoutException;
    }

    static Throwable unwrap(final Throwable error)
    {
        Throwable cause = error;
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null)
        {
            cause = cause.getCause();
        }
        return cause;
    }
}
