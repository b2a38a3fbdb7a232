package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.cluster.ClusterSettings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The gateway's one immutable configuration, validated once by {@link Builder#build()}: every bad value is named in
 * one {@link IllegalArgumentException}, {@code invalid config: key=value rule} per setting (never the value of a
 * secret). What each setting is, its default and its rule are stated once, in {@link ServerSettings}; this class
 * keeps the values by that table and gives them typed names. The engine's own settings travel inside as an
 * {@link AgentWireConfig}.
 */
public final class ServerConfig
{
    private final Object[] values;
    private final AgentWireConfig engine;

    private ServerConfig(final Object[] values, final AgentWireConfig engine)
    {
        this.values = values;
        this.engine = engine;
    }

    /** @return a builder holding every default (no secret, no producer key: both must be set). */
    public static Builder builder()
    {
        return new Builder();
    }

    // One accessor per setting of ServerSettings, named as its key (see there for its meaning, default and rule).

    public String host()
    {
        return (String)values[ServerSettings.HOST.index];
    }

    public int port()
    {
        return (Integer)values[ServerSettings.PORT.index];
    }

    public int ioThreads()
    {
        return (Integer)values[ServerSettings.IO_THREADS.index];
    }

    public String jwtSecret()
    {
        return (String)values[ServerSettings.JWT_SECRET.index];
    }

    public Path jwksFile()
    {
        return (Path)values[ServerSettings.JWKS_FILE.index];
    }

    public String jwtIssuer()
    {
        return (String)values[ServerSettings.JWT_ISSUER.index];
    }

    public String jwtAudience()
    {
        return (String)values[ServerSettings.JWT_AUDIENCE.index];
    }

    public String producerKey()
    {
        return (String)values[ServerSettings.PRODUCER_KEY.index];
    }

    public Set<String> allowedOrigins()
    {
        return (Set<String>)values[ServerSettings.ALLOWED_ORIGINS.index];
    }

    public int maxMessageBytes()
    {
        return (Integer)values[ServerSettings.MAX_MESSAGE_BYTES.index];
    }

    public int maxBodyBytes()
    {
        return (Integer)values[ServerSettings.MAX_BODY_BYTES.index];
    }

    public int maxConnectionsPerUser()
    {
        return (Integer)values[ServerSettings.MAX_CONNECTIONS_PER_USER.index];
    }

    public int maxConnectionsPerIp()
    {
        return (Integer)values[ServerSettings.MAX_CONNECTIONS_PER_IP.index];
    }

    public int maxConnections()
    {
        return (Integer)values[ServerSettings.MAX_CONNECTIONS.index];
    }

    public int maxPendingConnectionsPerIp()
    {
        return (Integer)values[ServerSettings.MAX_PENDING_CONNECTIONS_PER_IP.index];
    }

    public long requestParseTimeoutMs()
    {
        return (Long)values[ServerSettings.REQUEST_PARSE_TIMEOUT_MS.index];
    }

    public long idleTimeoutMs()
    {
        return (Long)values[ServerSettings.IDLE_TIMEOUT_MS.index];
    }

    public Set<String> trustedProxies()
    {
        return (Set<String>)values[ServerSettings.TRUSTED_PROXIES.index];
    }

    public String metricsKey()
    {
        return (String)values[ServerSettings.METRICS_KEY.index];
    }

    public int inboundRatePerSec()
    {
        return (Integer)values[ServerSettings.INBOUND_RATE_PER_SEC.index];
    }

    public int inboundBurst()
    {
        return (Integer)values[ServerSettings.INBOUND_BURST.index];
    }

    public int maxBadMessages()
    {
        return (Integer)values[ServerSettings.MAX_BAD_MESSAGES.index];
    }

    public int producerRatePerSec()
    {
        return (Integer)values[ServerSettings.PRODUCER_RATE_PER_SEC.index];
    }

    public int producerBurst()
    {
        return (Integer)values[ServerSettings.PRODUCER_BURST.index];
    }

    public long heartbeatIntervalMs()
    {
        return (Long)values[ServerSettings.HEARTBEAT_INTERVAL_MS.index];
    }

    public long heartbeatTimeoutMs()
    {
        return (Long)values[ServerSettings.HEARTBEAT_TIMEOUT_MS.index];
    }

    public int sendWindowBytes()
    {
        return (Integer)values[ServerSettings.SEND_WINDOW_BYTES.index];
    }

    public long shutdownGraceMs()
    {
        return (Long)values[ServerSettings.SHUTDOWN_GRACE_MS.index];
    }

    public int retryAfterSeconds()
    {
        return (Integer)values[ServerSettings.RETRY_AFTER_SECONDS.index];
    }

    public long agUiRunStartTimeoutMs()
    {
        return (Long)values[ServerSettings.AG_UI_RUN_START_TIMEOUT_MS.index];
    }

    /** @return true when the server runs as a node of a Redis-backed cluster ({@code redisUrl} set). */
    public boolean isClustered()
    {
        return values[ServerSettings.REDIS_URL.index] != null;
    }

    /** @return the settings of a cluster node (Redis, its TLS, keys, timeouts, this node's name); null when alone. */
    public ClusterSettings cluster()
    {
        return !isClustered() ? null : new ClusterSettings((String)values[ServerSettings.REDIS_URL.index],
            (String)values[ServerSettings.REDIS_SENTINEL_PASSWORD.index],
            (Path)values[ServerSettings.REDIS_TLS_CA_FILE.index],
            (Path)values[ServerSettings.REDIS_TLS_CERT_FILE.index],
            (Path)values[ServerSettings.REDIS_TLS_KEY_FILE.index],
            (String)values[ServerSettings.REDIS_KEY_PREFIX.index],
            (Long)values[ServerSettings.REDIS_TIMEOUT_MS.index],
            (Integer)values[ServerSettings.CLUSTER_COMMIT_MAX_EVENTS.index],
            (Long)values[ServerSettings.REDIS_SETTINGS_CHECK_MS.index], (String)values[ServerSettings.NODE_ID.index]);
    }

    /** @return the engine's configuration. */
    public AgentWireConfig engine()
    {
        return engine;
    }

    @Override
    public String toString()
    {
        return "ServerConfig{" + ServerSettings.describe(values) + "engine=" + engine + '}';
    }

    /** Collects values; {@link #build()} checks them all at once. Not thread-safe. */
    public static final class Builder
    {
        private final Object[] values = new Object[ServerSettings.SETTINGS.size()];
        private AgentWireConfig engine;

        private Builder()
        {
            for (final Setting<?> setting : ServerSettings.SETTINGS)
            {
                values[setting.index] = setting.defaultValue;
            }
        }

        /**
         * Sets a setting by its descriptor (what {@link Main} does for each flag, variable or file key).
         *
         * @param value of the setting's type; null: unset.
         * @return this.
         */
        <T> Builder set(final Setting<T> setting, final Object value)
        {
            values[setting.index] = value;
            return this;
        }

        // One setter per setting of ServerSettings, named as its key; strings are trimmed, blank is unset.

        public Builder host(final String v)
        {
            return set(ServerSettings.HOST, v == null || v.isBlank() ? null : v.trim());
        }

        public Builder port(final int v)
        {
            return set(ServerSettings.PORT, v);
        }

        public Builder ioThreads(final int v)
        {
            return set(ServerSettings.IO_THREADS, v);
        }

        public Builder jwtSecret(final String v)
        {
            return set(ServerSettings.JWT_SECRET, v == null || v.isBlank() ? null : v.trim());
        }

        public Builder jwksFile(final Path v)
        {
            return set(ServerSettings.JWKS_FILE, v);
        }

        public Builder jwtIssuer(final String v)
        {
            return set(ServerSettings.JWT_ISSUER, v == null || v.isBlank() ? null : v.trim());
        }

        public Builder jwtAudience(final String v)
        {
            return set(ServerSettings.JWT_AUDIENCE, v == null || v.isBlank() ? null : v.trim());
        }

        public Builder producerKey(final String v)
        {
            return set(ServerSettings.PRODUCER_KEY, v == null || v.isBlank() ? null : v.trim());
        }

        public Builder maxMessageBytes(final int v)
        {
            return set(ServerSettings.MAX_MESSAGE_BYTES, v);
        }

        public Builder maxBodyBytes(final int v)
        {
            return set(ServerSettings.MAX_BODY_BYTES, v);
        }

        public Builder maxConnectionsPerUser(final int v)
        {
            return set(ServerSettings.MAX_CONNECTIONS_PER_USER, v);
        }

        public Builder maxConnectionsPerIp(final int v)
        {
            return set(ServerSettings.MAX_CONNECTIONS_PER_IP, v);
        }

        public Builder maxConnections(final int v)
        {
            return set(ServerSettings.MAX_CONNECTIONS, v);
        }

        public Builder maxPendingConnectionsPerIp(final int v)
        {
            return set(ServerSettings.MAX_PENDING_CONNECTIONS_PER_IP, v);
        }

        public Builder requestParseTimeoutMs(final long v)
        {
            return set(ServerSettings.REQUEST_PARSE_TIMEOUT_MS, v);
        }

        public Builder idleTimeoutMs(final long v)
        {
            return set(ServerSettings.IDLE_TIMEOUT_MS, v);
        }

        public Builder metricsKey(final String v)
        {
            return set(ServerSettings.METRICS_KEY, v == null || v.isBlank() ? null : v.trim());
        }

        public Builder inboundRatePerSec(final int v)
        {
            return set(ServerSettings.INBOUND_RATE_PER_SEC, v);
        }

        public Builder inboundBurst(final int v)
        {
            return set(ServerSettings.INBOUND_BURST, v);
        }

        public Builder maxBadMessages(final int v)
        {
            return set(ServerSettings.MAX_BAD_MESSAGES, v);
        }

        public Builder producerRatePerSec(final int v)
        {
            return set(ServerSettings.PRODUCER_RATE_PER_SEC, v);
        }

        public Builder producerBurst(final int v)
        {
            return set(ServerSettings.PRODUCER_BURST, v);
        }

        public Builder heartbeatIntervalMs(final long v)
        {
            return set(ServerSettings.HEARTBEAT_INTERVAL_MS, v);
        }

        public Builder heartbeatTimeoutMs(final long v)
        {
            return set(ServerSettings.HEARTBEAT_TIMEOUT_MS, v);
        }

        public Builder sendWindowBytes(final int v)
        {
            return set(ServerSettings.SEND_WINDOW_BYTES, v);
        }

        public Builder shutdownGraceMs(final long v)
        {
            return set(ServerSettings.SHUTDOWN_GRACE_MS, v);
        }

        public Builder retryAfterSeconds(final int v)
        {
            return set(ServerSettings.RETRY_AFTER_SECONDS, v);
        }

        public Builder agUiRunStartTimeoutMs(final long v)
        {
            return set(ServerSettings.AG_UI_RUN_START_TIMEOUT_MS, v);
        }

        public Builder redisUrl(final String v)
        {
            return set(ServerSettings.REDIS_URL, v == null || v.isBlank() ? null : v.trim());
        }

        /** The Sentinels' own password, where they have one (the URL's password is the servers'). */
        public Builder redisSentinelPassword(final String v)
        {
            return set(ServerSettings.REDIS_SENTINEL_PASSWORD, v);
        }

        public Builder redisTlsCaFile(final Path v)
        {
            return set(ServerSettings.REDIS_TLS_CA_FILE, v);
        }

        /** The certificate (chain) and its PKCS#8 key presented to a Redis that asks clients for one. */
        public Builder redisTlsClientCertificate(final Path certFile, final Path keyFile)
        {
            return set(ServerSettings.REDIS_TLS_CERT_FILE, certFile).set(ServerSettings.REDIS_TLS_KEY_FILE, keyFile);
        }

        public Builder redisKeyPrefix(final String v)
        {
            return set(ServerSettings.REDIS_KEY_PREFIX, v == null || v.isBlank() ? null : v.trim());
        }

        public Builder redisTimeoutMs(final long v)
        {
            return set(ServerSettings.REDIS_TIMEOUT_MS, v);
        }

        public Builder clusterCommitMaxEvents(final int v)
        {
            return set(ServerSettings.CLUSTER_COMMIT_MAX_EVENTS, v);
        }

        public Builder redisSettingsCheckMs(final long v)
        {
            return set(ServerSettings.REDIS_SETTINGS_CHECK_MS, v);
        }

        public Builder nodeId(final String v)
        {
            return set(ServerSettings.NODE_ID, v == null || v.isBlank() ? null : v.trim());
        }

        /** @param v an Origin allowed to open user sockets (none added: any). @return this. */
        public Builder allowOrigin(final String v)
        {
            return add(ServerSettings.ALLOWED_ORIGINS, v);
        }

        /** @param v a proxy's address (an IP literal) whose forwarding headers are believed. @return this. */
        public Builder trustProxy(final String v)
        {
            return add(ServerSettings.TRUSTED_PROXIES, v);
        }

        private Builder add(final Setting<Set<String>> setting, final String v)
        {
            if (v != null && !v.isBlank())
            {
                @SuppressWarnings("unchecked")
                final Set<String> items = new LinkedHashSet<>((Set<String>)values[setting.index]);
                items.add(v.trim());
                values[setting.index] = Collections.unmodifiableSet(items);
            }
            return this;
        }

        /** @param v the engine's configuration (default: its defaults). @return this. */
        public Builder engine(final AgentWireConfig v)
        {
            engine = v;
            return this;
        }

        /**
         * @return the validated, immutable config.
         * @throws IllegalArgumentException naming every bad setting, one {@code invalid config: key=value rule}
         *                                  a line.
         */
        public ServerConfig build()
        {
            final AgentWireConfig engineConfig = engine != null ? engine : AgentWireConfig.defaults();
            final Object[] checked = values.clone();
            final List<String> broken = new ArrayList<>();
            for (final Setting<?> setting : ServerSettings.SETTINGS)
            {
                final String rule = setting.engine ? null : setting.check(checked[setting.index]);
                if (rule != null)
                {
                    broken.add(rule);
                }
            }
            ServerSettings.crossRules(checked, engineConfig, broken);
            if (!broken.isEmpty())
            {
                throw new IllegalArgumentException("invalid config: " + String.join("\ninvalid config: ", broken));
            }
            if (checked[ServerSettings.NODE_ID.index] == null)
            {
                checked[ServerSettings.NODE_ID.index] = java.util.UUID.randomUUID().toString();
            }
            return new ServerConfig(checked, engineConfig);
        }
    }
}
