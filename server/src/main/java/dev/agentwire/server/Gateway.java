package dev.agentwire.server;

import dev.agentwire.core.AgentWire;

/**
 * What every handler of one server shares: its config, the engine, the connection registry, the token verifier,
 * the producer hub and the metrics. Built once by {@link AgentWireServer}.
 */
final class Gateway
{
    final ServerConfig config;
    final AgentWire engine;
    final ConnectionRegistry registry;
    final TokenVerifier verifier;
    final GatewayMetrics metrics;
    final IngestParser parser;
    final TokenBucket producerLimit;
    final EventPublisher publisher;
    final ProducerHub producers;
    private final java.util.concurrent.ConcurrentHashMap<org.xnio.XnioIoThread, DrainScheduler> drainers =
        new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param cluster the node's link to the cluster, or null on a single node: decides where events are numbered.
     */
    Gateway(final ServerConfig config, final AgentWire engine, final RedisCluster cluster)
    {
        this.config = config;
        this.engine = engine;
        this.registry = new ConnectionRegistry(config.maxConnectionsPerUser(), config.maxConnectionsPerIp());
        this.verifier = new TokenVerifier(config);
        this.metrics = new GatewayMetrics();
        this.parser = new IngestParser(config.maxMessageBytes());
        this.producerLimit = new TokenBucket(config.producerRatePerSec(), config.producerBurst(), System.nanoTime());
        this.publisher = cluster == null ? new BatchPublisher(engine, metrics) :
            new ClusterPublisher(cluster, metrics, engine);
        this.producers = new ProducerHub(this);
    }

    private final java.util.concurrent.ConcurrentHashMap<org.xnio.XnioIoThread, HeartbeatSweeper> sweepers =
        new java.util.concurrent.ConcurrentHashMap<>();

    HeartbeatSweeper sweeperFor(final org.xnio.XnioIoThread thread)
    {
        return sweepers.computeIfAbsent(thread, t -> new HeartbeatSweeper(t, config.heartbeatIntervalMs()));
    }

    DrainScheduler drainerFor(final org.xnio.XnioIoThread thread)
    {
        return drainers.computeIfAbsent(thread, DrainScheduler::new);
    }
}
