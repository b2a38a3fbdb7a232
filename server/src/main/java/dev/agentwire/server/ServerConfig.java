package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The gateway's one immutable configuration, validated once by {@link Builder#build()}: a bad value throws
 * {@link IllegalArgumentException} naming the setting and the value (never the value of a secret).
 * The engine's own settings travel inside as an {@link AgentWireConfig}.
 */
public final class ServerConfig
{
    /** Default listen address: loopback, so a development server is not exposed by accident. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Default port. */
    public static final int DEFAULT_PORT = 8080;
    /** Default largest WebSocket message a client may send (and largest event data accepted). */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
    /** Default largest HTTP ingest body. */
    public static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
    /** Default connections one user may hold at once. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_USER = 16;
    /** Default connections one remote address may hold at once. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_IP = 1024;
    /** Default sustained messages per second one user connection may send. */
    public static final int DEFAULT_INBOUND_RATE_PER_SEC = 20;
    /** Default burst of messages one user connection may send. */
    public static final int DEFAULT_INBOUND_BURST = 40;
    /** Default bad messages (malformed, missing fields, binary) a user connection may send before it is closed. */
    public static final int DEFAULT_MAX_BAD_MESSAGES = 10;
    /** Default sustained events per second all producers together may publish. */
    public static final int DEFAULT_PRODUCER_RATE_PER_SEC = 50_000;
    /** Default burst of producer events. */
    public static final int DEFAULT_PRODUCER_BURST = 100_000;
    /** Default period of server pings. */
    public static final long DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
    /** Default silence after which a connection is closed. */
    public static final long DEFAULT_HEARTBEAT_TIMEOUT_MS = 45_000;
    /** Default bytes written to one socket and not yet acknowledged by the I/O layer. */
    public static final int DEFAULT_SEND_WINDOW_BYTES = 256 * 1024;
    /** Default longest a graceful shutdown waits for connections to drain. */
    public static final long DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
    /** Default longest a cluster node waits for Redis to answer one command. */
    public static final long DEFAULT_REDIS_TIMEOUT_MS = 2_000;
    /** Default entries the cluster's shared log keeps (approximately) for nodes that fall behind. */
    public static final long DEFAULT_CLUSTER_LOG_MAX_ENTRIES = 1_000_000;
    /** Default prefix of every Redis key the cluster uses. */
    public static final String DEFAULT_REDIS_KEY_PREFIX = "aw:";
    /** Default seconds a client is told to wait after 503. */
    public static final int DEFAULT_RETRY_AFTER_SECONDS = 1;
    /** Default longest a client may take to send a request's line and headers (slowloris bound). */
    public static final long DEFAULT_REQUEST_PARSE_TIMEOUT_MS = 10_000;
    /** Default longest an HTTP connection may wait idle for its next request. */
    public static final long DEFAULT_IDLE_TIMEOUT_MS = 60_000;
    /** Default TCP connections the server holds at once, all kinds together. */
    public static final int DEFAULT_MAX_CONNECTIONS = 100_000;
    /** Default connections one address may hold that are not (yet) a user or producer socket. */
    public static final int DEFAULT_MAX_PENDING_CONNECTIONS_PER_IP = 256;

    private final String host;
    private final int port;
    private final int ioThreads;
    private final String jwtSecret;
    private final Path jwksFile;
    private final String jwtIssuer;
    private final String jwtAudience;
    private final String producerKey;
    private final Set<String> allowedOrigins;
    private final int maxMessageBytes;
    private final int maxBodyBytes;
    private final int maxConnectionsPerUser;
    private final int maxConnectionsPerIp;
    private final int inboundRatePerSec;
    private final int inboundBurst;
    private final int maxBadMessages;
    private final int producerRatePerSec;
    private final int producerBurst;
    private final long heartbeatIntervalMs;
    private final long heartbeatTimeoutMs;
    private final int sendWindowBytes;
    private final long shutdownGraceMs;
    private final String redisUrl;
    private final String redisKeyPrefix;
    private final long redisTimeoutMs;
    private final long clusterLogMaxEntries;
    private final String nodeId;
    private final int retryAfterSeconds;
    private final long requestParseTimeoutMs;
    private final long idleTimeoutMs;
    private final int maxConnections;
    private final int maxPendingConnectionsPerIp;
    private final Set<String> trustedProxies;
    private final String metricsKey;
    private final AgentWireConfig engine;

    private ServerConfig(final Builder b)
    {
        host = b.host;
        port = b.port;
        ioThreads = b.ioThreads;
        jwtSecret = b.jwtSecret;
        jwksFile = b.jwksFile;
        jwtIssuer = b.jwtIssuer;
        jwtAudience = b.jwtAudience;
        producerKey = b.producerKey;
        allowedOrigins = Collections.unmodifiableSet(new LinkedHashSet<>(b.allowedOrigins));
        maxMessageBytes = b.maxMessageBytes;
        maxBodyBytes = b.maxBodyBytes;
        maxConnectionsPerUser = b.maxConnectionsPerUser;
        maxConnectionsPerIp = b.maxConnectionsPerIp;
        inboundRatePerSec = b.inboundRatePerSec;
        inboundBurst = b.inboundBurst;
        maxBadMessages = b.maxBadMessages;
        producerRatePerSec = b.producerRatePerSec;
        producerBurst = b.producerBurst;
        heartbeatIntervalMs = b.heartbeatIntervalMs;
        heartbeatTimeoutMs = b.heartbeatTimeoutMs;
        sendWindowBytes = b.sendWindowBytes;
        shutdownGraceMs = b.shutdownGraceMs;
        redisUrl = b.redisUrl;
        redisKeyPrefix = b.redisKeyPrefix;
        redisTimeoutMs = b.redisTimeoutMs;
        clusterLogMaxEntries = b.clusterLogMaxEntries;
        nodeId = b.nodeId != null ? b.nodeId : java.util.UUID.randomUUID().toString();
        retryAfterSeconds = b.retryAfterSeconds;
        requestParseTimeoutMs = b.requestParseTimeoutMs;
        idleTimeoutMs = b.idleTimeoutMs;
        maxConnections = b.maxConnections;
        maxPendingConnectionsPerIp = b.maxPendingConnectionsPerIp;
        trustedProxies = Collections.unmodifiableSet(new LinkedHashSet<>(b.trustedProxies));
        metricsKey = b.metricsKey;
        engine = b.engine;
    }

    /** @return a builder holding every default (no secret, no producer key: both must be set). */
    public static Builder builder()
    {
        return new Builder();
    }

    /** @return listen address. */
    public String host()
    {
        return host;
    }

    /** @return listen port (0 picks a free one). */
    public int port()
    {
        return port;
    }

    /** @return XNIO I/O threads. */
    public int ioThreads()
    {
        return ioThreads;
    }

    /** @return the HS256 secret, or null. */
    public String jwtSecret()
    {
        return jwtSecret;
    }

    /** @return the JWKS file of RS256/ES256 public keys, or null. */
    public Path jwksFile()
    {
        return jwksFile;
    }

    /** @return required {@code iss}, or null. */
    public String jwtIssuer()
    {
        return jwtIssuer;
    }

    /** @return required {@code aud}, or null. */
    public String jwtAudience()
    {
        return jwtAudience;
    }

    /** @return the producer key. */
    public String producerKey()
    {
        return producerKey;
    }

    /** @return origins allowed to open user sockets; empty allows any. */
    public Set<String> allowedOrigins()
    {
        return allowedOrigins;
    }

    /** @return largest client message and event data. */
    public int maxMessageBytes()
    {
        return maxMessageBytes;
    }

    /** @return largest HTTP ingest body. */
    public int maxBodyBytes()
    {
        return maxBodyBytes;
    }

    /** @return connections per user. */
    public int maxConnectionsPerUser()
    {
        return maxConnectionsPerUser;
    }

    /** @return connections per remote address. */
    public int maxConnectionsPerIp()
    {
        return maxConnectionsPerIp;
    }

    /** @return sustained client messages per second per connection. */
    public int inboundRatePerSec()
    {
        return inboundRatePerSec;
    }

    /** @return client message burst per connection. */
    public int inboundBurst()
    {
        return inboundBurst;
    }

    /** @return bad messages a user connection may send; the one that reaches this closes it with 4003. */
    public int maxBadMessages()
    {
        return maxBadMessages;
    }

    /** @return sustained producer events per second. */
    public int producerRatePerSec()
    {
        return producerRatePerSec;
    }

    /** @return producer event burst. */
    public int producerBurst()
    {
        return producerBurst;
    }

    /** @return ping period. */
    public long heartbeatIntervalMs()
    {
        return heartbeatIntervalMs;
    }

    /** @return silence before a connection is closed. */
    public long heartbeatTimeoutMs()
    {
        return heartbeatTimeoutMs;
    }

    /** @return bytes in flight per socket before draining pauses. */
    public int sendWindowBytes()
    {
        return sendWindowBytes;
    }

    /** @return graceful shutdown bound. */
    public long shutdownGraceMs()
    {
        return shutdownGraceMs;
    }

    /** @return the Redis URL (redis://host:port/db) that makes this server a cluster node, or null for one node. */
    public String redisUrl()
    {
        return redisUrl;
    }

    /** @return true when this server is a node of a Redis-backed cluster. */
    public boolean isClustered()
    {
        return redisUrl != null;
    }

    /** @return the prefix of every Redis key (clusters sharing one Redis need different prefixes). */
    public String redisKeyPrefix()
    {
        return redisKeyPrefix;
    }

    /** @return the longest one Redis command may take before it counts as failed. */
    public long redisTimeoutMs()
    {
        return redisTimeoutMs;
    }

    /** @return the approximate length the shared log is trimmed to. */
    public long clusterLogMaxEntries()
    {
        return clusterLogMaxEntries;
    }

    /** @return this node's id in the cluster (random per start unless set). */
    public String nodeId()
    {
        return nodeId;
    }

    /** @return the Retry-After of a 503. */
    public int retryAfterSeconds()
    {
        return retryAfterSeconds;
    }

    /** @return longest a client may take to send a request's line and headers before it is disconnected. */
    public long requestParseTimeoutMs()
    {
        return requestParseTimeoutMs;
    }

    /** @return longest an HTTP connection may wait idle for its next request before it is disconnected. */
    public long idleTimeoutMs()
    {
        return idleTimeoutMs;
    }

    /** @return TCP connections held at once, all kinds; past it new ones are answered 503 and closed. */
    public int maxConnections()
    {
        return maxConnections;
    }

    /** @return connections one address may hold that are not (yet) a user or producer socket. */
    public int maxPendingConnectionsPerIp()
    {
        return maxPendingConnectionsPerIp;
    }

    /** @return proxy addresses whose X-Forwarded-For / Forwarded names the client; empty: headers ignored. */
    public Set<String> trustedProxies()
    {
        return trustedProxies;
    }

    /** @return the bearer key {@code /metrics} requires, or null when it is open. */
    public String metricsKey()
    {
        return metricsKey;
    }

    /** @return the engine's configuration. */
    public AgentWireConfig engine()
    {
        return engine;
    }

    /** Settings as a log line: secrets are reported as set or not, never shown. */
    @Override
    public String toString()
    {
        return "ServerConfig{host=" + host + ", port=" + port + ", ioThreads=" + ioThreads +
            ", jwtSecret=" + (jwtSecret != null ? "<set>" : "<unset>") + ", jwksFile=" + jwksFile +
            ", jwtIssuer=" + jwtIssuer + ", jwtAudience=" + jwtAudience +
            ", producerKey=" + (producerKey != null ? "<set>" : "<unset>") + ", allowedOrigins=" + allowedOrigins +
            ", maxMessageBytes=" + maxMessageBytes + ", maxBodyBytes=" + maxBodyBytes +
            ", maxConnectionsPerUser=" + maxConnectionsPerUser + ", maxConnectionsPerIp=" + maxConnectionsPerIp +
            ", inboundRatePerSec=" + inboundRatePerSec + ", inboundBurst=" + inboundBurst +
            ", maxBadMessages=" + maxBadMessages +
            ", producerRatePerSec=" + producerRatePerSec + ", producerBurst=" + producerBurst +
            ", heartbeatIntervalMs=" + heartbeatIntervalMs + ", heartbeatTimeoutMs=" + heartbeatTimeoutMs +
            ", sendWindowBytes=" + sendWindowBytes + ", shutdownGraceMs=" + shutdownGraceMs +
            ", redisUrl=" + (redisUrl != null ? "<set>" : "<unset>") + ", redisKeyPrefix=" + redisKeyPrefix +
            ", redisTimeoutMs=" + redisTimeoutMs + ", clusterLogMaxEntries=" + clusterLogMaxEntries +
            ", nodeId=" + nodeId + ", requestParseTimeoutMs=" + requestParseTimeoutMs +
            ", idleTimeoutMs=" + idleTimeoutMs + ", maxConnections=" + maxConnections +
            ", maxPendingConnectionsPerIp=" + maxPendingConnectionsPerIp + ", trustedProxies=" + trustedProxies +
            ", metricsKey=" + (metricsKey != null ? "<set>" : "<unset>") +
            ", engine=" + engine + '}';
    }

    /** Mutable builder; {@link #build()} validates and freezes. */
    public static final class Builder
    {
        String host = DEFAULT_HOST;
        int port = DEFAULT_PORT;
        int ioThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        String jwtSecret;
        Path jwksFile;
        String jwtIssuer;
        String jwtAudience;
        String producerKey;
        private final Set<String> allowedOrigins = new LinkedHashSet<>();
        int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
        int maxConnectionsPerUser = DEFAULT_MAX_CONNECTIONS_PER_USER;
        int maxConnectionsPerIp = DEFAULT_MAX_CONNECTIONS_PER_IP;
        int inboundRatePerSec = DEFAULT_INBOUND_RATE_PER_SEC;
        int inboundBurst = DEFAULT_INBOUND_BURST;
        int maxBadMessages = DEFAULT_MAX_BAD_MESSAGES;
        int producerRatePerSec = DEFAULT_PRODUCER_RATE_PER_SEC;
        int producerBurst = DEFAULT_PRODUCER_BURST;
        long heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;
        long heartbeatTimeoutMs = DEFAULT_HEARTBEAT_TIMEOUT_MS;
        int sendWindowBytes = DEFAULT_SEND_WINDOW_BYTES;
        long shutdownGraceMs = DEFAULT_SHUTDOWN_GRACE_MS;
        String redisUrl;
        String redisKeyPrefix = DEFAULT_REDIS_KEY_PREFIX;
        long redisTimeoutMs = DEFAULT_REDIS_TIMEOUT_MS;
        long clusterLogMaxEntries = DEFAULT_CLUSTER_LOG_MAX_ENTRIES;
        String nodeId;
        int retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS;
        long requestParseTimeoutMs = DEFAULT_REQUEST_PARSE_TIMEOUT_MS;
        long idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS;
        int maxConnections = DEFAULT_MAX_CONNECTIONS;
        int maxPendingConnectionsPerIp = DEFAULT_MAX_PENDING_CONNECTIONS_PER_IP;
        final Set<String> trustedProxies = new LinkedHashSet<>();
        String metricsKey;
        AgentWireConfig engine;

        private Builder()
        {
        }

        /** @param v listen address. @return this. */
        public Builder host(final String v)
        {
            host = v;
            return this;
        }

        /** @param v listen port, 0..65535 (0: any free port). @return this. */
        public Builder port(final int v)
        {
            port = v;
            return this;
        }

        /** @param v I/O threads, 1..256. @return this. */
        public Builder ioThreads(final int v)
        {
            ioThreads = v;
            return this;
        }

        /** @param v HS256 secret, at least 32 bytes. @return this. */
        public Builder jwtSecret(final String v)
        {
            jwtSecret = blankToNull(v);
            return this;
        }

        /** @param v JWKS file with RS256/ES256 public keys. @return this. */
        public Builder jwksFile(final Path v)
        {
            jwksFile = v;
            return this;
        }

        /** @param v required issuer, or null. @return this. */
        public Builder jwtIssuer(final String v)
        {
            jwtIssuer = blankToNull(v);
            return this;
        }

        /** @param v required audience, or null. @return this. */
        public Builder jwtAudience(final String v)
        {
            jwtAudience = blankToNull(v);
            return this;
        }

        /** @param v the producer key, at least 16 characters. @return this. */
        public Builder producerKey(final String v)
        {
            producerKey = blankToNull(v);
            return this;
        }

        /** @param v an origin allowed to open user sockets (for example {@code https://app.example.com}). @return this. */
        public Builder allowOrigin(final String v)
        {
            if (v != null && !v.isBlank())
            {
                allowedOrigins.add(v.trim());
            }
            return this;
        }

        /** @param v largest client message, 256 B..16 MiB. @return this. */
        public Builder maxMessageBytes(final int v)
        {
            maxMessageBytes = v;
            return this;
        }

        /** @param v largest HTTP ingest body, 1 KiB..64 MiB. @return this. */
        public Builder maxBodyBytes(final int v)
        {
            maxBodyBytes = v;
            return this;
        }

        /** @param v connections per user, >= 1. @return this. */
        public Builder maxConnectionsPerUser(final int v)
        {
            maxConnectionsPerUser = v;
            return this;
        }

        /** @param v connections per remote address, >= 1. @return this. */
        public Builder maxConnectionsPerIp(final int v)
        {
            maxConnectionsPerIp = v;
            return this;
        }

        /** @param v sustained client messages per second, >= 1. @return this. */
        public Builder inboundRatePerSec(final int v)
        {
            inboundRatePerSec = v;
            return this;
        }

        /** @param v client message burst, >= 1. @return this. */
        public Builder inboundBurst(final int v)
        {
            inboundBurst = v;
            return this;
        }

        /** @param v bad messages a connection may send before it is closed with 4003, >= 1. @return this. */
        public Builder maxBadMessages(final int v)
        {
            maxBadMessages = v;
            return this;
        }

        /** @param v sustained producer events per second, >= 1. @return this. */
        public Builder producerRatePerSec(final int v)
        {
            producerRatePerSec = v;
            return this;
        }

        /** @param v producer event burst, >= 1. @return this. */
        public Builder producerBurst(final int v)
        {
            producerBurst = v;
            return this;
        }

        /** @param v ping period, 100 ms..10 min. @return this. */
        public Builder heartbeatIntervalMs(final long v)
        {
            heartbeatIntervalMs = v;
            return this;
        }

        /** @param v silence before closing, above the interval. @return this. */
        public Builder heartbeatTimeoutMs(final long v)
        {
            heartbeatTimeoutMs = v;
            return this;
        }

        /** @param v bytes in flight per socket, 4 KiB..64 MiB. @return this. */
        public Builder sendWindowBytes(final int v)
        {
            sendWindowBytes = v;
            return this;
        }

        /** @param v redis://host:port[/db] to run as a cluster node; null or blank for one node. @return this. */
        public Builder redisUrl(final String v)
        {
            redisUrl = v == null || v.isBlank() ? null : v.trim();
            return this;
        }

        /** @param v the prefix of every Redis key. @return this. */
        public Builder redisKeyPrefix(final String v)
        {
            redisKeyPrefix = v;
            return this;
        }

        /** @param v longest one Redis command may take. @return this. */
        public Builder redisTimeoutMs(final long v)
        {
            redisTimeoutMs = v;
            return this;
        }

        /** @param v approximate length the shared log is trimmed to. @return this. */
        public Builder clusterLogMaxEntries(final long v)
        {
            clusterLogMaxEntries = v;
            return this;
        }

        /** @param v this node's id (default: random per start). @return this. */
        public Builder nodeId(final String v)
        {
            nodeId = v == null || v.isBlank() ? null : v.trim();
            return this;
        }

        /** @param v graceful shutdown bound, >= 0. @return this. */
        public Builder shutdownGraceMs(final long v)
        {
            shutdownGraceMs = v;
            return this;
        }

        /** @param v Retry-After seconds of a 503, >= 1. @return this. */
        public Builder retryAfterSeconds(final int v)
        {
            retryAfterSeconds = v;
            return this;
        }

        /** @param v longest a client may take to send a request's head, 100 ms..10 min. @return this. */
        public Builder requestParseTimeoutMs(final long v)
        {
            requestParseTimeoutMs = v;
            return this;
        }

        /** @param v longest an HTTP connection may wait for its next request, 1 s..1 h. @return this. */
        public Builder idleTimeoutMs(final long v)
        {
            idleTimeoutMs = v;
            return this;
        }

        /** @param v TCP connections held at once, all kinds, >= 16. @return this. */
        public Builder maxConnections(final int v)
        {
            maxConnections = v;
            return this;
        }

        /** @param v connections per address not (yet) a user or producer socket, >= 1. @return this. */
        public Builder maxPendingConnectionsPerIp(final int v)
        {
            maxPendingConnectionsPerIp = v;
            return this;
        }

        /** @param v a proxy's address (an IP literal) whose forwarding headers are believed. @return this. */
        public Builder trustProxy(final String v)
        {
            if (v != null && !v.isBlank())
            {
                trustedProxies.add(v.trim());
            }
            return this;
        }

        /** @param v the bearer key {@code /metrics} requires (>= 16 characters); null or blank: open. @return this. */
        public Builder metricsKey(final String v)
        {
            metricsKey = blankToNull(v);
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
         * @throws IllegalArgumentException naming the first bad setting.
         */
        public ServerConfig build()
        {
            if (engine == null)
            {
                engine = AgentWireConfig.defaults();
            }
            ServerConfigRules.validate(this);
            return new ServerConfig(this);
        }

        private static String blankToNull(final String v)
        {
            return v == null || v.isBlank() ? null : v;
        }
    }
}
