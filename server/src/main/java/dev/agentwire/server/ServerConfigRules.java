package dev.agentwire.server;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * The rules {@link ServerConfig.Builder#build()} checks, once, before a config exists: each names the setting,
 * the value (never a secret's) and the rule broken, as {@code invalid config: key=value rule}.
 */
final class ServerConfigRules
{
    private ServerConfigRules()
    {
    }

    static void validate(final ServerConfig.Builder b)
    {
        require(b.host != null && !b.host.isBlank(), "host", b.host, "must be set");
        require(b.port >= 0 && b.port <= 65535, "port", b.port, "must be 0..65535");
        require(b.ioThreads >= 1 && b.ioThreads <= 256, "ioThreads", b.ioThreads, "must be 1..256");
        require(b.jwtSecret != null || b.jwksFile != null, "jwtSecret", "<unset>",
            "one of jwtSecret (AGENTWIRE_JWT_SECRET) or jwksFile (AGENTWIRE_JWKS_FILE) must be set");
        require(b.jwtSecret == null || b.jwtSecret.getBytes(StandardCharsets.UTF_8).length >= 32,
            "jwtSecret", "<hidden>", "must be at least 32 bytes for HS256");
        require(b.jwksFile == null || Files.isReadable(b.jwksFile), "jwksFile", b.jwksFile, "must be a readable file");
        require(b.producerKey != null, "producerKey", "<unset>", "must be set (AGENTWIRE_PRODUCER_KEY)");
        require(b.producerKey.length() >= 16, "producerKey", "<hidden>", "must be at least 16 characters");
        require(b.maxMessageBytes >= 256 && b.maxMessageBytes <= 16 << 20, "maxMessageBytes", b.maxMessageBytes,
            "must be 256..16777216");
        require(b.maxBodyBytes >= 1024 && b.maxBodyBytes <= 64 << 20, "maxBodyBytes", b.maxBodyBytes,
            "must be 1024..67108864");
        require(b.maxMessageBytes <= b.engine.maxPayloadBytes(), "maxMessageBytes", b.maxMessageBytes,
            "must not exceed the engine's maxPayloadBytes (" + b.engine.maxPayloadBytes() + ")");
        require(b.maxConnectionsPerUser >= 1, "maxConnectionsPerUser", b.maxConnectionsPerUser, "must be >= 1");
        require(b.maxConnectionsPerIp >= 1, "maxConnectionsPerIp", b.maxConnectionsPerIp, "must be >= 1");
        require(b.inboundRatePerSec >= 1, "inboundRatePerSec", b.inboundRatePerSec, "must be >= 1");
        require(b.inboundBurst >= 1, "inboundBurst", b.inboundBurst, "must be >= 1");
        require(b.maxBadMessages >= 1, "maxBadMessages", b.maxBadMessages, "must be >= 1");
        require(b.producerRatePerSec >= 1, "producerRatePerSec", b.producerRatePerSec, "must be >= 1");
        require(b.producerBurst >= 1, "producerBurst", b.producerBurst, "must be >= 1");
        require(b.heartbeatIntervalMs >= 100 && b.heartbeatIntervalMs <= 600_000, "heartbeatIntervalMs",
            b.heartbeatIntervalMs, "must be 100..600000");
        require(b.heartbeatTimeoutMs > b.heartbeatIntervalMs, "heartbeatTimeoutMs", b.heartbeatTimeoutMs,
            "must be above heartbeatIntervalMs (" + b.heartbeatIntervalMs + ")");
        require(b.sendWindowBytes >= 4096 && b.sendWindowBytes <= 64 << 20, "sendWindowBytes", b.sendWindowBytes,
            "must be 4096..67108864");
        require(b.shutdownGraceMs >= 0, "shutdownGraceMs", b.shutdownGraceMs, "must be >= 0");
        require(b.redisUrl == null || b.redisUrl.startsWith("redis://") || b.redisUrl.startsWith("rediss://"),
            "redisUrl", b.redisUrl == null ? null : "<set>", "must start with redis:// or rediss://");
        require(b.redisKeyPrefix != null && !b.redisKeyPrefix.isEmpty(), "redisKeyPrefix", b.redisKeyPrefix,
            "must be non-empty");
        require(b.redisTimeoutMs >= 100, "redisTimeoutMs", b.redisTimeoutMs, "must be >= 100");
        require(b.clusterLogMaxEntries >= 1_000, "clusterLogMaxEntries", b.clusterLogMaxEntries, "must be >= 1000");
        require(b.retryAfterSeconds >= 1, "retryAfterSeconds", b.retryAfterSeconds, "must be >= 1");
        require(b.requestParseTimeoutMs >= 100 && b.requestParseTimeoutMs <= 600_000, "requestParseTimeoutMs",
            b.requestParseTimeoutMs, "must be 100..600000");
        require(b.idleTimeoutMs >= 1_000 && b.idleTimeoutMs <= 3_600_000, "idleTimeoutMs", b.idleTimeoutMs,
            "must be 1000..3600000");
        require(b.maxConnections >= 16, "maxConnections", b.maxConnections, "must be >= 16");
        require(b.maxPendingConnectionsPerIp >= 1, "maxPendingConnectionsPerIp", b.maxPendingConnectionsPerIp,
            "must be >= 1");
        for (final String proxy : b.trustedProxies)
        {
            require(dev.agentwire.server.http.ClientAddress.isAddressLiteral(proxy), "trustedProxies", proxy,
                "must be IP address literals");
        }
        require(b.metricsKey == null || b.metricsKey.length() >= 16, "metricsKey", "<hidden>",
            "must be at least 16 characters");
    }

    private static void require(final boolean ok, final String key, final Object value, final String rule)
    {
        if (!ok)
        {
            throw new IllegalArgumentException("invalid config: " + key + "=" + value + " " + rule);
        }
    }
}
