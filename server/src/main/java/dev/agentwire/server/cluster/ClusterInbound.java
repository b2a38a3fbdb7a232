package dev.agentwire.server.cluster;

import dev.agentwire.server.runtime.RemoteRuntimes;
import dev.agentwire.server.runtime.RuntimeChannels;
import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * Users' messages ({@code user_message}, {@code cancel}) across nodes: a node whose user writes but which holds no
 * producer socket appends the message to the {@code inbound} stream; every node that holds producer sockets reads
 * that stream in one consumer group, so each message goes to exactly one runtime in the cluster, as on one node.
 * Delivery is at most once, as on one node: a message taken by a node whose runtimes all left in the meantime is
 * put back for another.
 */
final class ClusterInbound implements RemoteRuntimes, AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ClusterInbound.class);
    private static final String GROUP = "producers";
    private static final long MAX_LENGTH = 100_000;
    private static final long IDLE_POLL_MS = 100;

    private final RedisLink cluster;
    private final RuntimeChannels hub;
    private final String key;
    private final BlockingStreamReader reader;
    private boolean groupReady;

    ClusterInbound(final RedisLink cluster, final RuntimeChannels hub)
    {
        this.cluster = cluster;
        this.hub = hub;
        this.key = cluster.prefix + "inbound";
        this.reader = new BlockingStreamReader(cluster, "agentwire-inbound");
        reader.start(this::readOnce);
    }

    /** @return true when some node holds a producer socket to take the message. */
    @Override
    public boolean anyProducers()
    {
        return cluster.clusterProducers() > 0;
    }

    /** This node's producer sockets changed: the cluster learns it now, not at the next heartbeat. */
    @Override
    public void producersChanged()
    {
        cluster.producersChanged();
    }

    /** Hands a message (already re-encoded with its sender) to the cluster. Never blocks. */
    @Override
    public void forward(final byte[] message)
    {
        cluster.forwardInbound(key, message, MAX_LENGTH);
    }

    /** One read for this node's runtimes, if it has any. */
    private boolean readOnce(final OwnConnection connection, final Duration block)
    {
        if (hub.size() == 0)
        {
            // No runtime here: leave the messages to the nodes that have one.
            BlockingStreamReader.sleep(IDLE_POLL_MS);
            return true;
        }
        try
        {
            ensureGroup(connection);
            final List<StreamMessage<String, byte[]>> messages = connection.sync.xreadgroup(
                Consumer.from(GROUP, cluster.settings.nodeId), XReadArgs.Builder.block(block).count(64),
                XReadArgs.StreamOffset.lastConsumed(key));
            if (messages == null)
            {
                return true;
            }
            for (final StreamMessage<String, byte[]> message : messages)
            {
                final byte[] body = message.getBody().get("m");
                if (body != null && !hub.deliver(body))
                {
                    forward(body);
                }
                connection.async.xack(key, GROUP, message.getId());
            }
            return true;
        }
        catch (final RuntimeException ex)
        {
            // Redis away, or back empty (the group is gone): create it again once it answers.
            groupReady = false;
            LOG.debug("inbound read failed: cause={}", ex.toString());
            throw ex;
        }
    }

    private void ensureGroup(final OwnConnection connection)
    {
        if (groupReady)
        {
            return;
        }
        try
        {
            connection.sync.xgroupCreate(XReadArgs.StreamOffset.from(key, "$"), GROUP,
                XGroupCreateArgs.Builder.mkstream());
        }
        catch (final RedisBusyException exists)
        {
            // Another node made it first.
        }
        groupReady = true;
    }

    @Override
    public void close()
    {
        reader.close();
    }

    static XAddArgs cappedAt(final long maxLength)
    {
        return XAddArgs.Builder.maxlen(maxLength).approximateTrimming();
    }
}
