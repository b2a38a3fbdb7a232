package dev.agentwire.server.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.protocol.ProtocolVersion;

import java.time.Duration;

/**
 * How a node's Redis client behaves, for one Redis and for a Redis Cluster: built once at start from
 * {@link ClusterSettings}, and chosen by {@link RedisLink}, the one place that tells the two setups apart.
 */
final class RedisClientOptions
{
    /** Commands waiting for Redis's answer past which new ones fail at once (producers get a 503). */
    static final int REQUEST_QUEUE_SIZE = 65_536;
    /**
     * How often Lettuce reads the whole slot map whatever happened: a safety net. Each such read opens a connection
     * to every shard, and sends each {@code CLUSTER NODES} and {@code INFO}: read every second, an idle node over three
     * shards used 70 ms of CPU a second, and 22-24 with this (benchmarks/README.md, "2026-12-06, evening"). Changes
     * are learnt sooner from redirects, reconnects and {@link RedisLink#SLOT_MAP_WATCH_MS}.
     */
    static final long SLOT_MAP_REFRESH_MS = 30_000;
    /**
     * RESP3, never RESP2 (which Lettuce would fall back to on a Redis without HELLO): over RESP2, Lettuce 7.7 takes
     * only 'message' and 'pmessage' for pushes, so a sharded channel's 'smessage' is matched against the pending
     * SSUBSCRIBE, whose future then never completes (a follow stuck, found by the fault suite). RESP3 marks pushes as
     * such. Redis 7 (needed for SSUBSCRIBE) speaks RESP3.
     */
    private static final ProtocolVersion RESP3 = ProtocolVersion.RESP3;

    private RedisClientOptions()
    {
    }

    /** @return the options of the first connection, which asks whether Redis is a cluster. */
    static ClientOptions probe(final ClusterSettings settings)
    {
        return ClientOptions.builder().protocolVersion(RESP3).sslOptions(tls(settings)).build();
    }

    /**
     * One Redis: fail fast while it is away, so a publish answers 503 at once instead of queueing behind a reconnect;
     * and a slow Redis must not grow the node's memory without bound ({@link #REQUEST_QUEUE_SIZE}).
     */
    static ClientOptions single(final ClusterSettings settings)
    {
        final ClientOptions.Builder options = ClientOptions.builder();
        common(options, settings);
        return options.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build();
    }

    /**
     * A Redis Cluster: its connections to each shard open on first use and move with failovers, so a command waits
     * (up to the command timeout) for its shard's connection instead of failing while it opens. Failovers and
     * migrations change the slot map: learnt quickly, on redirects and reconnects (here), when the cluster's epoch
     * moves ({@link Shards#watch}, every second), and periodically (a safety net).
     */
    static ClusterClientOptions sharded(final ClusterSettings settings)
    {
        final ClusterClientOptions.Builder options = ClusterClientOptions.builder();
        common(options, settings);
        return options
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
            .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                .enablePeriodicRefresh(Duration.ofMillis(SLOT_MAP_REFRESH_MS))
                .enableAllAdaptiveRefreshTriggers()
                .adaptiveRefreshTriggersTimeout(Duration.ofMillis(100))
                .build())
            .build();
    }

    /** What both setups share: RESP3, TLS, reconnects, a bounded queue and the command timeout. */
    private static void common(final ClientOptions.Builder options, final ClusterSettings settings)
    {
        options.protocolVersion(RESP3)
            .sslOptions(tls(settings))
            .autoReconnect(true)
            .requestQueueSize(REQUEST_QUEUE_SIZE)
            .timeoutOptions(TimeoutOptions.enabled(Duration.ofMillis(settings.redisTimeoutMs)));
    }

    /**
     * @return for {@code rediss://} and {@code rediss-sentinel://}: the certificate authorities of
     * {@code redisTlsCaFile}, or the JVM's trust store; and the certificate this node presents when Redis asks for
     * one (Redis's default, {@code tls-auth-clients yes}). The host name is verified against Redis's certificate
     * either way (Lettuce's default). The files are read again for every connection Lettuce opens, so a certificate
     * rotated in place is presented from the next reconnect on, without a restart.
     */
    private static SslOptions tls(final ClusterSettings settings)
    {
        if (settings.tlsCaFile == null && settings.tlsCertFile == null)
        {
            return SslOptions.create();
        }
        final SslOptions.Builder tls = SslOptions.builder().jdkSslProvider();
        if (settings.tlsCaFile != null)
        {
            tls.trustManager(settings.tlsCaFile.toFile());
        }
        if (settings.tlsCertFile != null)
        {
            tls.keyManager(settings.tlsCertFile.toFile(), settings.tlsKeyFile.toFile(), null);
        }
        return tls.build();
    }
}
