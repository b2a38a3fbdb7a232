package dev.agentwire.producer;

import java.net.URI;

/**
 * Everything an {@link AgentWireProducer} is told, once, validated when built: where the server is, its producer key,
 * the transport, and the bounds of batching, memory and retries. Immutable.
 */
public final class ProducerConfig
{
    /** How events reach the server. */
    public enum Transport
    {
        /** {@code POST /v1/events}: a batch stops at its first refusal, so a user's order holds under saturation. */
        HTTP,
        /** The producer socket: one frame per event, pipelined (lower latency; a transiently refused event that is
         * retried may land after a later one that was accepted). */
        SOCKET
    }

    public static final long DEFAULT_LINGER_MS = 5;
    public static final int DEFAULT_MAX_BATCH_EVENTS = 500;
    public static final int DEFAULT_MAX_BATCH_BYTES = 512 * 1024;
    public static final int DEFAULT_MAX_IN_FLIGHT = 10_000;
    public static final int DEFAULT_MAX_ATTEMPTS = 8;
    public static final long DEFAULT_TIMEOUT_MS = 30_000;
    public static final long DEFAULT_INITIAL_BACKOFF_MS = 50;
    public static final long DEFAULT_MAX_BACKOFF_MS = 5_000;
    public static final long DEFAULT_HEARTBEAT_MS = 20_000;

    final URI url;
    final String producerKey;
    final Transport transport;
    final long lingerMs;
    final int maxBatchEvents;
    final int maxBatchBytes;
    final int maxInFlight;
    final int maxAttempts;
    final long timeoutMs;
    final long initialBackoffMs;
    final long maxBackoffMs;
    final long heartbeatMs;

    private ProducerConfig(final Builder b)
    {
        if (b.url == null || b.producerKey == null || b.producerKey.isEmpty())
        {
            throw new IllegalArgumentException("url=" + b.url + " producerKey=" + (b.producerKey == null ? null :
                "<" + b.producerKey.length() + " chars>") + " are required");
        }
        if (!"http".equals(b.url.getScheme()) && !"https".equals(b.url.getScheme()))
        {
            throw new IllegalArgumentException("url=" + b.url + " must be http:// or https://");
        }
        if (b.lingerMs < 0 || b.maxBatchEvents < 1 || b.maxBatchBytes < 1 || b.maxInFlight < 1 || b.maxAttempts < 1 ||
            b.timeoutMs < 1 || b.initialBackoffMs < 1 || b.maxBackoffMs < b.initialBackoffMs || b.heartbeatMs < 1)
        {
            throw new IllegalArgumentException("lingerMs=" + b.lingerMs + " maxBatchEvents=" + b.maxBatchEvents +
                " maxBatchBytes=" + b.maxBatchBytes + " maxInFlight=" + b.maxInFlight + " maxAttempts=" +
                b.maxAttempts + " timeoutMs=" + b.timeoutMs + " initialBackoffMs=" + b.initialBackoffMs +
                " maxBackoffMs=" + b.maxBackoffMs + " heartbeatMs=" + b.heartbeatMs +
                ": lingerMs >= 0, the others >= 1, maxBackoffMs >= initialBackoffMs");
        }
        url = b.url;
        producerKey = b.producerKey;
        transport = b.transport;
        lingerMs = b.lingerMs;
        maxBatchEvents = b.maxBatchEvents;
        maxBatchBytes = b.maxBatchBytes;
        maxInFlight = b.maxInFlight;
        maxAttempts = b.maxAttempts;
        timeoutMs = b.timeoutMs;
        initialBackoffMs = b.initialBackoffMs;
        maxBackoffMs = b.maxBackoffMs;
        heartbeatMs = b.heartbeatMs;
    }

    /**
     * @param url         the server, {@code http://host:port}.
     * @param producerKey its {@code AGENTWIRE_PRODUCER_KEY}.
     * @return a builder with the named defaults.
     */
    public static Builder builder(final String url, final String producerKey)
    {
        return new Builder(URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url), producerKey);
    }

    /** The settings, each with its default. */
    public static final class Builder
    {
        private final URI url;
        private final String producerKey;
        private Transport transport = Transport.HTTP;
        private long lingerMs = DEFAULT_LINGER_MS;
        private int maxBatchEvents = DEFAULT_MAX_BATCH_EVENTS;
        private int maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
        private long timeoutMs = DEFAULT_TIMEOUT_MS;
        private long initialBackoffMs = DEFAULT_INITIAL_BACKOFF_MS;
        private long maxBackoffMs = DEFAULT_MAX_BACKOFF_MS;
        private long heartbeatMs = DEFAULT_HEARTBEAT_MS;

        private Builder(final URI url, final String producerKey)
        {
            this.url = url;
            this.producerKey = producerKey;
        }

        /** @param transport HTTP (default) or the producer socket. @return this. */
        public Builder transport(final Transport transport)
        {
            this.transport = transport;
            return this;
        }

        /** @param lingerMs how long an event waits for others to join its batch (5). @return this. */
        public Builder lingerMs(final long lingerMs)
        {
            this.lingerMs = lingerMs;
            return this;
        }

        /** @param events at most this many events per batch (500). @return this. */
        public Builder maxBatchEvents(final int events)
        {
            this.maxBatchEvents = events;
            return this;
        }

        /** @param bytes at most this many encoded bytes per batch (512 KiB). @return this. */
        public Builder maxBatchBytes(final int bytes)
        {
            this.maxBatchBytes = bytes;
            return this;
        }

        /** @param events at most this many unanswered events; publish waits past it (10,000). @return this. */
        public Builder maxInFlight(final int events)
        {
            this.maxInFlight = events;
            return this;
        }

        /** @param attempts sends of one event at most, the first included (8). @return this. */
        public Builder maxAttempts(final int attempts)
        {
            this.maxAttempts = attempts;
            return this;
        }

        /** @param timeoutMs how long an event may wait for its answer, retries included (30 s). @return this. */
        public Builder timeoutMs(final long timeoutMs)
        {
            this.timeoutMs = timeoutMs;
            return this;
        }

        /** @param initialMs first backoff bound (50), @param maxMs largest (5,000): full jitter. @return this. */
        public Builder backoffMs(final long initialMs, final long maxMs)
        {
            this.initialBackoffMs = initialMs;
            this.maxBackoffMs = maxMs;
            return this;
        }

        /**
         * @param heartbeatMs the producer socket's ping interval (20 s): a socket from which nothing, not even the
         *                    pong, arrived in a whole interval after a ping is given up and opened again, so a
         *                    connection that died without a word (a NAT's timeout, a half-closed socket) does not leave
         *                    the runtime deaf to users' messages. Detection takes at most two intervals.
         * @return this.
         */
        public Builder heartbeatMs(final long heartbeatMs)
        {
            this.heartbeatMs = heartbeatMs;
            return this;
        }

        /** @return the configuration. @throws IllegalArgumentException a setting out of range. */
        public ProducerConfig build()
        {
            return new ProducerConfig(this);
        }
    }
}
