package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.core.PublishStatus;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;

import java.nio.charset.StandardCharsets;
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
    private static final int FIELDS_PER_EVENT = 12;
    private static final int HEADER_FIELDS = 9;

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
                results.get(i).status = PublishStatus.name(PublishStatus.INVALID_ARGUMENT);
                batch.refusal = PublishStatus.INVALID_ARGUMENT;
                metrics.refused(results.get(i).status);
                done.onDone(batch);
                return;
            }
        }
        cluster.publish(arguments(events)).whenCompleteAsync((reply, error) ->
        {
            if (error != null)
            {
                batch.refusal = Refusals.UNAVAILABLE;
                for (final EventResult result : results)
                {
                    result.status = "not_attempted";
                }
                metrics.refused(Refusals.name(Refusals.UNAVAILABLE));
            }
            else
            {
                read(reply, batch);
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

    private byte[][] arguments(final List<EventDraft> events)
    {
        final byte[][] args = new byte[HEADER_FIELDS + FIELDS_PER_EVENT * events.size()][];
        int i = 0;
        args[i++] = utf8(cluster.prefix);
        args[i++] = utf8(Integer.toString(engine.historyMaxEvents()));
        args[i++] = utf8(Long.toString(engine.userRetentionMs()));
        args[i++] = utf8(Long.toString(engine.dedupWindowMs()));
        args[i++] = utf8(Long.toString(engine.runRetentionMs()));
        args[i++] = utf8(engine.lifecycleMode() == AgentWireConfig.LifecycleMode.STRICT ? "1" : "0");
        args[i++] = utf8(Long.toString(cluster.settings.logMaxEntries));
        args[i++] = utf8(RedisLink.epochCandidate());
        args[i++] = utf8(Integer.toString(events.size()));
        for (final EventDraft d : events)
        {
            args[i++] = utf8(d.isToUser() ? "u" : d.isToRoom() ? "r" : "b");
            args[i++] = utf8(d.isBroadcast() ? "" : d.target());
            args[i++] = utf8(d.type());
            args[i++] = utf8(verb(d.type()));
            args[i++] = utf8(d.runId());
            args[i++] = utf8(d.threadId());
            args[i++] = utf8(d.eventId());
            args[i++] = utf8(d.toolCallId());
            args[i++] = utf8(d.outcome() == Outcome.SUCCESS ? "1" : "0");
            args[i++] = utf8(d.isBinary() ? "1" : "0");
            args[i++] = utf8(Long.toString(d.timestampMs()));
            args[i++] = d.payloadBytes();
        }
        return args;
    }

    /** The lifecycle step of a type, as the script names it; empty for custom types. */
    private static String verb(final String type)
    {
        switch (type)
        {
            case EventTypes.AGENT_STARTED:
                return "start";
            case EventTypes.AGENT_THINKING:
                return "think";
            case EventTypes.TOOL_EXECUTING:
                return "exec";
            case EventTypes.TOOL_COMPLETED:
                return "done_tool";
            case EventTypes.AGENT_COMPLETED:
                return "done_agent";
            default:
                return "";
        }
    }

    private void read(final List<Object> reply, final BatchResult batch)
    {
        for (int i = 0; i < reply.size(); i++)
        {
            @SuppressWarnings("unchecked")
            final List<Object> one = (List<Object>)reply.get(i);
            final String status = text(one.get(0));
            final EventResult result = batch.results.get(i);
            result.status = status;
            if ("accepted".equals(status))
            {
                batch.accepted++;
                @SuppressWarnings("unchecked")
                final List<Object> numbered = (List<Object>)one.get(1);
                for (int r = 0; r + 2 < numbered.size(); r += 3)
                {
                    result.onSequenced(text(numbered.get(r)), Long.parseLong(text(numbered.get(r + 1))),
                        ((Number)numbered.get(r + 2)).longValue());
                }
            }
            else if (!"duplicate".equals(status))
            {
                batch.refusal = Refusals.code(status);
                metrics.refused(status);
            }
        }
    }

    static String text(final Object value)
    {
        if (value instanceof byte[])
        {
            return new String((byte[])value, StandardCharsets.UTF_8);
        }
        return String.valueOf(value);
    }

    private static byte[] utf8(final String value)
    {
        return value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8);
    }
}
