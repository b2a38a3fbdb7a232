package dev.agentwire.server;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Users' messages ({@code user_message}, {@code cancel}) across nodes: a node whose user writes but which holds no
 * producer socket appends the message to the {@code inbound} stream; every node that holds producer sockets reads
 * that stream in one consumer group, so each message goes to exactly one runtime in the cluster, as on one node.
 * Delivery is at most once, as on one node: a message taken by a node whose runtimes all left in the meantime is
 * put back for another.
 */
final class ClusterInbound implements Runnable, AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ClusterInbound.class);
    private static final String GROUP = "producers";
    private static final long MAX_LENGTH = 100_000;

    private final RedisCluster cluster;
    private final ProducerHub hub;
    private final String key;
    private final Duration block;
    private final StatefulRedisConnection<String, byte[]> connection;
    private final Thread thread;
    private volatile boolean running = true;
    private boolean groupReady;

    ClusterInbound(final RedisCluster cluster, final ProducerHub hub)
    {
        this.cluster = cluster;
        this.hub = hub;
        this.key = cluster.prefix + "inbound";
        this.block = Duration.ofMillis(Math.max(50, Math.min(1_000, cluster.config.redisTimeoutMs() / 2)));
        this.connection = cluster.connectBlocking();
        thread = new Thread(this, "agentwire-inbound");
        thread.setDaemon(true);
        thread.start();
    }

    /** @return true when some node holds a producer socket to take the message. */
    boolean anyProducers()
    {
        return cluster.clusterProducers() > 0;
    }

    /** This node's producer sockets changed: the cluster learns it now, not at the next heartbeat. */
    void producersChanged()
    {
        cluster.producersChanged();
    }

    /** Hands a message (already re-encoded with its sender) to the cluster. Never blocks. */
    void forward(final byte[] message)
    {
        cluster.forwardInbound(key, message, MAX_LENGTH);
    }

    @Override
    public void run()
    {
        while (running)
        {
            if (hub.size() == 0)
            {
                // No runtime here: leave the messages to the nodes that have one.
                sleep(100);
                continue;
            }
            try
            {
                ensureGroup();
                final List<StreamMessage<String, byte[]>> messages = connection.sync().xreadgroup(
                    Consumer.from(GROUP, cluster.config.nodeId()), XReadArgs.Builder.block(block).count(64),
                    XReadArgs.StreamOffset.lastConsumed(key));
                if (messages == null)
                {
                    continue;
                }
                for (final StreamMessage<String, byte[]> message : messages)
                {
                    final byte[] body = message.getBody().get("m");
                    if (body != null && !hub.deliverForwarded(body))
                    {
                        forward(body);
                    }
                    connection.async().xack(key, GROUP, message.getId());
                }
            }
            catch (final RuntimeException ex)
            {
                if (!running)
                {
                    return;
                }
                // Redis away, or back empty (the group is gone): create it again once it answers.
                groupReady = false;
                cluster.redisErrors.increment();
                LOG.debug("inbound read failed, retrying: cause={}", ex.toString());
                sleep(200);
            }
        }
    }

    private void ensureGroup()
    {
        if (groupReady)
        {
            return;
        }
        try
        {
            connection.sync().xgroupCreate(XReadArgs.StreamOffset.from(key, "$"), GROUP,
                XGroupCreateArgs.Builder.mkstream());
        }
        catch (final RedisBusyException exists)
        {
            // Another node made it first.
        }
        groupReady = true;
    }

    private static void sleep(final long ms)
    {
        try
        {
            TimeUnit.MILLISECONDS.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close()
    {
        running = false;
        try
        {
            thread.join(block.toMillis() + 2_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        connection.close();
    }

    static XAddArgs cappedAt(final long maxLength)
    {
        return XAddArgs.Builder.maxlen(maxLength).approximateTrimming();
    }
}
