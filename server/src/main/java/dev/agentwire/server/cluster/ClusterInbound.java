package dev.agentwire.server.cluster;

import dev.agentwire.server.runtime.InboundRouter;
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
import java.util.function.IntConsumer;

/**
 * Users' messages ({@code user_message}, {@code cancel}) across nodes: a node whose user writes but whose own
 * runtimes (producer sockets) are absent or all busy appends the message to the {@code inbound} stream when another
 * node's runtime had room at its last beat; every node reads that stream in one consumer group while one of its
 * runtimes has room, so each message goes to exactly one runtime in the cluster, and a node whose runtimes are all
 * behind leaves the stream to the others.
 * A message taken is deleted from the stream, which so holds only what waits for a runtime, at most
 * {@link #MAX_LENGTH} (the oldest are dropped past it). Delivery is at most once, as on one node: a message taken by a
 * node whose runtimes all left or filled up meanwhile is put back for another, and that node waits a moment before it
 * reads again. The sender is told when the stream could not take the message ({@link InboundRouter#UNAVAILABLE}) or
 * did not confirm it in time ({@link InboundRouter#OUTCOME_UNKNOWN}).
 */
final class ClusterInbound implements RemoteRuntimes, AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ClusterInbound.class);
    private static final String GROUP = "producers";
    /** Messages waiting for a runtime, at most (each within the users' message size limit). */
    private static final long MAX_LENGTH = 10_000;
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

    /** @return true when another node holds a producer socket to take the message. */
    @Override
    public boolean anyProducers()
    {
        return cluster.presence.otherProducers() > 0;
    }

    @Override
    public boolean anyReady()
    {
        return cluster.presence.otherReady() > 0;
    }

    /** This node's producer sockets changed: the cluster learns it now, not at the next heartbeat. */
    @Override
    public void producersChanged()
    {
        cluster.producersChanged();
    }

    /** Hands a message (already re-encoded with its sender) to the cluster. Never blocks. */
    @Override
    public void forward(final byte[] message, final IntConsumer done)
    {
        cluster.forwardInbound(key, message, MAX_LENGTH).whenComplete((id, error) -> done.accept(error == null ?
            InboundRouter.DELIVERED : RedisLink.mayHaveRun(error) ?
            InboundRouter.OUTCOME_UNKNOWN : InboundRouter.UNAVAILABLE));
    }

    /** One read for this node's runtimes, if it has any. */
    private boolean readOnce(final OwnConnection connection, final Duration block)
    {
        if (!hub.anyRoom())
        {
            // No runtime here, or all busy: leave the messages to the nodes whose runtimes take them.
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
            boolean putBack = false;
            for (final StreamMessage<String, byte[]> message : messages)
            {
                final byte[] body = message.getBody().get("m");
                if (body != null && !hub.deliver(body))
                {
                    putBack = true;
                    forward(body, status ->
                    {
                        if (status != InboundRouter.DELIVERED)
                        {
                            LOG.warn("inbound message lost: no runtime here took it and it could not be put back " +
                                "for another node: status={}", InboundRouter.errorCode(status));
                        }
                    });
                }
                // Taken: out of the stream too, which holds only what waits for a runtime.
                connection.async.xack(key, GROUP, message.getId()).exceptionally(cluster::failed);
                connection.async.xdel(key, message.getId()).exceptionally(cluster::failed);
            }
            if (putBack)
            {
                // This node's runtimes are busy or gone: let another node's take what was put back.
                BlockingStreamReader.sleep(IDLE_POLL_MS);
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
            // From the stream's start: it holds only messages no node took (each is deleted once taken), so one that
            // another node appended after Redis came back empty, before this group was made again, is read too.
            connection.sync.xgroupCreate(XReadArgs.StreamOffset.from(key, "0"), GROUP,
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
