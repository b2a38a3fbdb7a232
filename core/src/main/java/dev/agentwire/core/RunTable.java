package dev.agentwire.core;

import org.agrona.collections.Object2ObjectHashMap;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One stripe's runs, by owner and run id: a run belongs to the user, room or broadcast its events go to, so two
 * producers (or two users' agents) that happen to use the same run id never touch each other's run. Lookups are
 * two hash probes, allocating nothing for a known owner. Counts every run it holds in the engine-wide total the
 * {@code maxRuns} bound is checked against. Guarded by its stripe's lock.
 */
final class RunTable
{
    // Index: the target kind (user, room, broadcast); then owner, then run id.
    @SuppressWarnings("unchecked")
    private final Object2ObjectHashMap<String, Object2ObjectHashMap<String, RunState>>[] byKind =
        new Object2ObjectHashMap[EventDraft.TARGET_BROADCAST + 1];
    private final AtomicInteger engineTotal;

    RunTable(final AtomicInteger engineTotal)
    {
        this.engineTotal = engineTotal;
        for (int kind = 0; kind < byKind.length; kind++)
        {
            byKind[kind] = new Object2ObjectHashMap<>();
        }
    }

    /** @return the run, or null when this owner has no run of this id. */
    RunState get(final byte kind, final String owner, final String runId)
    {
        final Object2ObjectHashMap<String, RunState> runs = byKind[kind].get(ownerKey(owner));
        return runs == null ? null : runs.get(runId);
    }

    /** Adds a new run (the caller checked the engine-wide bound). */
    void put(final byte kind, final String owner, final String runId, final RunState run)
    {
        final String key = ownerKey(owner);
        Object2ObjectHashMap<String, RunState> runs = byKind[kind].get(key);
        if (runs == null)
        {
            runs = new Object2ObjectHashMap<>();
            byKind[kind].put(key, runs);
        }
        if (runs.put(runId, run) == null)
        {
            engineTotal.incrementAndGet();
        }
    }

    /** Forgets the runs whose last event is older than the cutoff. */
    void sweep(final long cutoffMs)
    {
        for (final Object2ObjectHashMap<String, Object2ObjectHashMap<String, RunState>> owners : byKind)
        {
            final Iterator<Map.Entry<String, Object2ObjectHashMap<String, RunState>>> byOwner =
                owners.entrySet().iterator();
            while (byOwner.hasNext())
            {
                final Object2ObjectHashMap<String, RunState> runs = byOwner.next().getValue();
                final Iterator<Map.Entry<String, RunState>> it = runs.entrySet().iterator();
                while (it.hasNext())
                {
                    if (it.next().getValue().lastEventMs < cutoffMs)
                    {
                        it.remove();
                        engineTotal.decrementAndGet();
                    }
                }
                if (runs.isEmpty())
                {
                    byOwner.remove();
                }
            }
        }
    }

    private static String ownerKey(final String owner)
    {
        return owner == null ? "" : owner;
    }
}
