package dev.agentwire.server.agui;

import dev.agentwire.server.sequencing.RunStateGuard;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The states the native AG-UI run rules judge by ({@link AgUiRules}): each run's open parts, and each thread's wait
 * for answers ({@link AgUiInterrupts}), keyed {@code owner + NUL + runId}. A checked batch works on copies of what
 * it touches ({@link #state}) and {@link #commit}s them one version on; what a cluster shares of them travels as a
 * {@link RunStateGuard}. Bounded: at most {@code maxRuns} states (the oldest changed forgotten first), and an ended
 * run's state forgotten {@code retentionMs} after it ended. Not thread-safe: used under {@link AgUiRules}' lock.
 */
final class AgUiRunTable
{
    private final int maxRuns;
    private final long retentionMs;
    // owner + '\u0000' + runId -> state; insertion order = last change, for eviction.
    private final LinkedHashMap<String, AgUiRun> runs = new LinkedHashMap<>();
    // Runs in the order they ended, for their retention (an entry whose run changed since is passed over).
    private final ArrayDeque<Ended> ended = new ArrayDeque<>();
    private long forgotten;

    AgUiRunTable(final int maxRuns, final long retentionMs)
    {
        this.maxRuns = maxRuns;
        this.retentionMs = retentionMs;
    }

    /** @return the state kept under a key ({@link #key}), or null. */
    AgUiRun get(final String key)
    {
        return runs.get(key);
    }

    /** A run that ended, under its key, for the retention. */
    private static final class Ended
    {
        final String key;
        final AgUiRun run;

        Ended(final String key, final AgUiRun run)
        {
            this.key = key;
            this.run = run;
        }
    }

    /** Applies a checked plan: each state it leaves replaces the one it was checked against, one version on. */
    void commit(final AgUiPlan plan, final String batchKey, final int accepted, final long nowMs)
    {
        for (final Map.Entry<String, AgUiRun> entry : plan.after.entrySet())
        {
            final AgUiRun run = entry.getValue();
            if (run.ended && run.endedAtMs == 0)
            {
                run.endedAtMs = nowMs;
                ended.add(new Ended(entry.getKey(), run));
            }
            plan.checkedVersions.put(entry.getKey(), run.version);
            run.version++;
            if (batchKey != null)
            {
                run.lastBatchKey = batchKey;
                run.lastBatchAccepted = accepted;
                run.lastBatchAtMs = nowMs;
            }
            plan.before.put(entry.getKey(), runs.remove(entry.getKey()));
            runs.put(entry.getKey(), run);
        }
        while (runs.size() > maxRuns)
        {
            runs.remove(runs.keySet().iterator().next());
            forgotten++;
        }
        while (ended.size() > maxRuns)
        {
            ended.poll(); // entries of runs already evicted by the bound
        }
    }

    /** Forgets finished runs past their retention, in the order they ended. */
    void expire(final long nowMs)
    {
        while (!ended.isEmpty())
        {
            final Ended oldest = ended.peek();
            if (nowMs - oldest.run.endedAtMs < retentionMs)
            {
                break;
            }
            ended.poll();
            if (runs.get(oldest.key) == oldest.run)
            {
                runs.remove(oldest.key);
                forgotten++;
            }
        }
    }

    /** @return runs forgotten, at the maxRuns bound or past their retention. */
    long forgotten()
    {
        return forgotten;
    }

    /** Takes back a batch the sequencer refused, where no later batch has built on it. */
    void revert(final AgUiPlan plan)
    {
        for (final Map.Entry<String, AgUiRun> entry : plan.after.entrySet())
        {
            if (runs.get(entry.getKey()) == entry.getValue())
            {
                final AgUiRun before = plan.before.get(entry.getKey());
                if (before == null)
                {
                    runs.remove(entry.getKey());
                }
                else
                {
                    runs.put(entry.getKey(), before);
                }
            }
        }
    }

    /** @return states kept now. */
    int size()
    {
        return runs.size();
    }

    /**
     * @return the guard of a checked batch: each run it touched, the version it was checked at and the state it
     *         leaves (a cluster stores the batch only if those versions are still current).
     */
    RunStateGuard guard(final AgUiPlan plan)
    {
        final RunStateGuard guard = new RunStateGuard(plan.owner);
        for (final Map.Entry<String, AgUiRun> entry : plan.after.entrySet())
        {
            guard.add(runIdOf(plan.owner, entry.getKey()), plan.checkedVersions.get(entry.getKey()),
                entry.getValue().toBytes());
        }
        for (final Map.Entry<String, Long> entry : plan.verified.entrySet())
        {
            if (!plan.after.containsKey(entry.getKey()))
            {
                guard.add(runIdOf(plan.owner, entry.getKey()), entry.getValue(), null);
            }
        }
        return guard;
    }

    /**
     * Takes the runs' current shared state a guard was answered with (another node changed them): this node's
     * copy becomes that state, or is dropped where none is kept.
     *
     * @throws IllegalArgumentException a state that is not one {@link AgUiRun#toBytes()} made.
     */
    void refresh(final RunStateGuard guard)
    {
        for (int i = 0; i < guard.size(); i++)
        {
            if (guard.currentVersion(i) < 0)
            {
                continue;
            }
            final String key = key(guard.owner, guard.runId(i));
            final byte[] state = guard.currentState(i);
            if (state == null)
            {
                runs.remove(key);
                continue;
            }
            final AgUiRun run = AgUiRun.fromBytes(state, guard.currentVersion(i));
            runs.remove(key);
            runs.put(key, run);
            if (run.ended)
            {
                ended.add(new Ended(key, run));
            }
        }
        while (runs.size() > maxRuns)
        {
            runs.remove(runs.keySet().iterator().next());
            forgotten++;
        }
    }

    /**
     * Drops this node's copy of the runs a batch touched: the cluster's answer left unknown what it stored (the
     * next batch of those runs is checked against the shared state, which a refusal verifies).
     */
    void forget(final AgUiPlan plan)
    {
        for (final String key : plan.after.keySet())
        {
            runs.remove(key);
        }
    }

    /** @return the run id (or thread entry) of a key. */
    static String runIdOf(final String owner, final String key)
    {
        return key.substring(owner.length() + 1);
    }

    /** @return the plan's copy of a run's state (made on first touch), or null when none is kept. */
    AgUiRun state(final AgUiPlan plan, final String owner, final String runId)
    {
        final String key = key(owner, runId);
        AgUiRun run = plan.after.get(key);
        if (run == null)
        {
            final AgUiRun known = runs.get(key);
            if (known == null)
            {
                return null;
            }
            run = known.copy();
            plan.after.put(key, run);
        }
        return run;
    }

    /** @return the key of an owner's run (or thread entry). */
    static String key(final String owner, final String runId)
    {
        return owner + '\u0000' + runId;
    }
}
