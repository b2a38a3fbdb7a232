package dev.agentwire.server;

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

    private volatile MetricsExporter exporter;

    void exporter(final MetricsExporter exporter)
    {
        this.exporter = exporter;
    }

    void delivered(final long publishNs)
    {
        eventsDelivered.increment();
        final MetricsExporter e = exporter;
        if (e != null)
        {
            e.observeDelivery(publishNs);
        }
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
