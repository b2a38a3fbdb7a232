package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.PresenceListener;
import dev.agentwire.server.ops.MetricsExporter;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.RemoteRuntimes;
import dev.agentwire.server.runtime.RuntimeChannels;
import dev.agentwire.server.sequencing.Sequencer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This server as a node of a cluster over one Redis (one Redis, or a primary with replicas): builds, runs and
 * closes everything Redis, and provides what the server needs from it — the engine as a replica of the shared
 * sequencer, fed its connected users' streams, the {@link Sequencer} that publishes through Redis, the runtimes on other nodes, and
 * the presence hook that tells Redis who is connected here. docs/CLUSTER.md has the keys, guarantees and failure
 * modes. The only package that speaks to Redis.
 */
public final class ClusterNode implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final ClusterSettings settings;
    private final RedisLink link;
    private final AgentWire engine;
    private final ClusterSequencer sequencer;
    private final ClusterInbound inbound;
    private final StreamFeed feed;
    private final PresenceListener presence;

    private ClusterNode(
        final ClusterSettings settings,
        final AgentWireConfig engineConfig,
        final RuntimeChannels localRuntimes,
        final ServerMetrics metrics)
    {
        this.settings = settings;
        link = new RedisLink(settings, localRuntimes::size, localRuntimes::withRoom);
        final ClusterHistorySource history = new ClusterHistorySource(link, engineConfig);
        engine = AgentWire.start(engineConfig.withHistorySource(history));
        ClusterInbound startedInbound = null;
        try
        {
            startedInbound = new ClusterInbound(link, localRuntimes);
            feed = new StreamFeed(link, engine);
        }
        catch (final RuntimeException ex)
        {
            // Redis went away between the first connection and these: start nothing half-way.
            if (startedInbound != null)
            {
                startedInbound.close();
            }
            engine.close();
            link.close();
            throw new IllegalStateException("cluster node failed to start: cause=" + ex.getMessage(), ex);
        }
        inbound = startedInbound;
        sequencer = new ClusterSequencer(link, metrics, engine);
        history.feed(feed);
        presence = new PresenceListener()
        {
            @Override
            public void onFirstConnected(final String userId)
            {
                // The feed follows the user when its first subscribe asks Redis (ClusterHistorySource).
                link.presence.onFirstConnected(userId);
            }

            @Override
            public void onLastDisconnected(final String userId)
            {
                feed.unfollow(userId);
                link.presence.onLastDisconnected(userId);
            }
        };
        LOG.info("cluster node: node={} keyPrefix={}", settings.nodeId, settings.keyPrefix);
    }

    /**
     * Connects to Redis and starts following the shared log.
     *
     * @param settings      where Redis is and how to use it.
     * @param engineConfig  the engine's settings; the node runs it as a replica of Redis's sequencer.
     * @param localRuntimes this node's producer sockets: other nodes' users' messages are delivered to them.
     * @param metrics       counts refusals.
     * @return the running node; {@link #close()} it.
     * @throws IllegalStateException when Redis cannot be reached at start.
     */
    public static ClusterNode start(
        final ClusterSettings settings,
        final AgentWireConfig engineConfig,
        final RuntimeChannels localRuntimes,
        final ServerMetrics metrics)
    {
        return new ClusterNode(settings, engineConfig, localRuntimes, metrics);
    }

    /** @return the node's engine: a replica that follows the numbers Redis gives. */
    public AgentWire engine()
    {
        return engine;
    }

    /** @return the sequencer that publishes through Redis. */
    public Sequencer sequencer()
    {
        return sequencer;
    }

    /** @return the runtimes connected to other nodes. */
    public RemoteRuntimes remoteRuntimes()
    {
        return inbound;
    }

    /**
     * @return tells Redis which users are connected here (broadcasts number them on this node's behalf), and stops
     *     following a user's stream when its last connection here closed.
     */
    public PresenceListener presence()
    {
        return presence;
    }

    /** Adds the cluster's gauges and counters to {@code /metrics}. */
    public void registerMetrics(final MetricsExporter exporter)
    {
        exporter.gauge("agentwire_cluster_redis_up", "1 when the last heartbeat reached Redis, else 0.",
            () -> link.presence.isReachable() ? 1 : 0);
        exporter.counter("agentwire_cluster_redis_errors", "Redis commands that failed or timed out.",
            link.redisErrors::sum);
        exporter.counter("agentwire_cluster_redis_readonly_reconnects", "Times Redis answered READONLY (the " +
            "server had become a replica: a failover demoted it) and the node closed every connection to reconnect " +
            "to the primary.", link.readOnly.reconnects::sum);
        exporter.gauge("agentwire_cluster_redis_unsafe_settings", "Settings found unsafe on Redis's primaries by " +
            "the last check (at start, then every redisSettingsCheckMs): a memory policy other than noeviction, or " +
            "no append-only file (each logged when found and when gone).",
            () -> link.settingsPolicy.unsafeSettings());
        exporter.counter("agentwire_cluster_presence_rewrites", "Times this node wrote its presence (the users " +
            "connected here, whom broadcasts reach) whole again because Redis's copy was wrong: gone (it could not " +
            "beat for longer than the presence lasts, or Redis lost its data) or missing a write that failed. " +
            "Broadcasts of that time missed those users.", link.presence.rewrites::sum);
        exporter.gauge("agentwire_cluster_subscriptions_away", "Subscription connections that dropped and have " +
            "not come back: on a Redis Cluster, one per shard this node follows users on and cannot reach now " +
            "(publishes to those users answer 503 at once; what their channels miss is repaired when it returns).",
            feed::awayCount);
        exporter.gauge("agentwire_cluster_producers", "Producer sockets on all live nodes, as of the last heartbeat.",
            link.presence::clusterProducers);
        exporter.gauge("agentwire_cluster_producers_ready", "Producer sockets on all live nodes that had room for " +
            "a user's message at their last heartbeat (0 while some are connected: users are answered agent_busy).",
            link.presence::clusterReady);
        exporter.counter("agentwire_cluster_inbound_refused", "Users' messages for another node's runtime answered " +
            "agent_busy because 10,000 waited in the cluster's inbound stream already.", inbound.refused::sum);
        exporter.counter("agentwire_cluster_inbound_expired", "Users' messages dropped from the inbound stream after " +
            "waiting 60 s for a runtime with room (counted by the node that dropped them: at an append, or before it " +
            "read).", inbound.expired::sum);
        exporter.counter("agentwire_cluster_inbound_reclaimed", "Users' messages this node took from the inbound " +
            "stream again after 5 s given to a read whose reply no node handled (a read timed out on its client, or " +
            "its node died).", inbound.reclaimed::sum);
        exporter.counter("agentwire_cluster_inbound_lost", "Users' messages this node took from the inbound stream " +
            "and could neither hand to a runtime here nor put back (Redis failed meanwhile).", inbound.lost::sum);
        exporter.counter("agentwire_cluster_events_received", "Events this node read from its users' channels and " +
            "published onto its spine (one per recipient connected here).", feed.eventsReceived::sum);
        exporter.counter("agentwire_cluster_feed_dropped", "Channel messages dropped because the feed's queue was " +
            "full; each makes the node check its followed streams (clients behind resume from Redis).",
            feed.dropped::sum);
        exporter.counter("agentwire_cluster_feed_repaired", "Events the channel skipped (a dropped subscription " +
            "connection, a full queue) that the node published from Redis's history instead.", feed.repairs.repaired::sum);
        exporter.counter("agentwire_cluster_stream_regressions", "Streams Redis held behind what this node saw " +
            "(acknowledged events lost in a failover before replication): each moved to a new epoch, its clients told " +
            "recovered:false.", feed.repairs.regressions::sum);
        exporter.counter("agentwire_cluster_feed_resyncs", "Checks of followed streams against Redis (after a " +
            "subscription connection dropped or came back, a slot moved, or a drop; a shard that failed is checked " +
            "again alone, each time counted).", feed.resyncs::sum);
        exporter.counter("agentwire_cluster_feed_framed", "Subscription connections whose channel messages this " +
            "node reads in place, off their bytes (one per connection to a shard, and again after each reconnect).",
            link.framedConnections::sum);
        exporter.counter("agentwire_cluster_feed_unframed", "Subscription connections whose bytes this node could " +
            "not frame: from there on their messages are decoded by the Redis client, slower, and nothing is lost.",
            link.unframedConnections::sum);
        exporter.gauge("agentwire_cluster_users_followed", "Users whose streams this node follows (its connected " +
            "users).", feed::followedCount);
        exporter.counter("agentwire_cluster_commit_groups", "Group commits sent to Redis (one script call each).",
            sequencer.commits.groups::sum);
        exporter.counter("agentwire_cluster_commit_events", "Events carried by group commits.",
            sequencer.commits.groupedEvents::sum);
        exporter.histogram(sequencer.commits.commitLatency);
    }

    /**
     * Stops following its users' streams and taking other nodes' messages: what this node accepted is in Redis,
     * and the nodes its users move to deliver it. The engine is closed by the server afterwards, then
     * {@link #close()}.
     */
    public void stopFollowing()
    {
        feed.close();
        inbound.close();
    }

    /** Leaves the cluster's view (its users stop being broadcast targets at once) and disconnects from Redis. */
    @Override
    public void close()
    {
        link.close();
    }

    @Override
    public String toString()
    {
        return "ClusterNode{node=" + settings.nodeId + ", keyPrefix=" + settings.keyPrefix + '}';
    }
}
