package dev.agentwire.server;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishReceipt;
import dev.agentwire.core.PublishStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * Publishes a validated batch in order and reports each event's outcome with the stream numbers it was given.
 * <p>
 * Batch rule: events are published one by one, in order, each on its own; the first event the engine refuses
 * (lifecycle rule, ring full, shutting down) stops the batch. Events before it are accepted and delivered; it and
 * the events after it are not (nothing refused is ever partly delivered). A duplicate id is not a refusal: it was
 * already accepted once and is reported as {@code duplicate}. Producers retry from the first event not accepted,
 * and event ids make such retries safe.
 */
final class BatchPublisher implements EventPublisher
{
    /** One event's outcome. */
    static final class EventResult implements PublishReceipt
    {
        final int index;
        String status = "not_attempted";
        long position = -1;
        final List<long[]> seqs = new ArrayList<>(1);
        final List<String> users = new ArrayList<>(1);
        private Completion completion;

        EventResult(final int index)
        {
            this.index = index;
        }

        @Override
        public void onSequenced(final String userId, final long epoch, final long seq)
        {
            synchronized (this)
            {
                users.add(userId);
                seqs.add(new long[]{epoch, seq});
            }
        }

        @Override
        public void onComplete()
        {
            completion.arrive();
        }
    }

    /** The whole batch's outcome. */
    static final class BatchResult
    {
        final List<EventResult> results;
        int accepted;
        long refusal;

        BatchResult(final List<EventResult> results)
        {
            this.results = results;
        }

        boolean allAccepted()
        {
            return refusal == 0;
        }
    }

    /** Receives the result once every accepted event has its numbers (on a slice or the calling thread). */
    interface Done
    {
        void onDone(BatchResult result);
    }

    private static final class Completion
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

        void arrive()
        {
            if (pending.decrementAndGet() == 0 && fired.compareAndSet(false, true))
            {
                done.onDone(result);
            }
        }
    }

    private final AgentWire engine;
    private final GatewayMetrics metrics;

    BatchPublisher(final AgentWire engine, final GatewayMetrics metrics)
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
        final List<EventResult> results = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++)
        {
            results.add(new EventResult(i));
        }
        final BatchResult batch = new BatchResult(results);
        final Completion completion = new Completion(batch, done);
        for (int i = 0; i < events.size(); i++)
        {
            final EventResult result = results.get(i);
            result.completion = completion;
            completion.expect();
            final long status = engine.tryPublish(events.get(i).receipt(result));
            if (status >= 0)
            {
                result.status = "accepted";
                result.position = status;
                batch.accepted++;
                continue;
            }
            completion.arrive();
            if (status == PublishStatus.DUPLICATE)
            {
                result.status = "duplicate";
                continue;
            }
            result.status = PublishStatus.name(status);
            batch.refusal = status;
            metrics.refused(result.status);
            break;
        }
        metrics.published(batch.accepted);
        published.onDone(batch);
        completion.arrive();
    }

    /** HTTP status for a refusal. */
    static int httpStatus(final long refusal)
    {
        if (refusal == 0)
        {
            return 202;
        }
        if (PublishStatus.isLifecycleViolation(refusal))
        {
            return 422;
        }
        if (refusal == PublishStatus.RING_FULL || refusal == PublishStatus.CLOSED ||
            refusal == ClusterPublisher.UNAVAILABLE)
        {
            return 503;
        }
        return 400;
    }
}
