package dev.agentwire.server.sequencing;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishStatus;
import dev.agentwire.server.ops.ServerMetrics;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * A single node's sequencer: the engine numbers the events. Publishes a validated batch in order and reports each
 * event's outcome with the stream numbers it was given.
 * <p>
 * Batch rule: events are published one by one, in order, each on its own; the first event the engine refuses
 * (lifecycle rule, ring full, shutting down) stops the batch. Events before it are accepted and delivered; it and
 * the events after it are not (nothing refused is ever partly delivered). A duplicate id is not a refusal: it was
 * already accepted once and is reported as {@code duplicate}. Producers retry from the first event not accepted,
 * and event ids make such retries safe.
 */
public final class LocalSequencer implements Sequencer
{
    /** Counts the events still waiting for their numbers; the batch is done when none are. */
    private static final class Completion implements Runnable
    {
        private final AtomicInteger pending = new AtomicInteger(1);
        private final AtomicBoolean fired = new AtomicBoolean();
        private final BatchResult result;
        private final Done done;

        Completion(final BatchResult result, final Done done)
        {
            this.result = result;
            this.done = done;
        }

        void expect()
        {
            pending.incrementAndGet();
        }

        @Override
        public void run()
        {
            if (pending.decrementAndGet() == 0 && fired.compareAndSet(false, true))
            {
                done.onDone(result);
            }
        }
    }

    private final AgentWire engine;
    private final ServerMetrics metrics;

    /**
     * @param engine  the engine that numbers the events.
     * @param metrics counts accepted and refused events.
     */
    public LocalSequencer(final AgentWire engine, final ServerMetrics metrics)
    {
        this.engine = engine;
        this.metrics = metrics;
    }

    @Override
    public void membership(final boolean join, final String userId, final String room, final LongConsumer status)
    {
        status.accept(join ? engine.join(userId, room) : engine.leave(userId, room));
    }

    @Override
    public void publish(final List<EventDraft> events, final Done done, final Done published)
    {
        final BatchResult batch = new BatchResult(events.size());
        final Completion completion = new Completion(batch, done);
        for (int i = 0; i < events.size(); i++)
        {
            final EventResult result = batch.results.get(i);
            result.completion(completion);
            completion.expect();
            final long status = engine.tryPublish(events.get(i).receipt(result));
            result.status = Math.min(0, status);
            if (status >= 0)
            {
                result.position = status;
                batch.accepted++;
                continue;
            }
            completion.run();
            if (status == PublishStatus.DUPLICATE)
            {
                continue;
            }
            batch.refusal = status;
            metrics.refused(Refusals.name(status));
            break;
        }
        metrics.published(batch.accepted);
        published.onDone(batch);
        completion.run();
    }
}
