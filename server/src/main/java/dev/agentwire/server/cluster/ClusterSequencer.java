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
import io.lettuce.core.RedisCommandTimeoutException;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * Publishes through the cluster's sequencer with group commit: requests that arrive while a group is in Redis wait
 * in a queue, and the next group carries all of them (up to {@code commitMaxEvents}) in one script call, which
 * numbers every recipient's stream, stores each event in the recipients' histories and sends it on their
 * channels, each request atomically and in arrival order. One group is in Redis at a time, so the group grows with
 * the load and Redis's cost per event falls as it does; no thread waits for Redis (the caller returns at once and
 * is answered on the cluster's thread). An accepted event is stored in Redis (as durable as its persistence
 * settings make it), and reaches every node that has a recipient connected, this one included, on its channel.
 * <p>
 * Redis unreachable (the command is refused before it is sent): each request is answered
 * {@link Refusals#UNAVAILABLE}, nothing stored. No answer within the command timeout: {@link Refusals#OUTCOME_UNKNOWN}
 * (Redis may have run the script): producers retry with the same event ids, which makes the retry safe.
 */
final class ClusterSequencer implements Sequencer
{
    /** One request waiting for its group: its events' script arguments, its outcome, and who to tell. */
    private static final class Pending
    {
        final byte[][] arguments;
        final BatchResult batch;
        final Done done;

        Pending(final byte[][] arguments, final BatchResult batch, final Done done)
        {
            this.arguments = arguments;
            this.batch = batch;
            this.done = done;
        }

        int events()
        {
            return arguments.length / StreamCodec.PUBLISH_FIELDS_PER_EVENT;
        }
    }

    private final RedisLink cluster;
    private final ServerMetrics metrics;
    private final AgentWireConfig engine;
    private final AgentWire validator;
    private final int commitMaxEvents;
    private final Queue<Pending> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean inRedis = new AtomicBoolean();
    final LongAdder groups = new LongAdder();
    final LongAdder groupedEvents = new LongAdder();

    ClusterSequencer(final RedisLink cluster, final ServerMetrics metrics, final AgentWire validator)
    {
        this.validator = validator;
        this.cluster = cluster;
        this.metrics = metrics;
        this.engine = validator.config();
        this.commitMaxEvents = cluster.settings.commitMaxEvents;
    }

    @Override
    public void publish(final List<EventDraft> events, final Done done, final Done published)
    {
        final BatchResult batch = new BatchResult(events.size());
        final byte[][] arguments = new byte[StreamCodec.PUBLISH_FIELDS_PER_EVENT * events.size()][];
        final long nowMs = engine.clock().time();
        for (int i = 0; i < events.size(); i++)
        {
            final EventDraft event = events.get(i);
            if (validator.check(event) != 0)
            {
                // The parser checks these already; the engine's rules are the one statement of them.
                batch.results.get(i).status = PublishStatus.INVALID_ARGUMENT;
                batch.refusal = PublishStatus.INVALID_ARGUMENT;
                metrics.refused(Refusals.name(PublishStatus.INVALID_ARGUMENT));
                done.onDone(batch);
                return;
            }
            StreamCodec.eventArguments(event, nowMs, arguments, i * StreamCodec.PUBLISH_FIELDS_PER_EVENT);
        }
        waiting.add(new Pending(arguments, batch, done));
        commit();
    }

    /** Sends the waiting requests as one group unless a group is in Redis (its answer sends the next). */
    private void commit()
    {
        while (!waiting.isEmpty() && inRedis.compareAndSet(false, true))
        {
            final List<Pending> group = new ArrayList<>();
            final List<byte[][]> requests = new ArrayList<>();
            int events = 0;
            Pending next;
            while ((next = waiting.peek()) != null && (group.isEmpty() || events + next.events() <= commitMaxEvents))
            {
                waiting.poll();
                group.add(next);
                requests.add(next.arguments);
                events += next.events();
            }
            if (group.isEmpty())
            {
                inRedis.set(false);
                continue;
            }
            groups.increment();
            groupedEvents.add(events);
            cluster.publish(StreamCodec.publishArguments(cluster.prefix, engine, RedisLink.epochCandidate(),
                requests, events)).whenCompleteAsync((reply, error) ->
            {
                try
                {
                    answer(group, reply, error);
                }
                finally
                {
                    inRedis.set(false);
                    commit();
                }
            }, cluster.executor());
            return;
        }
    }

    private void answer(final List<Pending> group, final List<Object> reply, final Throwable error)
    {
        for (int r = 0; r < group.size(); r++)
        {
            final Pending pending = group.get(r);
            final BatchResult batch = pending.batch;
            if (error != null)
            {
                final boolean unknown = RedisLink.unwrap(error) instanceof RedisCommandTimeoutException;
                batch.refusal = unknown ? Refusals.OUTCOME_UNKNOWN : Refusals.UNAVAILABLE;
                for (final EventResult result : batch.results)
                {
                    result.status = unknown ? Refusals.OUTCOME_UNKNOWN : Refusals.NOT_ATTEMPTED;
                }
                metrics.refused(Refusals.name(batch.refusal));
            }
            else
            {
                @SuppressWarnings("unchecked")
                final List<Object> answers = (List<Object>)reply.get(r);
                final String refused = StreamCodec.readPublishReply(answers, batch);
                if (refused != null)
                {
                    batch.refusal = Refusals.code(refused);
                    metrics.refused(refused);
                }
            }
            metrics.published(batch.accepted);
            pending.done.onDone(batch);
        }
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
