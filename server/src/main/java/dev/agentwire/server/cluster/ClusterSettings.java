package dev.agentwire.server.cluster;

import java.nio.file.Path;

/**
 * The settings of a cluster node, as the server's configuration validated them: a view, built once at start.
 */
public final class ClusterSettings
{
    final String redisUrl;
    /** The Sentinels' own password, or null (they have none, or Redis is not behind Sentinel). */
    final String sentinelPassword;
    /** PEM of the CAs a rediss:// Redis's certificate is checked against, or null for the JVM's trust store. */
    final Path tlsCaFile;
    /** PEM certificate chain and PKCS#8 key the node presents to a Redis that asks clients for one, or both null. */
    final Path tlsCertFile;
    final Path tlsKeyFile;
    final String keyPrefix;
    final long redisTimeoutMs;
    final int commitMaxEvents;
    final long settingsCheckMs;
    final String nodeId;

    /**
     * @param redisUrl       redis://host:port[/db], rediss://… or redis-sentinel://host:port[,…]#primary (may
     *                       hold a password: never logged).
     * @param sentinelPassword the Sentinels' own password (a redis-sentinel:// URL's password is the servers'), or
     *                       null.
     * @param tlsCaFile      PEM of the CAs trusted for rediss://, or null for the JVM's trust store.
     * @param tlsCertFile    PEM certificate chain presented to Redis, or null for none.
     * @param tlsKeyFile     PEM (PKCS#8) key of {@code tlsCertFile}, or null for none.
     * @param keyPrefix      prefix of every Redis key.
     * @param redisTimeoutMs longest one Redis command may take.
     * @param commitMaxEvents most events one group commit carries to Redis.
     * @param settingsCheckMs how often Redis's primaries' settings are read again ({@link RedisSettingsPolicy}).
     * @param nodeId         this node's name in the cluster.
     */
    public ClusterSettings(
        final String redisUrl,
        final String sentinelPassword,
        final Path tlsCaFile,
        final Path tlsCertFile,
        final Path tlsKeyFile,
        final String keyPrefix,
        final long redisTimeoutMs,
        final int commitMaxEvents,
        final long settingsCheckMs,
        final String nodeId)
    {
        this.redisUrl = redisUrl;
        this.sentinelPassword = sentinelPassword;
        this.tlsCaFile = tlsCaFile;
        this.tlsCertFile = tlsCertFile;
        this.tlsKeyFile = tlsKeyFile;
        this.keyPrefix = keyPrefix;
        this.redisTimeoutMs = redisTimeoutMs;
        this.commitMaxEvents = commitMaxEvents;
        this.settingsCheckMs = settingsCheckMs;
        this.nodeId = nodeId;
    }
}
