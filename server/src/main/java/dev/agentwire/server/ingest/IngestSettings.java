package dev.agentwire.server.ingest;

/**
 * The settings of the producer side (HTTP ingest and producer sockets), as the server's configuration validated
 * them.
 *
 * @param maxMessageBytes    largest event data (and binary payload).
 * @param maxBodyBytes       largest HTTP body and producer socket frame.
 * @param producerRatePerSec events per second all producers together may publish.
 * @param producerBurst      burst of that.
 * @param retryAfterSeconds  the {@code Retry-After} of 429 and 503 answers.
 * @param heartbeatIntervalMs how often a producer socket is pinged (the user sockets' period).
 * @param heartbeatTimeoutMs  silence after which a producer socket is closed with 4005.
 */
public record IngestSettings(
    int maxMessageBytes, int maxBodyBytes, int producerRatePerSec, int producerBurst, int retryAfterSeconds,
    long heartbeatIntervalMs, long heartbeatTimeoutMs)
{
}
