package dev.agentwire.server.cluster;

import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.runtime.LostMessageNotices;
import dev.agentwire.server.runtime.RemoteRuntimes;
import dev.agentwire.server.runtime.RuntimeChannels;
import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

/**
 * Users' messages ({@code user_message}, {@code cancel}) across nodes: a node whose user writes but whose own
 * runtimes (producer sockets) are absent or all busy appends the message to the {@code inbound} stream when another
 * node's runtime had room at its last beat; every node reads that stream in one consumer group while one of its
 * runtimes has room, so each message goes to exactly one runtime in the cluster, and a node whose runtimes are all
 * behind leaves the stream to the others.
 * A message taken is deleted from the stream, which so holds only what waits for a runtime: at most
 * {@link #MAX_WAITING} (past it the sender is answered {@link InboundRouter#AGENT_BUSY}, where trimming would drop the
 * oldest without a word), each for at most {@link #MAX_WAIT_MS} (then dropped, counted in {@link #expired}, and its
 * sender told by a {@link LostMessageNotices} event). Delivery
 * is at most once, as on one node: a message taken by a node whose runtimes all left or filled up meanwhile is put
 * back for another, and that node waits a moment before it reads again. A message given to a read whose reply no
 * node handled is taken again after {@link #ABANDONED_MS} ({@link #abandoned}); so is one whose node died in the
 * moment between handing it on and deleting it, which a runtime may then get twice. The sender is told when the
 * stream could not take the message ({@link InboundRouter#UNAVAILABLE}) or did not confirm it in time
 * ({@link InboundRouter#OUTCOME_UNKNOWN}).
 */
final class ClusterInbound implements RemoteRuntimes, AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ClusterInbound.class);
    private static final String GROUP = "producers";
    /**
     * The one consumer name every node reads as. Each message still goes to one reader (the group's cursor moves
     * past it), and each is acknowledged as it is taken, so no node needs a pending list of its own; a name per node
     * (node ids are random per start) left one more consumer in the group at every start, never removed.
     */
    private static final String CONSUMER = "nodes";
    /** Messages waiting for a runtime, at most (each within the users' message size limit). */
    private static final long MAX_WAITING = 10_000;
    /**
     * How long a message waits for a runtime, at most: a message waits only while other nodes' runtimes are busy
     * (their nodes read none) or while a node that told the cluster its runtimes had room is stalled (up to its
     * liveness, 10 s, and a beat), so one this old is stale; and one a node took but could not deliver before it died
     * stays in the stream until then. Dropped at the next append, and by a node before it reads (at most
     * {@link #EXPIRY_CHECK_NS} apart), so none is handed to a runtime much later.
     */
    private static final long MAX_WAIT_MS = 60_000;
    private static final long EXPIRY_CHECK_NS = TimeUnit.SECONDS.toNanos(2);
    /**
     * How long a message may stay given to a read and not deleted before another read takes it: a node deletes what
     * it took at once, so one this old was given to a reply nobody handled (see {@link #abandoned}).
     */
    private static final long ABANDONED_MS = 5_000;
    private static final long IDLE_POLL_MS = 100;

    private final RedisLink cluster;
    private final RuntimeChannels hub;
    private final String key;
    private final BlockingStreamReader reader;
    private boolean groupReady;
    private volatile LostMessageNotices notices = LostMessageNotices.NONE;
    // When this node's reader last dropped the messages that waited too long (reader thread).
    private long expiredAtNs;
    /** Users' messages answered agent_busy because {@link #MAX_WAITING} waited in the stream already. */
    final LongAdder refused = new LongAdder();
    /** Messages dropped from the stream after waiting {@link #MAX_WAIT_MS} (the senders had been answered). */
    final LongAdder expired = new LongAdder();
    /** Messages this node took again, given to a read whose reply no node handled ({@link #abandoned}). */
    final LongAdder reclaimed = new LongAdder();
    /** Messages this node took and could neither deliver nor put back (Redis failed): lost, and logged. */
    final LongAdder lost = new LongAdder();

    ClusterInbound(final RedisLink cluster, final RuntimeChannels hub)
    {
        this.cluster = cluster;
        this.hub = hub;
        this.key = cluster.prefix + "inbound";
        this.reader = new BlockingStreamReader(cluster, "agentwire-inbound");
        reader.start(this::readOnce);
    }

    /** @return true when another node holds a producer socket to take the message. */
    @Override
    public boolean anyProducers()
    {
        return cluster.presence.otherProducers() > 0;
    }

    @Override
    public boolean anyReady()
    {
        return cluster.presence.otherReady() > 0;
    }

    /** This node's producer sockets changed: the cluster learns it now, not at the next heartbeat. */
    @Override
    public void producersChanged()
    {
        cluster.producersChanged();
    }

    /** Hands a message (already re-encoded with its sender) to the cluster, unless too many wait. Never blocks. */
    @Override
    public void forward(final byte[] message, final IntConsumer done)
    {
        append(message, MAX_WAITING, done);
    }

    /** @param mostWaiting the stream's bound, or 0 for a message this node took and puts back (bounded by a read). */
    private void append(final byte[] message, final long mostWaiting, final IntConsumer done)
    {
        cluster.appendInbound(key, GROUP, mostWaiting, MAX_WAIT_MS, message).whenComplete((reply, error) ->
        {
            if (error != null)
            {
                done.accept(RedisLink.mayHaveRun(error) ? InboundRouter.OUTCOME_UNKNOWN : InboundRouter.UNAVAILABLE);
                return;
            }
            countExpired(reply);
            if (StreamCodec.number(reply.get(0)) == 1)
            {
                done.accept(InboundRouter.DELIVERED);
            }
            else
            {
                refused.increment();
                done.accept(InboundRouter.AGENT_BUSY);
            }
        });
    }

    /**
     * Counts the messages inbound.lua dropped for waiting too long, and tells the sender of each that no node took
     * (one a node took and died holding may have reached a runtime: only counted).
     */
    private void countExpired(final List<Object> reply)
    {
        final long dropped = StreamCodec.number(reply.get(1));
        if (dropped > 0)
        {
            expired.add(dropped);
            LOG.warn("inbound messages dropped: waited longer than maxWaitMs={} for a runtime: count={}",
                MAX_WAIT_MS, dropped);
            final List<?> told = (List<?>)reply.get(2);
            for (int i = 0; i + 3 < told.size(); i += 4)
            {
                notices.lost(StreamCodec.text(told.get(i)), StreamCodec.text(told.get(i + 1)),
                    nullIfEmpty(StreamCodec.text(told.get(i + 2))), nullIfEmpty(StreamCodec.text(told.get(i + 3))),
                    InboundRouter.errorCode(InboundRouter.AGENT_BUSY));
            }
        }
    }

    private static String nullIfEmpty(final String value)
    {
        return value.isEmpty() ? null : value;
    }

    @Override
    public void notices(final LostMessageNotices notices)
    {
        this.notices = notices;
    }

    /** One read for this node's runtimes, if it has any. */
    private boolean readOnce(final OwnConnection connection, final Duration block)
    {
        if (!hub.anyRoom())
        {
            // No runtime here, or all busy: leave the messages to the nodes whose runtimes take them.
            BlockingStreamReader.sleep(IDLE_POLL_MS);
            return true;
        }
        try
        {
            final boolean housekeeping = !groupReady || System.nanoTime() - expiredAtNs > EXPIRY_CHECK_NS;
            if (housekeeping)
            {
                // Before reading: a message that waited too long is dropped, not handed to a runtime now.
                expiredAtNs = System.nanoTime();
                countExpired(cluster.appendInbound(key, GROUP, 0, MAX_WAIT_MS, null).toCompletableFuture().join());
            }
            ensureGroup(connection);
            List<StreamMessage<String, byte[]>> messages = housekeeping ? abandoned(connection) : List.of();
            if (messages.isEmpty())
            {
                messages = connection.sync.xreadgroup(Consumer.from(GROUP, CONSUMER),
                    XReadArgs.Builder.block(block).count(64), XReadArgs.StreamOffset.lastConsumed(key));
            }
            if (messages == null)
            {
                return true;
            }
            boolean putBack = false;
            for (final StreamMessage<String, byte[]> message : messages)
            {
                final byte[] body = message.getBody().get("m");
                if (body != null && !hub.deliver(body))
                {
                    putBack = true;
                    append(body, 0, status ->
                    {
                        if (status != InboundRouter.DELIVERED)
                        {
                            lost.increment();
                            notices.lost(body, InboundRouter.errorCode(status));
                            LOG.warn("inbound message lost: no runtime here took it and it could not be put back " +
                                "for another node: status={}", InboundRouter.errorCode(status));
                        }
                    });
                }
                // Taken: out of the stream too, which holds only what waits for a runtime.
                connection.async.xack(key, GROUP, message.getId()).exceptionally(cluster::failed);
                connection.async.xdel(key, message.getId()).exceptionally(cluster::failed);
            }
            if (putBack)
            {
                // This node's runtimes are busy or gone: let another node's take what was put back.
                BlockingStreamReader.sleep(IDLE_POLL_MS);
            }
            return true;
        }
        catch (final RuntimeException ex)
        {
            // Redis away, or back empty (the group is gone): create it again once it answers.
            groupReady = false;
            LOG.debug("inbound read failed: cause={}", ex.toString());
            throw ex;
        }
    }

    /**
     * Messages the group gave a read whose reply no node handled: a blocking read that timed out on the client stays
     * blocked in Redis, which may give it the next message when it runs again; so may a node that died between a read
     * and its delete. Nothing else leaves a message pending for {@link #ABANDONED_MS}: each is deleted as it is taken.
     */
    private List<StreamMessage<String, byte[]>> abandoned(final OwnConnection connection)
    {
        final List<StreamMessage<String, byte[]>> claimed = connection.sync.xautoclaim(key,
            XAutoClaimArgs.Builder.xautoclaim(Consumer.from(GROUP, CONSUMER), Duration.ofMillis(ABANDONED_MS), "0-0")
                .count(64)).getMessages();
        if (!claimed.isEmpty())
        {
            reclaimed.add(claimed.size());
            LOG.warn("inbound messages taken again: a read's reply was lost, or its node died, count={}",
                claimed.size());
        }
        return claimed;
    }

    private void ensureGroup(final OwnConnection connection)
    {
        if (groupReady)
        {
            return;
        }
        try
        {
            // From the stream's start: it holds only messages no node took (each is deleted once taken), so one that
            // another node appended after Redis came back empty, before this group was made again, is read too.
            connection.sync.xgroupCreate(XReadArgs.StreamOffset.from(key, "0"), GROUP,
                XGroupCreateArgs.Builder.mkstream());
        }
        catch (final RedisBusyException exists)
        {
            // Another node made it first.
        }
        groupReady = true;
    }

    @Override
    public void close()
    {
        reader.close();
    }
}
