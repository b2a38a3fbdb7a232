package dev.agentwire.server.cluster;

import dev.agentwire.core.PresenceListener;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
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
final class RedisLink implements PresenceListener, AutoCloseable
{
    /** A node whose liveness key is older than this is considered gone (broadcasts stop numbering its users). */
    static final long NODE_TTL_MS = 10_000;
    static final long HEARTBEAT_INTERVAL_MS = 2_000;
    static final int REQUEST_QUEUE_SIZE = 65_536;
    static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);
    private static final String[] NO_KEYS = new String[0];
    private static final long MAX_JS_SAFE_EPOCH = 1L << 53;

    final ClusterSettings settings;
    final String prefix;
    final LongAdder redisErrors = new LongAdder();
    private final RedisClient client;
    private final StatefulRedisConnection<String, byte[]> commands;
    private final ScheduledExecutorService executor;
    private final Script publish;
    private final Script fetch;
    private final Script membership;
    private final Script heartbeat;
    private final Script heads;
    private final Set<String> present = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final IntSupplier localProducers;
    private volatile boolean reachable;
    private volatile int clusterProducers;

    /**
     * @param localProducers how many producer sockets this node holds (read at every heartbeat).
     */
    RedisLink(final ClusterSettings settings, final IntSupplier localProducers)
    {
        this.settings = settings;
        this.localProducers = localProducers;
        this.prefix = settings.keyPrefix;
        final RedisURI uri = RedisURI.create(settings.redisUrl);
        uri.setTimeout(Duration.ofMillis(settings.redisTimeoutMs));
        client = RedisClient.create(uri);
        // Fail fast while Redis is away: a publish answers 503 at once instead of queueing behind a reconnect.
        client.setOptions(ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            // A slow Redis must not grow this node's memory without bound: past this many commands waiting for an
            // answer, new ones fail at once (producers get 503).
            .requestQueueSize(REQUEST_QUEUE_SIZE)
            .timeoutOptions(TimeoutOptions.enabled(Duration.ofMillis(settings.redisTimeoutMs)))
            .build());
        publish = new Script("publish.lua");
        fetch = new Script("fetch.lua");
        membership = new Script("membership.lua");
        heartbeat = new Script("heartbeat.lua");
        heads = new Script("head.lua");
        executor = Executors.newSingleThreadScheduledExecutor(task ->
        {
            final Thread thread = new Thread(task, "agentwire-cluster");
            thread.setDaemon(true);
            return thread;
        });
        try
        {
            commands = client.connect(CODEC);
        }
        catch (final RuntimeException ex)
        {
            executor.shutdownNow();
            client.shutdown();
            throw new IllegalStateException("redis unreachable at start: redisUrl=<set> cause=" + ex.getMessage(), ex);
        }
        reachable = true;
        beat();
        executor.scheduleWithFixedDelay(this::beat, HEARTBEAT_INTERVAL_MS, HEARTBEAT_INTERVAL_MS,
            TimeUnit.MILLISECONDS);
    }

    /** @return a new connection for a blocking reader (the inbound stream): blocking commands need their own. */
    StatefulRedisConnection<String, byte[]> connectBlocking()
    {
        return client.connect(CODEC);
    }

    /** @return a new connection for channel subscriptions (the stream feed). */
    StatefulRedisPubSubConnection<String, byte[]> connectPubSub()
    {
        return client.connectPubSub(CODEC);
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

    /** @return producer sockets on all live nodes, as of the last heartbeat. */
    int clusterProducers()
    {
        return clusterProducers;
    }

    /** Publishes a changed producer count now rather than at the next heartbeat. */
    void producersChanged()
    {
        if (!closed.get())
        {
            executor.execute(this::beat);
        }
    }

    /** @return whether the last heartbeat reached Redis. */
    boolean isReachable()
    {
        return reachable;
    }

    /** Has Redis announce on each user's channel where its stream stands (head.lua). */
    CompletionStage<List<Object>> announceHeads(final List<String> users)
    {
        final byte[][] args = new byte[users.size() + 1][];
        args[0] = bytes(prefix);
        for (int i = 0; i < users.size(); i++)
        {
            args[i + 1] = bytes(users.get(i));
        }
        return heads.run(args);
    }

    CompletionStage<List<Object>> publish(final byte[][] args)
    {
        return publish.run(args);
    }

    CompletionStage<List<Object>> fetch(final byte[][] args)
    {
        return fetch.run(args);
    }

    CompletionStage<List<Object>> membership(final boolean join, final String userId, final String room)
    {
        return membership.run(StreamCodec.membershipArguments(prefix, join, userId, room));
    }

    void forwardInbound(final String key, final byte[] message, final long maxLength)
    {
        commands.async().xadd(key, ClusterInbound.cappedAt(maxLength), java.util.Map.of("m", message))
            .exceptionally(this::failed);
    }

    /** @return a random epoch for a stream Redis does not hold yet (safe as a JavaScript number). */
    static String epochCandidate()
    {
        return Long.toString(ThreadLocalRandom.current().nextLong(1, MAX_JS_SAFE_EPOCH));
    }

    // Presence, from the slices: the users connected here are who a broadcast numbers on this node's behalf.

    @Override
    public void onFirstConnected(final String userId)
    {
        present.add(userId);
        commands.async().sadd(presentKey(), bytes(userId)).exceptionally(this::failed);
    }

    @Override
    public void onLastDisconnected(final String userId)
    {
        present.remove(userId);
        commands.async().srem(presentKey(), bytes(userId)).exceptionally(this::failed);
    }

    private String presentKey()
    {
        return prefix + "node:" + settings.nodeId + ":present";
    }

    private void beat()
    {
        heartbeat.run(new byte[][]{bytes(prefix), bytes(settings.nodeId), bytes(Long.toString(NODE_TTL_MS)),
            bytes(Integer.toString(localProducers.getAsInt()))}).whenComplete((reply, error) ->
        {
            if (error != null)
            {
                if (reachable)
                {
                    LOG.warn("redis unreachable: node={} cause={}", settings.nodeId, error.toString());
                }
                reachable = false;
                redisErrors.increment();
                return;
            }
            if (!reachable)
            {
                LOG.info("redis reachable again: node={}", settings.nodeId);
            }
            reachable = true;
            clusterProducers = ((Number)reply.get(1)).intValue();
            if (((Number)reply.get(0)).longValue() == 0)
            {
                resyncPresence();
            }
        });
    }

    /** After Redis lost this node's keys: write the whole present set again. */
    private void resyncPresence()
    {
        final List<byte[]> users = new ArrayList<>();
        for (final String user : present)
        {
            users.add(bytes(user));
        }
        LOG.info("writing presence to redis: node={} users={}", settings.nodeId, users.size());
        commands.async().del(presentKey()).exceptionally(this::failed);
        for (int from = 0; from < users.size(); from += 1_000)
        {
            final List<byte[]> chunk = users.subList(from, Math.min(users.size(), from + 1_000));
            commands.async().sadd(presentKey(), chunk.toArray(new byte[0][])).exceptionally(this::failed);
        }
    }

    <T> T failed(final Throwable error)
    {
        redisErrors.increment();
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
            commands.sync().del(prefix + "node:" + settings.nodeId, presentKey(),
                prefix + "node:" + settings.nodeId + ":producers");
            commands.sync().srem(prefix + "nodes", bytes(settings.nodeId));
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("could not leave the cluster cleanly: node={} cause={}", settings.nodeId, ex.toString());
        }
        commands.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    /** One Lua script: run by digest, loaded again when Redis does not know it (a restart flushes the cache). */
    private final class Script
    {
        private final String source;
        private final String sha;

        Script(final String resource)
        {
            try (InputStream in = RedisLink.class.getResourceAsStream("/cluster/" + resource))
            {
                if (in == null)
                {
                    throw new IllegalStateException("missing script resource=/cluster/" + resource);
                }
                source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                sha = HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
            }
            catch (final IOException | NoSuchAlgorithmException ex)
            {
                throw new IllegalStateException("cannot load script resource=" + resource, ex);
            }
        }

        CompletionStage<List<Object>> run(final byte[][] args)
        {
            final CompletableFuture<List<Object>> result = new CompletableFuture<>();
            final RedisFuture<List<Object>> first = commands.async().evalsha(sha, ScriptOutputType.MULTI, NO_KEYS, args);
            first.whenComplete((reply, error) ->
            {
                if (error == null)
                {
                    result.complete(reply);
                }
                else if (unwrap(error) instanceof RedisNoScriptException)
                {
                    final RedisFuture<List<Object>> again =
                        commands.async().eval(source, ScriptOutputType.MULTI, NO_KEYS, args);
                    again.whenComplete((reply2, error2) -> complete(result, reply2, error2));
                }
                else
                {
                    complete(result, null, error);
                }
            });
            return result;
        }

        private void complete(final CompletableFuture<List<Object>> result, final List<Object> reply, final Throwable error)
        {
            if (error != null)
            {
                redisErrors.increment();
                result.completeExceptionally(unwrap(error));
            }
            else
            {
                result.complete(reply);
            }
        }
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
