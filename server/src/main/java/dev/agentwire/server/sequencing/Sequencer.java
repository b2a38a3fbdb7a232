package dev.agentwire.server.sequencing;

import dev.agentwire.core.EventDraft;

import java.util.List;
import java.util.function.LongConsumer;

/**
 * The one way producers' events and room changes get in: the engine itself on a single node
 * ({@link LocalSequencer}), or, on a cluster node, the cluster's shared sequencer in Redis, whose log every node's
 * spine then follows.
 * <p>
 * Batch rule, for both: events are taken in order, each on its own; the first refusal stops the batch. Events
 * before it are accepted (and, in a cluster, durable in Redis); it and the events after it are not. A duplicate
 * id is reported as {@code duplicate}, not as a refusal.
 */
public interface Sequencer
{
    /** Events one batch may carry, whatever its format ({@code POST /v1/events}, native AG-UI, producer frames). */
    int MAX_BATCH_EVENTS = 1_000;

    /** Receives a batch's outcome (on a slice, a cluster or the calling thread). */
    @FunctionalInterface
    interface Done
    {
        /** @param result the outcome; not changed after this call. */
        void onDone(BatchResult result);
    }

    /**
     * @param events    the validated events; not touched after {@code done}.
     * @param done      receives the outcome once every accepted event has its numbers.
     * @param published told the outcome as soon as publishing stopped, before the numbers are known, where that
     *                  moment exists (a single node); a cluster answers only through {@code done}.
     */
    void publish(List<EventDraft> events, Done done, Done published);

    /** As {@link #publish(List, Done, Done)}, told only once the numbers are known. */
    default void publish(final List<EventDraft> events, final Done done)
    {
        publish(events, done, batch -> { });
    }

    /**
     * @return true when run state that ingest keeps (native AG-UI runs) is shared with other nodes through this
     *         sequencer, so a batch must be published with its {@link RunStateGuard}, and a refusal by a rule is
     *         verified against the shared state first. One node: false, its own state is the only one.
     */
    default boolean sharesRunState()
    {
        return false;
    }

    /**
     * Publishes a batch only if the run state it was checked against is still current, writing the state it leaves
     * in the same step (see {@link RunStateGuard}). With no events, only verifies the guard. Where run state is not
     * shared this is {@link #publish(List, Done)}.
     *
     * @param guard the runs' versions and new states; on {@link Refusals#RUN_STATE_CHANGED} it holds their current
     *              ones when {@code done} is told.
     */
    default void publish(final List<EventDraft> events, final RunStateGuard guard, final Done done)
    {
        publish(events, done);
    }

    /**
     * Adds a user to a room, or removes it; every connection of the user, on any node, gets the notice.
     *
     * @param status receives a position ({@code >= 0}) or a negative status of {@link Refusals}, on any thread.
     */
    void membership(boolean join, String userId, String room, LongConsumer status);
}
