package dev.agentwire.server.sequencing;

import java.util.ArrayList;
import java.util.List;

/**
 * The run state a batch was checked against, for a sequencer that shares run state between nodes (a cluster): each
 * run the batch touches, the version of its state the check started from, and the state the batch leaves it in.
 * The sequencer stores the batch only if every run is still at its version, and then writes the new states with
 * it, atomically; otherwise it stores nothing, answers {@link Refusals#RUN_STATE_CHANGED} and fills in each run's
 * current state ({@link #current}), for the check to run again. A guard without new states only verifies (a batch
 * refused by a rule: was the refusal made against the current state?). One node keeps its run state alone: its
 * sequencer ignores guards. Made and read by one request at a time; filled in by the sequencer's thread before the
 * request's answer.
 */
public final class RunStateGuard
{
    /** The owner the runs belong to, as a hash tag's content: {@code u:<user>} or {@code r:<room>}. */
    public final String owner;
    private final List<String> runIds = new ArrayList<>();
    private final List<Long> versions = new ArrayList<>();
    private final List<byte[]> states = new ArrayList<>();
    private final List<Long> currentVersions = new ArrayList<>();
    private final List<byte[]> currentStates = new ArrayList<>();

    /** @param owner {@code u:<user>} or {@code r:<room>}. */
    public RunStateGuard(final String owner)
    {
        this.owner = owner;
    }

    /**
     * @param runId    a run the batch touches.
     * @param version  the version of its state the check started from (0: the run was unknown).
     * @param newState the state the batch leaves (stored as version + 1), or null to only verify the version.
     * @return this.
     */
    public RunStateGuard add(final String runId, final long version, final byte[] newState)
    {
        runIds.add(runId);
        versions.add(version);
        states.add(newState);
        currentVersions.add(-1L);
        currentStates.add(null);
        return this;
    }

    /** @return how many runs it guards. */
    public int size()
    {
        return runIds.size();
    }

    /** @return the i-th run's id. */
    public String runId(final int i)
    {
        return runIds.get(i);
    }

    /** @return the version the i-th run's check started from. */
    public long version(final int i)
    {
        return versions.get(i);
    }

    /** @return the i-th run's new state, or null when the guard only verifies. */
    public byte[] newState(final int i)
    {
        return states.get(i);
    }

    /**
     * The sequencer found the i-th run changed (or verified it): its version and state now.
     *
     * @param version its version (0: no state is kept for it).
     * @param state   its state, or null when none is kept.
     */
    public void current(final int i, final long version, final byte[] state)
    {
        currentVersions.set(i, version);
        currentStates.set(i, state);
    }

    /** @return the i-th run's version as the sequencer last found it, or -1 when it did not say. */
    public long currentVersion(final int i)
    {
        return currentVersions.get(i);
    }

    /** @return the i-th run's state as the sequencer last found it, or null. */
    public byte[] currentState(final int i)
    {
        return currentStates.get(i);
    }
}
