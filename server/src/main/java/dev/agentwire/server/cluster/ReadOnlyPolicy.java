package dev.agentwire.server.cluster;

import io.lettuce.core.RedisReadOnlyException;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a node does when Redis answers {@code READONLY}: the server its connections reach has become a replica — a
 * failover demoted it (Sentinel makes a primary that comes back a replica of the promoted one; a managed service's
 * endpoint moves). The connection stays open, so every write through it would fail for as long as it lasts. The node
 * closes every connection it has instead; the Redis client reconnects each, asking a Sentinel (or the endpoint's
 * name) where the primary is now. At most once per {@link #MIN_INTERVAL_MS}, so a burst of refused calls closes them
 * once. Thread-safe: errors arrive on Lettuce's threads and the cluster thread.
 */
final class ReadOnlyPolicy
{
    /** The shortest time between two rounds of closing every connection. */
    static final long MIN_INTERVAL_MS = 1_000;
    private static final Logger LOG = LoggerFactory.getLogger(ReadOnlyPolicy.class);

    private final String nodeId;
    private final Set<Channel> channels = ConcurrentHashMap.newKeySet();
    private final AtomicLong lastRoundNs = new AtomicLong(System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(
        MIN_INTERVAL_MS));
    /** Rounds of closing every connection, one per READONLY burst. */
    final LongAdder reconnects = new LongAdder();

    ReadOnlyPolicy(final String nodeId)
    {
        this.nodeId = nodeId;
    }

    /**
     * Keeps a connection's channel (every channel the Redis client opens comes here, a handful per shard); those
     * closed since are dropped here, so the set holds about the open ones.
     */
    void watch(final Channel channel)
    {
        channels.removeIf(open -> !open.isOpen());
        channels.add(channel);
    }

    /**
     * @param error a failed call's error.
     * @return true when it was Redis's {@code READONLY}: every connection is being closed (or was, less than
     *     {@link #MIN_INTERVAL_MS} ago), to reconnect to the primary.
     */
    boolean onError(final Throwable error)
    {
        if (!isReadOnly(error))
        {
            return false;
        }
        final long nowNs = System.nanoTime();
        final long last = lastRoundNs.get();
        if (nowNs - last < TimeUnit.MILLISECONDS.toNanos(MIN_INTERVAL_MS) || !lastRoundNs.compareAndSet(last, nowNs))
        {
            return true;
        }
        reconnects.increment();
        LOG.warn("redis answered READONLY (the server is a replica now: a failover demoted it); reconnecting every " +
            "connection to the primary: node={} connections={}", nodeId, channels.size());
        for (final Channel channel : channels)
        {
            if (channel.isOpen())
            {
                channel.close();
            }
        }
        return true;
    }

    static boolean isReadOnly(final Throwable error)
    {
        for (Throwable cause = error; cause != null; cause = cause.getCause())
        {
            if (cause instanceof RedisReadOnlyException ||
                cause.getMessage() != null && cause.getMessage().startsWith("READONLY"))
            {
                return true;
            }
            if (cause.getCause() == cause)
            {
                break;
            }
        }
        return false;
    }
}
