package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.Backfill;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.HistorySource;
import dev.agentwire.core.Subscription;

import java.util.List;
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
        cluster.fetch(RedisLink.args(cluster.prefix, subscription.userId(), Long.toString(epoch),
                Long.toString(afterSeq), Long.toString(engineConfig.historyMaxAgeMs()),
                Long.toString(engineConfig.userRetentionMs()), RedisLink.epochCandidate()))
            .whenCompleteAsync((reply, error) ->
            {
                if (error != null)
                {
                    cluster.executor().schedule(() -> fetch(subscription, epoch, afterSeq,
                        Math.min(MAX_RETRY_MS, retryMs * 2)), retryMs, TimeUnit.MILLISECONDS);
                    return;
                }
                subscription.backfill(read(subscription.userId(), reply));
            }, cluster.executor());
    }

    private static Backfill read(final String userId, final List<Object> reply)
    {
        final long epoch = Long.parseLong(ClusterSequencer.text(reply.get(0)));
        final long first = ((Number)reply.get(1)).longValue();
        final long last = ((Number)reply.get(2)).longValue();
        final Backfill backfill = new Backfill(userId, epoch, first, last);
        @SuppressWarnings("unchecked")
        final List<Object> events = (List<Object>)reply.get(3);
        final EventDraft draft = new EventDraft();
        for (final Object entry : events)
        {
            @SuppressWarnings("unchecked")
            final List<Object> fields = (List<Object>)entry;
            final long seq = LogTailer.fill(draft.reset(), fields, userId);
            backfill.add(draft, seq);
        }
        return backfill;
    }
}
