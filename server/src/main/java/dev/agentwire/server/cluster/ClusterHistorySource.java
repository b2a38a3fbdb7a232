package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.HistorySource;
import dev.agentwire.core.Subscription;

import java.util.concurrent.TimeUnit;

/**
 * Answers a node's slices from the cluster's Redis when they cannot answer a subscribe themselves: the user's
 * epoch, the seqs Redis still holds and the events the cursor needs. While Redis is unreachable the fetch is
 * retried with backoff; the subscription waits with its connection up (heartbeats go on) until Redis answers or
 * the client leaves.
 */
final class ClusterHistorySource implements HistorySource
{
    private static final long FIRST_RETRY_MS = 100;
    private static final long MAX_RETRY_MS = 2_000;

    private final RedisLink cluster;
    private final AgentWireConfig engineConfig;
    // Until the log tailer runs, the node holds nothing it could answer from.
    private volatile boolean feedCurrent;

    ClusterHistorySource(final RedisLink cluster, final AgentWireConfig engineConfig)
    {
        this.cluster = cluster;
        this.engineConfig = engineConfig;
    }

    /** Told by the log tailer whether it reads the shared log without failing and has reached its end. */
    void feedCurrent(final boolean current)
    {
        feedCurrent = current;
    }

    @Override
    public boolean isCurrent()
    {
        return feedCurrent;
    }

    @Override
    public void fetch(final Subscription subscription, final long epoch, final long afterSeq)
    {
        fetch(subscription, epoch, afterSeq, FIRST_RETRY_MS);
    }

    private void fetch(final Subscription subscription, final long epoch, final long afterSeq, final long retryMs)
    {
        if (subscription.isClosed())
        {
            return;
        }
        cluster.fetch(LogEntryCodec.fetchArguments(cluster.prefix, subscription.userId(), epoch, afterSeq,
                engineConfig, RedisLink.epochCandidate()))
            .whenCompleteAsync((reply, error) ->
            {
                if (error != null)
                {
                    cluster.executor().schedule(() -> fetch(subscription, epoch, afterSeq,
                        Math.min(MAX_RETRY_MS, retryMs * 2)), retryMs, TimeUnit.MILLISECONDS);
                    return;
                }
                subscription.backfill(LogEntryCodec.readBackfill(subscription.userId(), reply));
            }, cluster.executor());
    }
}
