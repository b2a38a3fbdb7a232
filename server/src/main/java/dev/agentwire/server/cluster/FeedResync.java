package dev.agentwire.server.cluster;

import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Checks a feed's followed streams against Redis: subscribes their channels again (Lettuce does after a reconnect;
 * asking twice is harmless), then has Redis announce on each channel where its stream stands, in order with the
 * channel's events, so the feed repairs what it missed up to there, quiet streams included. Run after a
 * subscription connection came back, a slot moved, or the feed dropped messages.
 * <p>
 * Shard by shard: a shard that fails (down with no replica to promote, or its slots moving) is tried again alone,
 * with backoff up to {@link #MAX_RETRY_MS}, while the other shards' streams are repaired at once. Checked as one,
 * a shard down for good held back the repair of every other shard's users (RedisClusterShardDownTest). Runs on the
 * cluster's executor.
 */
final class FeedResync
{
    private static final Logger LOG = LoggerFactory.getLogger(FeedResync.class);
    static final long FIRST_RETRY_MS = 500;
    static final long MAX_RETRY_MS = 5_000;
    /** Heads announced per script call. */
    private static final int ANNOUNCE_BATCH = 1_000;

    private final RedisLink cluster;
    private final StatefulRedisPubSubConnection<String, byte[]> connection;
    private final Map<String, CompletableFuture<Void>> followed;
    /** The shard each followed channel was subscribed on; guarded by {@link #followed}'s lock. */
    private final Map<String, String> subscribedAt;
    private final Runnable whole;
    private final LongAdder resyncs;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** The next run checks every followed stream, not only {@link #retrying}. */
    private final AtomicBoolean all = new AtomicBoolean();
    /** Users whose shard failed at the last check: the next retry checks only these. */
    private final Set<String> retrying = ConcurrentHashMap.newKeySet();
    /** The next retry's delay; on the executor only. */
    private long retryMs = FIRST_RETRY_MS;
    private volatile boolean running = true;

    /**
     * @param whole told (on the executor) when a check found every shard it asked subscribed and announced: the
     *              feed carries all its streams again.
     */
    FeedResync(final RedisLink cluster, final StatefulRedisPubSubConnection<String, byte[]> connection,
        final Map<String, CompletableFuture<Void>> followed, final Map<String, String> subscribedAt,
        final Runnable whole, final LongAdder resyncs)
    {
        this.cluster = cluster;
        this.connection = connection;
        this.followed = followed;
        this.subscribedAt = subscribedAt;
        this.whole = whole;
        this.resyncs = resyncs;
    }

    /** Checks every followed stream after {@code delayMs} (several asks before it runs are one check). */
    void all(final long delayMs)
    {
        all.set(true);
        schedule(delayMs);
    }

    void stop()
    {
        running = false;
    }

    private void schedule(final long delayMs)
    {
        if (running && scheduled.compareAndSet(false, true))
        {
            cluster.executor().schedule(this::run, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    private void run()
    {
        scheduled.set(false);
        if (!running)
        {
            return;
        }
        resyncs.increment();
        final List<String> users = new ArrayList<>(all.getAndSet(false) ? followed.keySet() : retrying);
        retrying.removeAll(users);
        final Map<String, List<String>> byShard = new java.util.HashMap<>();
        synchronized (followed)
        {
            for (final String user : users)
            {
                if (!followed.containsKey(user))
                {
                    continue;
                }
                final String channel = StreamCodec.userTag(cluster.prefix, user);
                final String shard = cluster.shards.shardOf(channel);
                final String before = subscribedAt.put(user, shard);
                if (before != null && !before.equals(shard))
                {
                    // The channel's slot moved (a failover keeps the old primary as a replica, which still relays
                    // the shard's messages): leave it there, or the node would read every message twice.
                    cluster.shards.ssubscribe(connection, before, false, channel).exceptionally(cluster::failed);
                }
                byShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(user);
            }
        }
        final AtomicInteger pending = new AtomicInteger(byShard.size());
        final AtomicBoolean failed = new AtomicBoolean();
        if (byShard.isEmpty())
        {
            whole.run();
            return;
        }
        for (final Map.Entry<String, List<String>> shard : byShard.entrySet())
        {
            final List<String> some = shard.getValue();
            final String[] channels = some.stream().map(u -> StreamCodec.userTag(cluster.prefix, u))
                .toArray(String[]::new);
            cluster.shards.ssubscribe(connection, shard.getKey(), true, channels)
                .thenCompose(subscribed -> announce(some))
                .whenCompleteAsync((ok, error) ->
                {
                    if (error != null)
                    {
                        failed.set(true);
                        cluster.redisErrors.increment();
                        LOG.debug("resubscribing failed, retrying: node={} shard={} users={} cause={}",
                            cluster.settings.nodeId, shard.getKey(), some.size(), error.toString());
                        if (Shards.isTopologyError(error))
                        {
                            cluster.shards.refresh();
                        }
                        retrying.addAll(some);
                    }
                    if (pending.decrementAndGet() == 0)
                    {
                        finished(failed.get());
                    }
                }, cluster.executor());
        }
    }

    /** One check ended: retry what failed, or tell the feed it is whole once nothing waits for a retry. */
    private void finished(final boolean failed)
    {
        if (failed)
        {
            schedule(retryMs);
            retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
            return;
        }
        retryMs = FIRST_RETRY_MS;
        if (retrying.isEmpty())
        {
            whole.run();
        }
    }

    private CompletableFuture<Void> announce(final List<String> users)
    {
        final List<CompletableFuture<?>> calls = new ArrayList<>();
        for (int from = 0; from < users.size(); from += ANNOUNCE_BATCH)
        {
            calls.add(cluster.announceHeads(new ArrayList<>(users.subList(from, Math.min(users.size(),
                from + ANNOUNCE_BATCH)))));
        }
        return CompletableFuture.allOf(calls.toArray(new CompletableFuture[0]));
    }
}
