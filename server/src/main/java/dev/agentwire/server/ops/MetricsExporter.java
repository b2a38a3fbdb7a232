package dev.agentwire.server;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireStats;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.util.Headers;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} in the Prometheus text format. Every name starts with {@code agentwire_}; docs/OPERATIONS.md
 * lists them all with what to alert on. Counters are read from {@link GatewayMetrics} and the engine's stats at
 * scrape time; the delivery latency histogram lives in GatewayMetrics. Each server has its own registry.
 */
final class MetricsExporter
{
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    /**
     * @param cluster the node's cluster link and log tailer, or null on a single node (no cluster metrics then).
     */
    MetricsExporter(final GatewayMetrics metrics, final AgentWire engine, final ConnectionRegistry connections,
        final ProducerHub producers, final RedisCluster cluster, final ClusterLogTailer tailer)
    {
        final Supplier<AgentWireStats> stats = engine::stats;
        gauge("agentwire_connections", "User connections open now.", () -> connections.size());
        gauge("agentwire_producers_connected", "Producer sockets open now.", () -> producers.size());
        counter("agentwire_connections_opened", "User connections opened.", metrics.connectionsOpened);
        labelled("agentwire_connections_closed", "User connections closed, by WebSocket close code.", "code",
            metrics.closedByCode);
        counter("agentwire_events_published", "Events accepted from producers (HTTP and producer sockets).",
            metrics.eventsPublished);
        counter("agentwire_events_delivered", "Events written to user sockets.", metrics.eventsDelivered);
        labelled("agentwire_events_refused", "Events refused, by reason (lifecycle rule, ring_full, ...).", "reason",
            metrics.eventsRefused);
        counter("agentwire_slow_consumer_closes", "Connections closed because the client did not read (4004).",
            metrics.slowConsumerCloses);
        labelled("agentwire_rate_limited", "Rate-limit and cap hits, by scope.", "scope", metrics.rateLimited);
        labelled("agentwire_auth_failures", "Refused tokens and keys, by reason.", "reason", metrics.authFailures);
        counter("agentwire_bad_messages", "Client messages answered with bad_message.", metrics.badMessages);
        CounterWithCallback.builder().name("agentwire_resumes").help("Resumes, by outcome.")
            .labelNames("outcome")
            .callback(cb ->
            {
                cb.call(metrics.resumesRecovered.sum(), "recovered");
                cb.call(metrics.resumesNotRecovered.sum(), "not_recovered");
            })
            .register(registry);
        gauge("agentwire_ring_remaining_capacity", "Free slots in the spine ring.",
            () -> stats.get().ringRemainingCapacity);
        gauge("agentwire_ring_size", "Slots in the spine ring.", () -> stats.get().ringSize);
        gauge("agentwire_engine_users", "Users with state in the engine.", () -> stats.get().users);
        gauge("agentwire_engine_subscriptions", "Live engine subscriptions.", () -> stats.get().subscriptions);
        gauge("agentwire_engine_history_bytes", "Bytes held by all resume histories.", () -> stats.get().historyBytes);
        CounterWithCallback.builder().name("agentwire_engine_events_sequenced")
            .help("Events numbered into a user's stream (one per recipient).")
            .callback(cb -> cb.call(stats.get().eventsSequenced)).register(registry);
        CounterWithCallback.builder().name("agentwire_engine_history_evicted")
            .help("History events evicted by the global memory bound.")
            .callback(cb -> cb.call(stats.get().historyEvictedEvents)).register(registry);
        CounterWithCallback.builder().name("agentwire_engine_handler_errors")
            .help("Slots a slice failed to handle (bugs; alert on any).")
            .callback(cb -> cb.call(stats.get().handlerErrors)).register(registry);
        CounterWithCallback.builder().name("agentwire_engine_backfills")
            .help("Subscribes this node answered from the cluster's Redis (replica only).")
            .callback(cb -> cb.call(stats.get().backfillsRequested)).register(registry);
        CounterWithCallback.builder().name("agentwire_engine_stream_resets")
            .help("Streams restarted because Redis changed epoch or log entries were missed; live clients told " +
                "to resume with 1012 (replica only).")
            .callback(cb -> cb.call(stats.get().streamResets)).register(registry);
        registry.register(metrics.deliveryLatency);
        if (cluster != null)
        {
            gauge("agentwire_cluster_redis_up", "1 when the last heartbeat reached Redis, else 0.",
                () -> cluster.isReachable() ? 1 : 0);
            counter("agentwire_cluster_redis_errors", "Redis commands that failed or timed out.", cluster.redisErrors);
            gauge("agentwire_cluster_producers", "Producer sockets on all live nodes, as of the last heartbeat.",
                () -> cluster.clusterProducers());
            CounterWithCallback.builder().name("agentwire_cluster_log_entries_applied")
                .help("Shared-log entries this node published onto its spine.")
                .callback(cb -> cb.call(tailer.entriesApplied.get())).register(registry);
        }
    }

    HttpHandler handler()
    {
        return exchange ->
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
            writer.write(out, registry.scrape());
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, writer.getContentType());
            exchange.getResponseSender().send(ByteBuffer.wrap(out.toByteArray()));
        };
    }

    private void gauge(final String name, final String help, final Supplier<Number> value)
    {
        GaugeWithCallback.builder().name(name).help(help)
            .callback(cb -> cb.call(value.get().doubleValue())).register(registry);
    }

    private void counter(final String name, final String help, final LongAdder value)
    {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.sum())).register(registry);
    }

    private <K> void labelled(final String name, final String help, final String label,
        final ConcurrentHashMap<K, LongAdder> values)
    {
        CounterWithCallback.builder().name(name).help(help).labelNames(label)
            .callback(cb ->
            {
                for (final Map.Entry<K, LongAdder> entry : values.entrySet())
                {
                    cb.call(entry.getValue().sum(), String.valueOf(entry.getKey()));
                }
            })
            .register(registry);
    }
}
