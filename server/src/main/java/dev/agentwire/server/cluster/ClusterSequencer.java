package dev.agentwire.server;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.core.PublishStatus;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Publishes through the cluster's sequencer: one Lua script per batch numbers every recipient's stream, stores
 * the event in each recipient's history and appends it to the shared log, atomically and in batch order. The
 * answer comes once Redis has done so: an accepted event is durable in Redis (as durable as its persistence
 * settings make it), and reaches every node, this one included, through the log.
 * <p>
 * Redis unreachable, or no answer within the command timeout: the batch is answered {@link #UNAVAILABLE}
 * (HTTP 503). After a timeout the outcome is unknown (Redis may have run the script): producers retry with the
 * same event ids, which makes the retry safe.
 */
final class ClusterPublisher implements EventPublisher
{
    /** Redis could not be reached or did not answer in time. A server-level status, beside {@link PublishStatus}. */
    static final long UNAVAILABLE = -100;

    private static final Map<String, Long> REFUSALS = new HashMap<>();

    static
    {
        for (final long status : new long[]{
            PublishStatus.RUN_NOT_STARTED, PublishStatus.RUN_ALREADY_STARTED, PublishStatus.RUN_COMPLETED,
            PublishStatus.TOOL_CALL_UNKNOWN, PublishStatus.TOOL_CALL_DUPLICATE, PublishStatus.TOOL_CALLS_OPEN})
        {
            REFUSALS.put(PublishStatus.name(status), status);
        }
    }

    private static final int FIELDS_PER_EVENT = 12;
    private static final int HEADER_FIELDS = 9;

    private final RedisCluster cluster;
    private final GatewayMetrics metrics;
    private final AgentWireConfig engine;
    private final AgentWire validator;

    ClusterPublisher(final RedisCluster cluster, final GatewayMetrics metrics, final AgentWire validator)
    {
        this.validator = validator;
        this.cluster = cluster;
        this.metrics = metrics;
        this.engine = validator.config();
    }

    static String statusName(final long status)
    {
        return status == UNAVAILABLE ? "unavailable" : PublishStatus.name(status);
    }

    @Override
    public void publish(final List<EventDraft> events, final BatchPublisher.Done done, final BatchPublisher.Done published)
    {
        final List<BatchPublisher.EventResult> results = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++)
        {
            results.add(new BatchPublisher.EventResult(i));
        }
        final BatchPublisher.BatchResult batch = new BatchPublisher.BatchResult(results);
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
                batch.refusal = UNAVAILABLE;
                for (final BatchPublisher.EventResult result : results)
                {
                    result.status = "not_attempted";
                }
                metrics.refused("unavailable");
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
        cluster.membership(join, userId, room).whenComplete((reply, error) -> status.accept(error == null ? 0 : UNAVAILABLE));
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
        args[i++] = utf8(Long.toString(cluster.config.clusterLogMaxEntries()));
        args[i++] = utf8(RedisCluster.epochCandidate());
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

    private void read(final List<Object> reply, final BatchPublisher.BatchResult batch)
    {
        for (int i = 0; i < reply.size(); i++)
        {
            @SuppressWarnings("unchecked")
            final List<Object> one = (List<Object>)reply.get(i);
            final String status = text(one.get(0));
            final BatchPublisher.EventResult result = batch.results.get(i);
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
                batch.refusal = REFUSALS.getOrDefault(status, PublishStatus.INVALID_ARGUMENT);
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
