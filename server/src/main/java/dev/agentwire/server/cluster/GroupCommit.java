package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.ops.LatencyHistogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit, shard by shard: each shard has one publish.lua call in Redis at a time, and the parts that arrive
 * meanwhile go together in the next call (up to {@code commitMaxEvents} entries), so the group grows with the load
 * and Redis's cost per event falls as it does. A part that meets a moved slot (nothing of it ran) is sent again once
 * the slot map is known. Answers are handed over on the cluster's thread.
 */
final class GroupCommit
{
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);
    /** How often a step is re-routed after the slot map moved before it is answered unavailable. */
    static final int MAX_REROUTES = 40;
    static final long REROUTE_DELAY_MS = 50;

    /** Entries for one shard's publish.lua, and who waits for their answers (one per entry attempted). */
    final class Part
    {
        final String[] keys;
        final byte[][] arguments;
        final Consumer<Object> answer;
        int reroutes;

        Part(final int entries, final Consumer<Object> answer)
        {
            keys = new String[entries * PublishEntries.PUBLISH_KEYS_PER_ENTRY];
            arguments = new byte[entries * PublishEntries.PUBLISH_ARGS_PER_ENTRY][];
            this.answer = answer;
        }

        int entries()
        {
            return arguments.length / PublishEntries.PUBLISH_ARGS_PER_ENTRY;
        }

        /** Sends this part to its shard's group (the shard of its first key: all its keys live there). */
        void send()
        {
            committer(cluster.shards.shardOf(keys[0])).submit(this);
        }

        /**
         * The slot map moved before the part ran (nothing of it was written): learn the map, then send the part
         * again, a bounded number of times. A part whose keys now live on several shards is answered at once
         * (unavailable, nothing stored: the producer sends it again and it is planned on the new map), so that it
         * never holds up the group it would be sent with.
         */
        void reroute(final Throwable error)
        {
            cluster.shards.refresh();
            if (++reroutes > MAX_REROUTES || !onOneShard())
            {
                answer.accept(error);
                return;
            }
            cluster.executor().schedule(this::send, REROUTE_DELAY_MS, TimeUnit.MILLISECONDS);
        }

        private boolean onOneShard()
        {
            final String shard = cluster.shards.shardOf(keys[0]);
            for (int i = PublishEntries.PUBLISH_KEYS_PER_ENTRY; i < keys.length; i += PublishEntries.PUBLISH_KEYS_PER_ENTRY)
            {
                if (!cluster.shards.shardOf(keys[i]).equals(shard))
                {
                    return false;
                }
            }
            return true;
        }
    }

    /** One shard's group commit: one script call in Redis at a time, the parts that wait go in the next. */
    private final class Committer
    {
        private final String shard;
        private final Queue<Part> waiting = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean inRedis = new AtomicBoolean();

        Committer(final String shard)
        {
            this.shard = shard;
        }

        void submit(final Part part)
        {
            waiting.add(part);
            commit();
        }

        private void commit()
        {
            while (!waiting.isEmpty() && inRedis.compareAndSet(false, true))
            {
                final List<Part> group = new ArrayList<>();
                final List<byte[][]> requests = new ArrayList<>();
                int entries = 0;
                Part next;
                while ((next = waiting.peek()) != null && (group.isEmpty() || entries + next.entries() <= commitMaxEvents))
                {
                    waiting.poll();
                    group.add(next);
                    requests.add(next.arguments);
                    entries += next.entries();
                }
                if (group.isEmpty())
                {
                    inRedis.set(false);
                    continue;
                }
                groups.increment();
                groupedEvents.add(entries);
                final long sentNs = System.nanoTime();
                cluster.publish(shard, group.get(0).keys[0], PublishEntries.publishArguments(cluster.prefix, engine,
                    RedisLink.epochCandidate(), cluster.shards.isSharded(), requests, entries)).whenCompleteAsync((reply, error) ->
                {
                    commitLatency.record(System.nanoTime() - sentNs);
                    try
                    {
                        final boolean moved = error == null && reply.size() == 1 && StreamCodec.isWord(reply.get(0),
                            StreamCodec.MOVED);
                        for (int r = 0; r < group.size(); r++)
                        {
                            final Part part = group.get(r);
                            if (moved || error != null && Shards.isTopologyError(error))
                            {
                                part.reroute(moved ? new IllegalStateException("MOVED: a slot moved") : error);
                            }
                            else
                            {
                                answer(part, error != null ? error : reply.get(r));
                            }
                        }
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
    }

    /**
     * A part's answer handed over. A handler that throws is a programmer error: it is logged, and the other parts
     * of its group still get their answers (its own producer is told outcome_unknown when its wait times out).
     */
    private static void answer(final Part part, final Object reply)
    {
        try
        {
            part.answer.accept(reply);
        }
        catch (final RuntimeException e)
        {
            LOG.error("publish answer not handled: entries={}", part.entries(), e);
        }
    }

    private final RedisLink cluster;
    private final AgentWireConfig engine;
    private final int commitMaxEvents;
    private final Map<String, Committer> committers = new ConcurrentHashMap<>();
    final LongAdder groups = new LongAdder();
    final LongAdder groupedEvents = new LongAdder();
    /** What Redis's latency is to this node's publishes: recorded before any part of the group is answered. */
    final LatencyHistogram commitLatency = new LatencyHistogram("agentwire_cluster_commit_seconds", "Group " +
        "commits from sent to Redis to their answer (or failure) handled, one per script call; a shard's next group " +
        "waits for it.");

    GroupCommit(final RedisLink cluster, final AgentWireConfig engine)
    {
        this.cluster = cluster;
        this.engine = engine;
        this.commitMaxEvents = cluster.settings.commitMaxEvents;
    }

    /**
     * @param entries the part's entries; fill its {@link Part#keys} and {@link Part#arguments}, then
     *                {@link Part#send()} it.
     * @param answer  told the script's answers for the part (publish.lua's flat list for its request: per entry
     *                attempted, seq and epoch when numbered, else one answer) or the failure.
     */
    Part part(final int entries, final Consumer<Object> answer)
    {
        return new Part(entries, answer);
    }

    private Committer committer(final String shard)
    {
        return committers.computeIfAbsent(shard, Committer::new);
    }
}
