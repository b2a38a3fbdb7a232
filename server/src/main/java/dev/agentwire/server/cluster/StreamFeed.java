package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishStatus;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Feeds this node's spine with the streams of the users connected to it, and only those: the node follows a
 * user's channel ({@code SSUBSCRIBE <prefix>{u:<user>}}) from its first connection here to its last, so what it
 * reads from Redis grows with its own users' events, not with the cluster's. Messages are read off the subscription
 * connection's bytes on Lettuce's event loop ({@link ChannelMessageHandler}) straight into a bounded queue of bytes
 * ({@link FeedQueue}), and one thread publishes them onto the spine in arrival order: that thread is the only one
 * that waits when the spine's ring is full, and Redis's answers are never held up behind it.
 * <p>
 * A channel is at most once: a message is lost when the subscription connection drops (or this node's queue
 * overflows). Neither loses anything: a later event shows the gap (its seq jumps) and the feed publishes the
 * missed events from Redis's history before it; for streams that stay quiet the node has Redis announce on each
 * followed channel where the stream stands once the connection is back (any shard's: {@link FeedResync}), in
 * order with the channel's events, and repairs up to there. Where history no longer covers a gap, the slice
 * restarts the stream and its clients resume from Redis with {@code recovered:false} ({@link AgentWire#confirmHead}).
 */
final class StreamFeed implements AutoCloseable
{
    /** Messages the feed thread takes per pass over the queue. */
    private static final int READ_LIMIT = 256;
    /** The feed thread's longest sleep on an empty queue: a backstop, as a queued message wakes it. */
    private static final long IDLE_PARK_NS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long REDIRECT_RESYNC_DELAY_MS = 200;
    /** A check after a subscription connection dropped, when it has not come back by then (or never will). */
    static final long DROPPED_RESYNC_DELAY_MS = 1_000;
    private static final Logger LOG = LoggerFactory.getLogger(StreamFeed.class);

    /** Names of types, runs and rooms kept by the feed: a node sees few, again and again. */
    private static final int RECORD_NAME_SLOTS = 256;
    /** The bytes of "{u:" between a channel's prefix and its user. */
    private static final int USER_TAG_OPENING = 3;

    private final RedisLink cluster;
    private final AgentWire engine;
    /** Where the user starts in a channel's name: after the prefix's bytes and "{u:". */
    private final int userAt;
    private final StatefulRedisPubSubConnection<String, byte[]> connection;
    /** Past its bound the feed drops, counts, and checks every followed stream. */
    private final FeedQueue queue = new FeedQueue();
    private final FeedQueue.EntryHandler onEntry = new FeedQueue.EntryHandler()
    {
        @Override
        public void onEntry(final String userId, final byte[] message, final int length)
        {
            StreamFeed.this.onEntry(userId, message, length);
        }

        @Override
        public void onSeen(final String userId, final long epoch, final long lastSeq)
        {
            // A fetch answered after its user was forgotten (the client left at once) would leave a stale entry.
            if (followed.containsKey(userId))
            {
                repairs.seen(userId, epoch, lastSeq);
            }
        }
    };
    /** The feed thread met a closed engine: it stops. */
    private boolean stopped;
    private final Map<String, CompletableFuture<Void>> followed = new ConcurrentHashMap<>();
    // The shard each followed channel was subscribed on (guarded by followed's lock).
    private final Map<String, String> subscribedAt = new java.util.HashMap<>();
    private final EventDraft draft = new EventDraft();
    /** The names of the records this feed reads (types, runs, rooms): the feed's thread only. */
    private final AsciiNames names = new AsciiNames(RECORD_NAME_SLOTS);
    private final long[] number = new long[2];
    /** The feed thread's gap repair and regression checks, and its record of what each channel brought. */
    final StreamRepair repairs;
    private final Thread thread;
    private final FeedResync resync;
    /** Subscription connections that dropped and have not come back (several on a Redis Cluster: one a shard). */
    private final java.util.Set<RedisChannelHandler<?, ?>> away = ConcurrentHashMap.newKeySet();
    private final RedisConnectionStateListener connectionListener;
    final LongAdder eventsReceived = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder resyncs = new LongAdder();
    private volatile boolean up = true;
    private volatile String topology;
    private final java.util.concurrent.ScheduledFuture<?> topologyWatch;
    private volatile boolean running = true;

    StreamFeed(final RedisLink cluster, final AgentWire engine)
    {
        this.cluster = cluster;
        this.engine = engine;
        this.repairs = new StreamRepair(cluster, engine);
        userAt = cluster.prefix.getBytes(StandardCharsets.UTF_8).length + USER_TAG_OPENING;
        connection = cluster.connectPubSub(this::onChannelMessage);
        connection.addListener(new RedisPubSubAdapter<>()
        {
            @Override
            public void smessage(final String channel, final byte[] message)
            {
                // Only after ChannelMessageHandler met bytes it could not frame and left the connection to Lettuce.
                final byte[] user = StreamCodec.userOfChannel(cluster.prefix, channel).getBytes(StandardCharsets.UTF_8);
                queued(queue.offer(user, message));
            }

            @Override
            public void sunsubscribed(final String channel, final long count)
            {
                // Redis unsubscribes a channel whose slot moved to another shard: learn where (a migration need not
                // move the cluster's epoch), follow it there, and repair.
                if (followed.containsKey(StreamCodec.userOfChannel(cluster.prefix, channel)))
                {
                    cluster.shards.refresh();
                    scheduleResync(REDIRECT_RESYNC_DELAY_MS);
                }
            }
        });
        resync = new FeedResync(cluster, connection, followed, subscribedAt, () ->
        {
            if (!up)
            {
                LOG.info("redis subscription connection back: node={} followed={}", cluster.settings.nodeId,
                    followed.size());
            }
            up = true;
            // A connection closed for good (its shard removed) never comes back: not kept waiting for it.
            away.removeIf(RedisChannelHandler::isClosed);
        }, resyncs);
        // Every subscription connection counts: on a Redis Cluster each shard has its own, and what one missed
        // while it was away is repaired only by a check (a quiet stream shows no gap by itself). One that is closed
        // for good (its shard removed) is checked too, and the check finds its channels on other shards.
        connectionListener = new RedisConnectionStateListener()
        {
            @Override
            public void onRedisDisconnected(final RedisChannelHandler<?, ?> handler)
            {
                if (handler instanceof StatefulRedisPubSubConnection && away.add(handler))
                {
                    if (up)
                    {
                        up = false;
                        LOG.warn("redis subscription connection lost: node={} followed={}", cluster.settings.nodeId,
                            followed.size());
                    }
                    scheduleResync(DROPPED_RESYNC_DELAY_MS);
                }
            }

            @Override
            public void onRedisConnected(final RedisChannelHandler<?, ?> handler, final SocketAddress address)
            {
                if (away.remove(handler))
                {
                    scheduleResync(0);
                }
            }
        };
        cluster.addConnectionListener(connectionListener);
        topology = cluster.shards.topology();
        // A sharded Redis moves slots (a failover, a migration): channels then live on another shard.
        topologyWatch = cluster.executor().scheduleWithFixedDelay(this::watchTopology, RedisLink.SLOT_MAP_WATCH_MS,
            RedisLink.SLOT_MAP_WATCH_MS, TimeUnit.MILLISECONDS);
        thread = new Thread(this::run, "agentwire-stream-feed");
        thread.setDaemon(true);
        thread.start();
    }

    private void watchTopology()
    {
        final String now = cluster.shards.topology();
        if (!now.equals(topology))
        {
            topology = now;
            LOG.info("redis slot map changed: node={} followed={}", cluster.settings.nodeId, followed.size());
            scheduleResync(0);
        }
    }

    /** @return whether the user's channel is followed now and was since its stream's last check. */
    boolean isFollowing(final String userId)
    {
        final CompletableFuture<Void> subscribed = followed.get(userId);
        return up && subscribed != null && subscribed.isDone() && !subscribed.isCompletedExceptionally();
    }

    /** @return whether the subscription connection is up. */
    boolean isUp()
    {
        return up;
    }

    /**
     * @return subscription connections that dropped and have not come back, those closed for good (a removed shard's)
     *     left out: on a Redis Cluster, the shards this node follows users on and cannot reach now.
     */
    int awayCount()
    {
        int count = 0;
        for (final RedisChannelHandler<?, ?> handler : away)
        {
            count += handler.isClosed() ? 0 : 1;
        }
        return count;
    }

    /** @return users whose channels this node follows. */
    int followedCount()
    {
        return followed.size();
    }

    /**
     * Starts following a user's channel (idempotent).
     *
     * @return completes once Redis confirmed the subscription: every message published after that reaches this
     *     node; completes exceptionally when Redis could not be asked (the caller retries).
     */
    CompletableFuture<Void> follow(final String userId)
    {
        synchronized (followed)
        {
            final CompletableFuture<Void> existing = followed.get(userId);
            if (existing != null && !existing.isCompletedExceptionally())
            {
                return existing;
            }
            final CompletableFuture<Void> subscribed = new CompletableFuture<>();
            followed.put(userId, subscribed);
            final String channel = StreamCodec.userTag(cluster.prefix, userId);
            final String shard = cluster.shards.shardOf(channel);
            subscribedAt.put(userId, shard);
            cluster.shards.ssubscribe(connection, shard, true, channel).whenComplete((ok, error) ->
            {
                if (error != null)
                {
                    cluster.redisErrors.increment();
                    subscribed.completeExceptionally(error);
                }
                else
                {
                    subscribed.complete(null);
                }
            });
            return subscribed;
        }
    }

    /**
     * This node holds the user's stream up to {@code lastSeq} from Redis's history (a subscribe this node could not
     * answer itself), not from the channel. Told to the repair in order with the channel's messages: a gap after it
     * (a subscription that dropped or moved before the channel brought anything) is then filled from history, where
     * without it the stream restarted and its clients had to reconnect (1012).
     */
    void seen(final String userId, final long epoch, final long lastSeq)
    {
        queued(queue.offerSeen(userId.getBytes(StandardCharsets.UTF_8), epoch, lastSeq));
    }

    /** Stops following a user's channel: its last connection here closed. */
    void unfollow(final String userId)
    {
        synchronized (followed)
        {
            if (!running)
            {
                return;
            }
            if (followed.remove(userId) != null)
            {
                // The feed forgets the stream in order with its messages (a drop here only costs a repair later).
                queued(queue.offerForget(userId.getBytes(StandardCharsets.UTF_8)));
                final String shard = subscribedAt.remove(userId);
                cluster.shards.ssubscribe(connection, shard == null ? cluster.shards.shardOf(StreamCodec.userTag(cluster.prefix,
                    userId)) : shard, false, StreamCodec.userTag(cluster.prefix, userId)).exceptionally(cluster::failed);
            }
        }
    }

    /**
     * A message of a followed channel ({@code <prefix>{u:<user>}}), on Lettuce's event loop: its user and its bytes
     * are taken out of the connection's buffer and queued for the feed thread.
     */
    private void onChannelMessage(final ByteBuf buffer, final int channelAt, final int channelLength,
        final int messageAt, final int messageLength)
    {
        final int userLength = channelLength - userAt - 1;
        if (userLength < 0)
        {
            LOG.warn("channel message on a channel that is no user's, skipped: length={}", channelLength);
            return;
        }
        queued(queue.offer(buffer, channelAt + userAt, userLength, messageAt, messageLength));
    }

    /** A queue that was full dropped the entry: counted, and every followed stream checked, which repairs it. */
    private void queued(final boolean queued)
    {
        if (!queued)
        {
            dropped.increment();
            scheduleResync(100);
        }
    }

    private void scheduleResync(final long delayMs)
    {
        if (running)
        {
            resync.all(delayMs);
        }
    }

    private void run()
    {
        while (running && !stopped)
        {
            if (queue.poll(onEntry, READ_LIMIT) == 0 && running)
            {
                queue.awaitEntries(IDLE_PARK_NS);
            }
        }
    }

    /** One queued message, or a forget, on the feed thread. */
    private void onEntry(final String userId, final byte[] message, final int length)
    {
        if (stopped)
        {
            return;
        }
        if (message == null)
        {
            repairs.forget(userId);
            return;
        }
        stopped = !apply(userId, message, length);
    }

    /** @return false when the engine is closed and the feed must stop. */
    private boolean apply(final String userId, final byte[] message, final int messageLength)
    {
        final long status;
        {
            final byte kind = messageLength == 0 ? 0 : message[0];
            try
            {
                if (kind == StreamCodec.HEAD)
                {
                    final long[] head = StreamCodec.readHead(message, messageLength);
                    if (repairs.wentBack(userId, head[0], head[1] + 1, null, 0))
                    {
                        return true;
                    }
                    if (!repairs.repair(userId, head[0], head[1] + 1))
                    {
                        return false;
                    }
                    status = engine.confirmHead(userId, head[0], head[1]);
                    // The stream here is now at the head (restarted to it if it was behind): a gap after it repairs.
                    repairs.seen(userId, head[0], head[1]);
                }
                else if (kind == StreamCodec.JOIN || kind == StreamCodec.LEAVE)
                {
                    final String room = StreamCodec.room(message, messageLength);
                    status = kind == StreamCodec.JOIN ? engine.join(userId, room) :
                        engine.leave(userId, room);
                }
                else if (kind == StreamCodec.EVENT)
                {
                    final int recordAt = StreamCodec.readEventNumber(message, messageLength, number);
                    if (repairs.wentBack(userId, number[0], number[1], message, messageLength))
                    {
                        return true;
                    }
                    if (!repairs.repair(userId, number[0], number[1]))
                    {
                        return false;
                    }
                    StreamCodec.readEvent(userId, message, messageLength, recordAt, number[0], number[1], draft,
                        names);
                    eventsReceived.increment();
                    status = engine.publishSequenced(draft);
                    repairs.seen(userId, number[0], number[1]);
                }
                else
                {
                    LOG.warn("unknown channel message kind={}, skipped", kind);
                    return true;
                }
            }
            catch (final RuntimeException ex)
            {
                LOG.error("unreadable channel message, skipped: user={}", userId, ex);
                return true;
            }
        }
        if (status == PublishStatus.CLOSED)
        {
            return false;
        }
        if (status < 0)
        {
            LOG.error("channel message refused by the spine: status={}", PublishStatus.name(status));
        }
        return true;
    }

    /** Stops reading: what this node accepted is in Redis, and the nodes that follow its users deliver it. */
    @Override
    public void close()
    {
        running = false;
        resync.stop();
        topologyWatch.cancel(false);
        cluster.removeConnectionListener(connectionListener);
        queue.wake();
        try
        {
            thread.join(2_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        connection.close();
    }
}
