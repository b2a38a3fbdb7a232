package dev.agentwire.server.ops;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireStats;
import dev.agentwire.server.http.Http;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.util.Headers;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} in the Prometheus text format. Every name starts with {@code agentwire_}; docs/OPERATIONS.md
 * lists them all with what to alert on. Counters are read from {@link ServerMetrics} and the engine's stats at
 * scrape time; the delivery latency histogram lives in ServerMetrics. Each server has its own registry; a cluster
 * node adds its own gauges with {@link #gauge} and {@link #counter(String, String, LongSupplier)}.
 */
public final class MetricsExporter
{
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    /**
     * @param metrics     the server's counters.
     * @param engine      the engine, read at scrape time.
     * @param connections user connections open now.
     * @param producers   producer sockets open now.
     */
    public MetricsExporter(
        final ServerMetrics metrics, final AgentWire engine, final IntSupplier connections, final IntSupplier producers)
    {
        final Supplier<AgentWireStats> stats = engine::stats;
        gauge("agentwire_connections", "User connections open now.", connections::getAsInt);
        gauge("agentwire_producers_connected", "Producer sockets open now.", producers::getAsInt);
        metrics.register(this);
        new ProcessMemory().register(this);
        gauge("agentwire_ring_remaining_capacity", "Free slots in the spine ring.",
            () -> stats.get().ringRemainingCapacity);
        gauge("agentwire_ring_size", "Slots in the spine ring.", () -> stats.get().ringSize);
        gauge("agentwire_engine_large_payload_bytes",
            "Bytes of buffers lent to ring slots for payloads over a slot's inline 256 bytes (bounded).",
            () -> stats.get().largePayloadBytes);
        gauge("agentwire_engine_users", "Users with state in the engine (bounded by maxUsers).",
            () -> stats.get().users);
        counter("agentwire_engine_users_evicted", "Disconnected users freed early at the maxUsers bound.",
            () -> stats.get().usersEvicted);
        gauge("agentwire_engine_runs", "Runs held: open, or completed within the run retention (bounded by " +
            "maxRuns).", () -> stats.get().runs);
        gauge("agentwire_engine_dedup_entries", "Event ids remembered for dedup (bounded by dedupMaxEntries).",
            () -> stats.get().dedupEntries);
        counter("agentwire_engine_dedup_evicted", "Event ids forgotten before their dedup window ended, at the " +
            "dedupMaxEntries bound.", () -> stats.get().dedupEvicted);
        gauge("agentwire_engine_subscriptions", "Live engine subscriptions.", () -> stats.get().subscriptions);
        gauge("agentwire_engine_history_bytes", "Bytes held by all resume histories.", () -> stats.get().historyBytes);
        counter("agentwire_engine_events_sequenced", "Events numbered into a user's stream (one per recipient).",
            () -> stats.get().eventsSequenced);
        counter("agentwire_engine_history_evicted", "History events evicted by the global memory bound.",
            () -> stats.get().historyEvictedEvents);
        counter("agentwire_engine_handler_errors", "Slots a slice failed to handle (bugs; alert on any).",
            () -> stats.get().handlerErrors);
        counter("agentwire_engine_backfills", "Subscribes this node answered from the cluster's Redis (replica only).",
            () -> stats.get().backfillsRequested);
        counter("agentwire_engine_stream_resets", "Streams restarted because Redis changed epoch or log entries " +
            "were missed; live clients told to resume with 1012 (replica only).", () -> stats.get().streamResets);
        registry.register(metrics.deliveryLatency);
    }

    /** @param bearerKey the key the scraper must present, or null for none. @return the {@code GET /metrics} handler. */
    public HttpHandler handler(final String bearerKey)
    {
        return exchange ->
        {
            if (bearerKey != null && !Http.keyMatches(Http.bearer(exchange), bearerKey))
            {
                exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Bearer");
                Http.error(exchange, 401, "unauthorized", "GET /metrics needs its key (AGENTWIRE_METRICS_KEY)");
                return;
            }
            final ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
            writer.write(out, registry.scrape());
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, writer.getContentType());
            exchange.getResponseSender().send(ByteBuffer.wrap(out.toByteArray()));
        };
    }

    /** Registers a gauge read at scrape time. */
    public void gauge(final String name, final String help, final Supplier<Number> value)
    {
        GaugeWithCallback.builder().name(name).help(help)
            .callback(cb -> cb.call(value.get().doubleValue())).register(registry);
    }

    /** Registers a counter read at scrape time; the {@code _total} suffix is added. */
    public void counter(final String name, final String help, final LongSupplier value)
    {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsLong()))
            .register(registry);
    }

    /** Registers a histogram recorded as things happen. */
    public void histogram(final LatencyHistogram histogram)
    {
        registry.register(histogram);
    }

    void counter(final String name, final String help, final LongAdder value)
    {
        counter(name, help, value::sum);
    }

    <K> void labelled(final String name, final String help, final String label, final Map<K, LongAdder> values)
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
