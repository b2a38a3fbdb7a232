package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the feed does when a user's channel and Redis disagree: it keeps, per followed stream, the (epoch, last seq)
 * the channel brought, fills a gap from the user's history before the message after it ({@link #repair}), and moves
 * a stream Redis holds behind what it brought to a new epoch ({@link #wentBack}). Confined to the feed thread,
 * which waits for Redis here: the one thread that may.
 */
final class StreamRepair
{
    private static final Logger LOG = LoggerFactory.getLogger(StreamRepair.class);

    private final RedisLink cluster;
    private final AgentWire engine;
    private final EventDraft repairDraft = new EventDraft();
    private final Map<String, long[]> seen = new HashMap<>();
    final LongAdder repaired = new LongAdder();
    final LongAdder regressions = new LongAdder();

    StreamRepair(final RedisLink cluster, final AgentWire engine)
    {
        this.cluster = cluster;
        this.engine = engine;
    }

    /** The feed stopped following the user: what its channel brought is no longer current. */
    void forget(final String userId)
    {
        seen.remove(userId);
    }

    /** The channel brought the stream's seq {@code seq} and the spine took it. */
    void seen(final String userId, final long epoch, final long seq)
    {
        final long[] last = seen.get(userId);
        if (last == null)
        {
            seen.put(userId, new long[]{epoch, seq});
        }
        else if (last[0] != epoch || seq > last[1])
        {
            last[0] = epoch;
            last[1] = seq;
        }
    }

    /**
     * Whether the stream went back: Redis's head is behind what this node saw, or the channel brings a seq this
     * node already saw, in the same epoch, with another event than Redis's history holds at that seq (a copy of the
     * same event is possible for a moment while a shard's primary changes, and is only dropped). Redis lost acknowledged events — a primary failed over
     * before replicating them, or restarted from an older file — and numbering on would give new events numbers
     * clients already hold. The stream moves to a new epoch in Redis and restarts here: its clients resume and are
     * told {@code recovered:false}, and get what Redis kept. Runs on the feed thread, which waits for Redis here.
     *
     * @return true when the message is not to be applied: the stream went back (Redis's history holds the message),
     *     or the announcement is stale.
     */
    boolean wentBack(final String userId, final long epoch, final long nextSeq, final byte[] message,
        final int messageLength)
    {
        final long[] last = seen.get(userId);
        if (last == null || last[0] != epoch || nextSeq > last[1])
        {
            return false;
        }
        try
        {
            final List<Object> head = cluster.reepoch(userId, epoch, last[1], message == null ? 0 : nextSeq,
                message == null ? null : StreamCodec.recordOf(message, messageLength)).toCompletableFuture()
                .get(cluster.settings.redisTimeoutMs, TimeUnit.MILLISECONDS);
            if (head.size() == 2 && Long.parseLong(StreamCodec.text(head.get(0))) != epoch)
            {
                final long newEpoch = Long.parseLong(StreamCodec.text(head.get(0)));
                final long lastSeq = ((Number)head.get(1)).longValue();
                regressions.increment();
                LOG.warn("redis lost acknowledged events of a stream (a failover before replication, or a restart " +
                    "from an older file): user={} epoch={} seenSeq={} redisSeq={} newEpoch={}; its clients resume " +
                    "with recovered:false (docs/CLUSTER.md, Durability)", userId, epoch, last[1], lastSeq,
                    newEpoch);
                seen.put(userId, new long[]{newEpoch, lastSeq});
                engine.confirmHead(userId, newEpoch, lastSeq);
            }
            // Else a stale announcement, or a copy of an event already applied (the channel was followed on two
            // shard connections for a moment): nothing to do.
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex)
        {
            // Redis unreachable: the stream is checked again at the next announcement or message.
            cluster.redisErrors.increment();
            seen.remove(userId);
        }
        return true;
    }

    /**
     * Before the message numbered {@code nextSeq} of a stream: when the channel skipped some of the stream (the
     * subscription connection dropped, or this node's queue overflowed), publishes the missed events from Redis's
     * history first, so the spine sees the stream whole and its clients notice nothing. Runs on the feed thread,
     * which waits for Redis here: the one thread that may. When the history no longer covers the gap, or Redis does
     * not answer, the message goes on as it is and the slice restarts the stream (its clients resume from Redis).
     *
     * @return false when the engine is closed.
     */
    boolean repair(final String userId, final long epoch, final long nextSeq)
    {
        final long[] last = seen.get(userId);
        if (last == null || last[0] != epoch || nextSeq <= last[1] + 1)
        {
            return true;
        }
        final List<Object> reply;
        try
        {
            reply = cluster.fetch(userId, StreamCodec.fetchArguments(cluster.prefix, userId, epoch, last[1],
                engine.config(), RedisLink.epochCandidate())).toCompletableFuture()
                .get(cluster.settings.redisTimeoutMs, TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return false;
        }
        catch (final java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex)
        {
            cluster.redisErrors.increment();
            return true;
        }
        if (StreamCodec.fetchedEpoch(reply) != epoch || StreamCodec.fetchedFirstSeq(reply) > last[1] + 1)
        {
            return true;
        }
        final boolean[] open = {true};
        StreamCodec.readFetchedEvents(userId, reply, repairDraft, (event, seq) ->
        {
            if (open[0] && seq > last[1] && seq < nextSeq)
            {
                event.recipient(userId, epoch, seq);
                open[0] = engine.publishSequenced(event) != PublishStatus.CLOSED;
                repaired.increment();
                last[1] = seq;
            }
        });
        return open[0];
    }
}
