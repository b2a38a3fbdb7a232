package dev.agentwire.server;

import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The gateway's counters: connections, closes by code, deliveries, refusals by reason, rate-limit hits, auth
 * failures by reason, resumes by outcome. Written from I/O and slice threads without locks; read for metrics.
 */
final class GatewayMetrics
{
    final LongAdder connectionsOpened = new LongAdder();
    final LongAdder connectionsClosed = new LongAdder();
    final ConcurrentHashMap<Integer, LongAdder> closedByCode = new ConcurrentHashMap<>();
    final LongAdder eventsDelivered = new LongAdder();
    final LongAdder eventsPublished = new LongAdder();
    final ConcurrentHashMap<String, LongAdder> eventsRefused = new ConcurrentHashMap<>();
    final LongAdder slowConsumerCloses = new LongAdder();
    final ConcurrentHashMap<String, LongAdder> rateLimited = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, LongAdder> authFailures = new ConcurrentHashMap<>();
    final LongAdder resumesRecovered = new LongAdder();
    final LongAdder resumesNotRecovered = new LongAdder();
    final LongAdder badMessages = new LongAdder();

    void connectionOpened()
    {
        connectionsOpened.increment();
    }

    void connectionClosed(final int code)
    {
        connectionsClosed.increment();
        closedByCode.computeIfAbsent(code, c -> new LongAdder()).increment();
    }

    long connectionsOpen()
    {
        return connectionsOpened.sum() - connectionsClosed.sum();
    }

    /** Recorded as it happens (the only metric that is); {@link MetricsExporter} registers it for scraping. */
    final Histogram deliveryLatency = Histogram.builder()
        .name("agentwire_delivery_latency_seconds")
        .help("From publish into the spine to the frame handed to the user's socket.")
        .unit(Unit.SECONDS)
        .classicUpperBounds(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
            2.5, 5)
        .build();

    void delivered(final long publishNs)
    {
        eventsDelivered.increment();
        deliveryLatency.observe((System.nanoTime() - publishNs) / 1e9);
    }

    void published(final int count)
    {
        eventsPublished.add(count);
    }

    void refused(final String reason)
    {
        eventsRefused.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    void slowConsumerClosed()
    {
        slowConsumerCloses.increment();
    }

    void rateLimited(final String scope)
    {
        rateLimited.computeIfAbsent(scope, s -> new LongAdder()).increment();
    }

    void authFailed(final String reason)
    {
        authFailures.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    void resumed(final boolean recovered)
    {
        (recovered ? resumesRecovered : resumesNotRecovered).increment();
    }

    void badMessage()
    {
        badMessages.increment();
    }
}
