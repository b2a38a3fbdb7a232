package dev.agentwire.server.ops;


import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters: connections, closes by code, deliveries, refusals by reason, rate-limit hits, auth
 * failures by reason, resumes by outcome. Written from I/O and slice threads without locks; read for
 * {@code /metrics} ({@link MetricsExporter}) and by tests. docs/OPERATIONS.md lists each with what to alert on.
 */
public final class ServerMetrics
{
    private final LongAdder connectionsOpened = new LongAdder();
    private final LongAdder connectionsClosed = new LongAdder();
    private final ConcurrentHashMap<Integer, LongAdder> closedByCode = new ConcurrentHashMap<>();
    private final LongAdder eventsDelivered = new LongAdder();
    private final LongAdder eventsPublished = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> eventsRefused = new ConcurrentHashMap<>();
    private final LongAdder slowConsumerCloses = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> rateLimited = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> authFailures = new ConcurrentHashMap<>();
    private final LongAdder resumesRecovered = new LongAdder();
    private final LongAdder resumesNotRecovered = new LongAdder();
    private final LongAdder badMessages = new LongAdder();
    private final LongAdder producerMessagesRerouted = new LongAdder();
    private final LongAdder producerMessagesLost = new LongAdder();
    private final LongAdder producerMessagesRedelivered = new LongAdder();
    private final LongAdder producersCut = new LongAdder();
    private final LongAdder drainFailures = new LongAdder();
    private final LongAdder producerReadsPaused = new LongAdder();
    private final LongAdder producersSilent = new LongAdder();

    /** Recorded as it happens (the only metric that is); {@link MetricsExporter} registers it for scraping. */
    final LatencyHistogram deliveryLatency = new LatencyHistogram("agentwire_delivery_latency_seconds",
        "From publish into the spine to the frame handed to the user's socket.");

    /** A drain of a user connection threw; the connection was closed with 1011 (a defect: alert on any). */
    public void drainFailed()
    {
        drainFailures.increment();
    }

    /** A producer socket's answers filled its send window: its reads were paused until it reads them. */
    public void producerReadsPaused()
    {
        producerReadsPaused.increment();
    }

    /**
     * A user's message went back from a producer socket that ended before writing it whole.
     *
     * @param delivered whether another runtime took it (else none could: it is lost).
     */
    public void producerMessageHandedBack(final boolean delivered)
    {
        (delivered ? producerMessagesRerouted : producerMessagesLost).increment();
    }

    /** A user's message a confirming runtime's socket took but its runtime had not confirmed went back, redelivered. */
    public void producerMessageRedelivered()
    {
        producerMessagesRedelivered.increment();
    }

    /** A producer socket was closed (4004) for not reading its backlog. */
    public void producerCut()
    {
        producersCut.increment();
    }

    /** A producer socket was closed (4005) for sending no frame, not even a pong, within the heartbeat timeout. */
    public void producerSilent()
    {
        producersSilent.increment();
    }

    /** @return producer sockets closed for silence. */
    public long producersSilent()
    {
        return producersSilent.sum();
    }

    /** @return producer sockets closed for not reading. */
    public long producersCut()
    {
        return producersCut.sum();
    }

    /** A user connection opened. */
    public void connectionOpened()
    {
        connectionsOpened.increment();
    }

    /** @param code the WebSocket close code a user connection ended with. */
    public void connectionClosed(final int code)
    {
        connectionsClosed.increment();
        closedByCode.computeIfAbsent(code, c -> new LongAdder()).increment();
    }

    /** @param publishNs {@link System#nanoTime()} when the delivered event entered the spine. */
    public void delivered(final long publishNs)
    {
        eventsDelivered.increment();
        deliveryLatency.record(System.nanoTime() - publishNs);
    }

    /** @param count events producers had accepted. */
    public void published(final int count)
    {
        eventsPublished.add(count);
    }

    /** @param reason why an event was refused (a refusal's name). */
    public void refused(final String reason)
    {
        eventsRefused.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /** A user connection was closed as a slow consumer (4004). */
    public void slowConsumerClosed()
    {
        slowConsumerCloses.increment();
    }

    /** @param scope {@code connection}, {@code producer} or {@code connections}. */
    public void rateLimited(final String scope)
    {
        rateLimited.computeIfAbsent(scope, s -> new LongAdder()).increment();
    }

    /** @param reason a refused token's or key's reason. */
    public void authFailed(final String reason)
    {
        authFailures.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /** @param recovered the resume's outcome. */
    public void resumed(final boolean recovered)
    {
        (recovered ? resumesRecovered : resumesNotRecovered).increment();
    }

    /** A client message was answered {@code bad_message}. */
    public void badMessage()
    {
        badMessages.increment();
    }

    /** @return user connections opened since start. */
    public long connectionsOpened()
    {
        return connectionsOpened.sum();
    }

    /** @return user connections closed since start. */
    public long connectionsClosed()
    {
        return connectionsClosed.sum();
    }

    /** @return user connections closed with this code since start. */
    public long closedWith(final int code)
    {
        final LongAdder count = closedByCode.get(code);
        return count == null ? 0 : count.sum();
    }

    /** @return connections closed as slow consumers since start. */
    public long slowConsumerCloses()
    {
        return slowConsumerCloses.sum();
    }

    /** @return refused tokens and keys with this reason since start. */
    public long authFailures(final String reason)
    {
        final LongAdder count = authFailures.get(reason);
        return count == null ? 0 : count.sum();
    }

    /** @return refused tokens and keys, all reasons, since start. */
    public long authFailuresTotal()
    {
        long total = 0;
        for (final LongAdder count : authFailures.values())
        {
            total += count.sum();
        }
        return total;
    }

    void register(final MetricsExporter exporter)
    {
        exporter.counter("agentwire_connections_opened", "User connections opened.", connectionsOpened);
        exporter.labelled("agentwire_connections_closed", "User connections closed, by WebSocket close code.", "code",
            closedByCode);
        exporter.counter("agentwire_events_published", "Events accepted from producers (HTTP and producer sockets).",
            eventsPublished);
        exporter.counter("agentwire_events_delivered", "Events written to user sockets.", eventsDelivered);
        exporter.labelled("agentwire_events_refused", "Events refused, by reason (lifecycle rule, ring_full, ...).",
            "reason", eventsRefused);
        exporter.counter("agentwire_slow_consumer_closes",
            "Connections closed because the client did not read (4004).", slowConsumerCloses);
        exporter.labelled("agentwire_rate_limited", "Rate-limit and cap hits, by scope.", "scope", rateLimited);
        exporter.labelled("agentwire_auth_failures", "Refused tokens and keys, by reason.", "reason", authFailures);
        exporter.counter("agentwire_bad_messages", "Client messages answered with bad_message.", badMessages);
        exporter.counter("agentwire_producers_cut", "Producer sockets closed (4004) for leaving their backlog " +
            "unread.", producersCut);
        exporter.counter("agentwire_producer_messages_rerouted", "Users' messages a producer socket ended before " +
            "its runtime had them (not written whole, or not confirmed), handed to another runtime.",
            producerMessagesRerouted);
        exporter.counter("agentwire_producer_messages_lost", "Users' messages a producer socket ended before its " +
            "runtime had them that no other runtime could take (none connected, or all behind): lost, each sender " +
            "told by an agentwire.message_lost event.",
            producerMessagesLost);
        exporter.counter("agentwire_producer_messages_redelivered", "Of those handed back, the ones a confirming " +
            "runtime's socket took whole but its runtime had not confirmed: sent on marked redelivered (the runtime " +
            "may have read them).", producerMessagesRedelivered);
        exporter.counter("agentwire_producers_silent", "Producer sockets closed (4005) for sending no frame, not " +
            "even a pong, within the heartbeat timeout.", producersSilent);
        exporter.counter("agentwire_drain_failures", "User connection drains that threw; each closed its " +
            "connection with 1011 (a defect: alert on any).", drainFailures);
        exporter.counter("agentwire_producer_reads_paused", "Times a producer socket stopped being read because " +
            "its unread answers filled the send window (backpressure; not an error).", producerReadsPaused);
        final Map<String, LongAdder> resumes = new LinkedHashMap<>();
        resumes.put("recovered", resumesRecovered);
        resumes.put("not_recovered", resumesNotRecovered);
        exporter.labelled("agentwire_resumes", "Resumes, by outcome.", "outcome", resumes);
    }
}
