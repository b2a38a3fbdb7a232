package dev.agentwire.server.cluster;

import dev.agentwire.core.EventDraft;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.RunStateGuard;
import dev.agentwire.server.sequencing.Sequencer.Done;

import java.util.List;
import java.util.function.Consumer;

/**
 * One producer request on its way through the shards ({@link ClusterSequencer}): its events, their records and
 * shards, and the results the script's answers fill in. Touched on the cluster's thread once submitted.
 */
final class PublishRequest
{
    final List<EventDraft> events;
    final byte[][] records;
    /** Each event's owner's tag ({@link StreamCodec#ownerTag}): its routing key, made once. */
    final String[] tags;
    /** Each event's shard as the plan saw it (a part found elsewhere by then is re-routed when sent). */
    final String[] shards;
    final BatchResult batch;
    final Done done;
    /** The native AG-UI run state the events were checked against, sent with the first part; or null. */
    RunStateGuard guard;
    int pendingParts;
    boolean finished;

    private final ServerMetrics metrics;
    /** Told each failed step's cause (the sequencer logs it, at most once a second). */
    private final Consumer<Throwable> onFailure;

    PublishRequest(final List<EventDraft> events, final byte[][] records, final String[] tags, final String[] shards,
        final BatchResult batch, final Done done, final ServerMetrics metrics, final Consumer<Throwable> onFailure)
    {
        this.events = events;
        this.records = records;
        this.tags = tags;
        this.shards = shards;
        this.batch = batch;
        this.done = done;
        this.metrics = metrics;
        this.onFailure = onFailure;
    }

    /**
     * A guard's answers: each run's current state when any changed (then nothing was written, and the request
     * stops with {@link Refusals#RUN_STATE_CHANGED}).
     *
     * @return true when the request goes on.
     */
    boolean takeGuard(final List<Object> answers)
    {
        boolean stale = false;
        for (int i = 0; i < guard.size(); i++)
        {
            final Object answer = answers.get(i);
            if (answer instanceof List)
            {
                final List<?> found = (List<?>)answer;
                final byte[] state = found.get(2) instanceof byte[] ? (byte[])found.get(2) : null;
                guard.current(i, Long.parseLong(StreamCodec.text(found.get(1))),
                    state == null || state.length == 0 ? null : state);
                stale = true;
            }
        }
        if (stale && !events.isEmpty())
        {
            batch.results.get(0).status = Refusals.RUN_STATE_CHANGED;
            refuse(Refusals.RUN_STATE_CHANGED);
        }
        else if (stale)
        {
            batch.refusal = Refusals.RUN_STATE_CHANGED;
        }
        return !stale;
    }

    /** Event {@code index} was numbered {@code seq} in {@code userId}'s stream of {@code epoch}. */
    void numbered(final int index, final String userId, final long epoch, final long seq)
    {
        accepted(batch.results.get(index)).onSequenced(userId, epoch, seq);
    }

    /**
     * Takes one entry's answer for event {@code index} that numbered no one: a status's name, an empty list (no
     * one to number), or a failure.
     */
    void take(final int index, final Object answer)
    {
        final EventResult result = batch.results.get(index);
        if (answer instanceof Throwable)
        {
            onFailure.accept((Throwable)answer);
            final long failed = RedisLink.mayHaveRun((Throwable)answer) ?
                Refusals.OUTCOME_UNKNOWN : Refusals.UNAVAILABLE;
            result.status = failed == Refusals.OUTCOME_UNKNOWN ? Refusals.OUTCOME_UNKNOWN : Refusals.NOT_ATTEMPTED;
            refuse(failed);
        }
        else if (answer instanceof List)
        {
            // Accepted, and no one to number (a room without members): nothing more to tell.
            accepted(result);
        }
        else
        {
            final String status = StreamCodec.text(answer);
            result.status = Refusals.code(status);
            if (!"duplicate".equals(status))
            {
                refuse(result.status);
            }
        }
    }

    /**
     * Event {@code index}, to a room or everyone, was admitted on its owner's shard and numbering it on a member's
     * shard failed: it may have reached some members, so whatever the failure its outcome is unknown. A retry with
     * its id numbers it for the members that missed it, and for none twice (each member keeps its mark).
     */
    void unfinished(final int index, final Throwable failure)
    {
        onFailure.accept(failure);
        final EventResult result = batch.results.get(index);
        if (result.status == 0)
        {
            batch.accepted--;
        }
        result.status = Refusals.OUTCOME_UNKNOWN;
        refuse(Refusals.OUTCOME_UNKNOWN);
    }

    /** @return the result, counted accepted once. */
    private EventResult accepted(final EventResult result)
    {
        if (result.status != 0)
        {
            result.status = 0;
            batch.accepted++;
        }
        return result;
    }

    void refuse(final long status)
    {
        if (batch.refusal == 0)
        {
            batch.refusal = status;
            metrics.refused(Refusals.name(status));
        }
    }

    void finish()
    {
        if (!finished)
        {
            finished = true;
            metrics.published(batch.accepted);
            done.onDone(batch);
        }
    }
}
