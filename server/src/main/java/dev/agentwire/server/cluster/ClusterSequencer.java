package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishStatus;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;

import java.util.List;
import java.util.function.LongConsumer;

/**
 * Publishes through the cluster's sequencer: one Lua script per batch numbers every recipient's stream, stores
 * the event in each recipient's history and appends it to the shared log, atomically and in batch order. The
 * answer comes once Redis has done so: an accepted event is durable in Redis (as durable as its persistence
 * settings make it), and reaches every node, this one included, through the log.
 * <p>
 * Redis unreachable, or no answer within the command timeout: the batch is answered
 * {@link Refusals#UNAVAILABLE} (HTTP 503). After a timeout the outcome is unknown (Redis may have run the script):
 * producers retry with the same event ids, which makes the retry safe.
 */
final class ClusterSequencer implements Sequencer
{
    private final RedisLink cluster;
    private final ServerMetrics metrics;
    private final AgentWireConfig engine;
    private final AgentWire validator;

    ClusterSequencer(final RedisLink cluster, final ServerMetrics metrics, final AgentWire validator)
    {
        this.validator = validator;
        this.cluster = cluster;
        this.metrics = metrics;
        this.engine = validator.config();
    }

    @Override
    public void publish(final List<EventDraft> events, final Done done, final Done published)
    {
        final BatchResult batch = new BatchResult(events.size());
        final List<EventResult> results = batch.results;
        for (int i = 0; i < events.size(); i++)
        {
            if (validator.check(events.get(i)) != 0)
            {
                // The parser checks these already; the engine's rules are the one statement of them.
                results.get(i).status = PublishStatus.INVALID_ARGUMENT;
                batch.refusal = PublishStatus.INVALID_ARGUMENT;
                metrics.refused(Refusals.name(PublishStatus.INVALID_ARGUMENT));
                done.onDone(batch);
                return;
            }
        }
        cluster.publish(LogEntryCodec.publishArguments(cluster.prefix, engine, cluster.settings.logMaxEntries,
            RedisLink.epochCandidate(), events)).whenCompleteAsync((reply, error) ->
        {
            if (error != null)
            {
                batch.refusal = Refusals.UNAVAILABLE;
                for (final EventResult result : results)
                {
                    result.status = Refusals.NOT_ATTEMPTED;
                }
                metrics.refused(Refusals.name(Refusals.UNAVAILABLE));
            }
            else
            {
                final String refused = LogEntryCodec.readPublishReply(reply, batch);
                if (refused != null)
                {
                    batch.refusal = Refusals.code(refused);
                    metrics.refused(refused);
                }
            }
            metrics.published(batch.accepted);
            done.onDone(batch);
        }, cluster.executor());
    }

    @Override
    public void membership(final boolean join, final String userId, final String room, final LongConsumer status)
    {
        if (userId == null || userId.isEmpty() || room == null || room.isEmpty())
        {
            status.accept(PublishStatus.INVALID_ARGUMENT);
            return;
        }
        cluster.membership(join, userId, room).whenComplete((reply, error) -> status.accept(error == null ? 0 : Refusals.UNAVAILABLE));
    }
}
