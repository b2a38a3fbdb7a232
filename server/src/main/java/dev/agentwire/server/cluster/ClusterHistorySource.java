package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.Backfill;
import dev.agentwire.core.HistorySource;
import dev.agentwire.core.Subscription;

import java.util.concurrent.TimeUnit;

/**
 * Answers a node's slices from the cluster's Redis when they cannot answer a subscribe themselves: the user's
 * epoch, the seqs Redis still holds and the events the cursor needs. A user this node does not follow yet is
 * followed first (its channel subscribed), then fetched, so that every event is either in the answer or arrives
 * on the channel after it; such an answer is {@link Backfill#restarting() restarting}, because what the slice held
 * of the user from an earlier visit may be stale. While Redis is unreachable the fetch is retried with backoff; the
 * subscription waits with its connection up (heartbeats go on) until Redis answers or the client leaves.
 */
final class ClusterHistorySource implements HistorySource
{
    private static final long FIRST_RETRY_MS = 100;
    private static final long MAX_RETRY_MS = 2_000;

    private final RedisLink cluster;
    private final AgentWireConfig engineConfig;
    // Set once the feed exists: until then the node holds nothing it could answer from.
    private volatile StreamFeed feed;

    ClusterHistorySource(final RedisLink cluster, final AgentWireConfig engineConfig)
    {
        this.cluster = cluster;
        this.engineConfig = engineConfig;
    }

    void feed(final StreamFeed feed)
    {
        this.feed = feed;
    }

    @Override
    public boolean isCurrent()
    {
        final StreamFeed current = feed;
        return current != null && current.isUp();
    }

    @Override
    public boolean isCurrent(final String userId)
    {
        final StreamFeed current = feed;
        return current != null && current.isFollowing(userId);
    }

    @Override
    public void fetch(final Subscription subscription, final long epoch, final long afterSeq)
    {
        fetch(subscription, epoch, afterSeq, !isCurrent(subscription.userId()), FIRST_RETRY_MS);
    }

    private void fetch(
        final Subscription subscription, final long epoch, final long afterSeq, final boolean restarting,
        final long retryMs)
    {
        final StreamFeed current = feed;
        if (subscription.isClosed() || current == null)
        {
            return;
        }
        current.follow(subscription.userId())
            .thenCompose(subscribed -> cluster.fetch(subscription.userId(), StreamCodec.fetchArguments(cluster.prefix,
                subscription.userId(), epoch, afterSeq, engineConfig, RedisLink.epochCandidate())))
            .whenCompleteAsync((reply, error) ->
            {
                if (error != null)
                {
                    cluster.executor().schedule(() -> fetch(subscription, epoch, afterSeq, restarting,
                        Math.min(MAX_RETRY_MS, retryMs * 2)), retryMs, TimeUnit.MILLISECONDS);
                    return;
                }
                final Backfill backfill = StreamCodec.readBackfill(subscription.userId(), reply);
                subscription.backfill(restarting ? backfill.restarting() : backfill);
                current.seen(subscription.userId(), backfill.epoch(), backfill.lastSeq());
            }, cluster.executor());
    }
}
