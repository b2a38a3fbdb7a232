package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.cluster.RedisSeeds;
import dev.agentwire.server.http.ClientAddress;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import static dev.agentwire.server.Setting.Kind.INT;
import static dev.agentwire.server.Setting.Kind.LIFECYCLE;
import static dev.agentwire.server.Setting.Kind.LIST;
import static dev.agentwire.server.Setting.Kind.LONG;
import static dev.agentwire.server.Setting.Kind.PATH;
import static dev.agentwire.server.Setting.Kind.SECRET;
import static dev.agentwire.server.Setting.Kind.STRING;
import static dev.agentwire.server.Setting.Kind.URL;

/**
 * Every setting of the server, in one table: each {@link Setting} states its key, default, rule and help once; the
 * flag ({@code --max-bad-messages}), environment variable and config-file key ({@code AGENTWIRE_MAX_BAD_MESSAGES})
 * are derived from the key. {@link Main} makes its options from this list, {@link ServerConfig} keeps and checks
 * values by it, and the README's configuration table is {@link #markdownTable()} (a test holds the two equal).
 * Rules that relate two settings are {@link #crossRules}.
 */
final class ServerSettings
{
    private static final List<Setting<?>> ALL = new ArrayList<>();

    /**
     * The help's sections, by concern: the key of each section's first setting (settings are declared in this
     * order) and its heading.
     */
    static final String[][] SECTIONS = {
        {"jwtSecret", "Required (a user-token secret or JWKS file, and the producer key)"},
        {"host", "Listen"},
        {"jwtIssuer", "Auth"},
        {"maxMessageBytes", "Limits"},
        {"heartbeatIntervalMs", "Connections"},
        {"redisUrl", "Cluster (Redis)"},
        {"ringSize", "Engine and history"}};

    // Required first: a user-token secret (or JWKS file) and the producer key.
    static final Setting<String> JWT_SECRET = add("jwtSecret", SECRET, null, "—",
        s -> s == null || s.getBytes(StandardCharsets.UTF_8).length >= 32, "must be at least 32 bytes for HS256",
        "HS256 secret for user tokens (>= 32 bytes); this or a JWKS file is required");
    static final Setting<Path> JWKS_FILE = add("jwksFile", PATH, null, "—", p -> p == null || Files.isReadable(p),
        "must be a readable file", "JWKS file with RS256 / ES256 public keys");
    static final Setting<String> PRODUCER_KEY = add("producerKey", SECRET, null, "—",
        s -> s != null && s.length() >= 16,
        "must be set (AGENTWIRE_PRODUCER_KEY), at least 16 characters",
        "key agent runtimes present as Bearer (>= 16 chars), required");
    static final Setting<String> HOST = add("host", STRING, "127.0.0.1", null, s -> s != null && !s.isBlank(),
        "must be set", "listen address");
    static final Setting<Integer> PORT = add("port", INT, 8080, null, v -> v >= 0 && v <= 65535, "must be 0..65535",
        "listen port (0: any free port)");
    static final Setting<Integer> IO_THREADS = add("ioThreads", INT, Math.max(2,
        Runtime.getRuntime().availableProcessors()), "cores (at least 2)", v -> v >= 1 && v <= 256, "must be 1..256",
        "I/O threads serving the sockets");
    static final Setting<String> JWT_ISSUER = add("jwtIssuer", STRING, null, "—", null, null, "required `iss`");
    static final Setting<String> JWT_AUDIENCE = add("jwtAudience", STRING, null, "—", null, null, "required `aud`");
    static final Setting<Set<String>> ALLOWED_ORIGINS = add("allowedOrigins", LIST, Set.of(), "any", null, null,
        "comma-separated Origins allowed to open user sockets");
    static final Setting<Integer> MAX_MESSAGE_BYTES = add("maxMessageBytes", INT, 64 * 1024, null,
        v -> v >= 256 && v <= 16 << 20, "must be 256..16777216", "largest client message / event data (1009 above)");
    static final Setting<Integer> MAX_BODY_BYTES = add("maxBodyBytes", INT, 1024 * 1024, null,
        v -> v >= 1024 && v <= 64 << 20, "must be 1024..67108864", "largest HTTP ingest body (413 above)");
    static final Setting<Integer> MAX_CONNECTIONS_PER_USER = add("maxConnectionsPerUser", INT, 16, null, v -> v >= 1,
        "must be >= 1", "sockets one user may hold (429 above)");
    static final Setting<Integer> MAX_CONNECTIONS_PER_IP = add("maxConnectionsPerIp", INT, 1024, null, v -> v >= 1,
        "must be >= 1", "sockets one address may hold (429 above)");
    static final Setting<Integer> MAX_CONNECTIONS = add("maxConnections", INT, 100_000, null, v -> v >= 16,
        "must be >= 16", "TCP connections held at once, all kinds (lowered to the process's descriptor limit minus " +
        "160); past it 503 `at_capacity` and close, `/healthz` and `/readyz` still answer");
    static final Setting<Integer> MAX_PENDING_CONNECTIONS_PER_IP = add("maxPendingConnectionsPerIp", INT, 256, null,
        v -> v >= 1, "must be >= 1",
        "connections per address that have not completed a request yet (closed above)");
    static final Setting<Long> REQUEST_PARSE_TIMEOUT_MS = add("requestParseTimeoutMs", LONG, 10_000L, null,
        v -> v >= 100 && v <= 600_000, "must be 100..600000",
        "longest a request's line and headers may take to arrive (connection closed)");
    static final Setting<Long> IDLE_TIMEOUT_MS = add("idleTimeoutMs", LONG, 60_000L, null,
        v -> v >= 1_000 && v <= 3_600_000, "must be 1000..3600000",
        "longest an HTTP connection may wait for its next request");
    static final Setting<Set<String>> TRUSTED_PROXIES = add("trustedProxies", LIST, Set.of(), "none",
        ServerSettings::allAddresses, "must be IP address literals", "comma-separated proxy addresses whose " +
        "`X-Forwarded-For` / `Forwarded` names the client (per-address caps, logs); otherwise those headers are " +
        "ignored");
    static final Setting<String> METRICS_KEY = add("metricsKey", SECRET, null, "none",
        s -> s == null || s.length() >= 16,
        "must be at least 16 characters", "bearer key `GET /metrics` requires (>= 16 chars); unset: open");
    static final Setting<Integer> INBOUND_RATE_PER_SEC = add("inboundRatePerSec/inbound-rate", INT, 20, null,
        v -> v >= 1,
        "must be >= 1", "frames per second per user connection, every frame counted: messages, fragments, pings " +
        "(4002 above)");
    static final Setting<Integer> INBOUND_BURST = add("inboundBurst", INT, 40, null, v -> v >= 1, "must be >= 1",
        "burst of frames per user connection");
    static final Setting<Integer> MAX_BAD_MESSAGES = add("maxBadMessages", INT, 10, null, v -> v >= 1, "must be >= 1",
        "bad messages a user connection may send; the last one closes it with 4003");
    static final Setting<Integer> PRODUCER_RATE_PER_SEC = add("producerRatePerSec/producer-rate", INT, 50_000, null,
        v -> v >= 1,
        "must be >= 1", "events per second from all producers together (429 above)");
    static final Setting<Integer> PRODUCER_BURST = add("producerBurst", INT, 100_000, null, v -> v >= 1,
        "must be >= 1", "burst of producer events");
    static final Setting<Long> HEARTBEAT_INTERVAL_MS = add("heartbeatIntervalMs", LONG, 15_000L, null,
        v -> v >= 100 && v <= 600_000, "must be 100..600000", "server ping period (user and producer sockets)");
    static final Setting<Long> HEARTBEAT_TIMEOUT_MS = add("heartbeatTimeoutMs", LONG, 45_000L, null, null, null,
        "silence before 4005 (above the ping period)");
    static final Setting<Integer> SEND_WINDOW_BYTES = add("sendWindowBytes", INT, 256 * 1024, null,
        v -> v >= 4096 && v <= 64 << 20, "must be 4096..67108864",
        "bytes one drain writes to a user socket: a connection that does not read holds at most about this");
    static final Setting<Long> SHUTDOWN_GRACE_MS = add("shutdownGraceMs", LONG, 10_000L, null, v -> v >= 0,
        "must be >= 0", "longest SIGTERM waits for sockets to drain");
    static final Setting<Integer> RETRY_AFTER_SECONDS = add("retryAfterSeconds", INT, 1, null, v -> v >= 1,
        "must be >= 1", "`Retry-After` of a 503");
    static final Setting<Long> AG_UI_RUN_START_TIMEOUT_MS = add("agUiRunStartTimeoutMs", LONG, 60_000L, null,
        v -> v >= 0, "must be >= 0", "AG-UI over HTTP: the wait for a run to start, then `RUN_ERROR` " +
        "`run_start_timeout` (0: none)");
    static final Setting<String> REDIS_URL = add("redisUrl", URL, null, "—", ServerSettings::isRedisUrl,
        "must start with redis://, rediss://, redis-sentinel:// or rediss-sentinel://, then host[:port] (a Redis " +
        "Cluster's seeds: host:port,host:port)", "set: run as a cluster node over one Redis, Sentinel " +
        "(`redis-sentinel://host:port[,…]#primary`) or a Redis Cluster (`redis://host:port[,host:port…]`: seeds); " +
        "TLS: `rediss…` ([`docs/CLUSTER.md`](docs/CLUSTER.md)); unset: one embedded node. Never logged");
    static final Setting<String> REDIS_SENTINEL_PASSWORD = add("redisSentinelPassword", SECRET, null, "none",
        null, null, "the Sentinels' own password (`requirepass`; the URL's is the servers'); never logged");
    static final Setting<Path> REDIS_TLS_CA_FILE = add("redisTlsCaFile", PATH, null, "JVM's",
        p -> p == null || Files.isReadable(p), "must be a readable file",
        "PEM of the certificate authorities trusted for a `rediss://` Redis (unset: the JVM's trust store)");
    static final Setting<Path> REDIS_TLS_CERT_FILE = add("redisTlsCertFile", PATH, null, "none",
        p -> p == null || Files.isReadable(p), "must be a readable file",
        "PEM certificate (chain) this node presents to a `rediss://` Redis that asks clients for one (Redis's " +
        "default); set with the key file");
    static final Setting<Path> REDIS_TLS_KEY_FILE = add("redisTlsKeyFile", PATH, null, "none",
        ServerSettings::isPkcs8Key, "must be a readable PEM file holding an unencrypted PKCS#8 key (-----BEGIN " +
        "PRIVATE KEY-----; convert one with: openssl pkcs8 -topk8 -nocrypt -in <key> -out <key>.pk8)",
        "PEM private key (unencrypted PKCS#8) of the certificate file");
    static final Setting<String> REDIS_KEY_PREFIX = add("redisKeyPrefix", STRING, "aw:", "`aw:`",
        s -> s != null && !s.isEmpty(), "must be non-empty", "prefix of every Redis key");
    static final Setting<Long> REDIS_TIMEOUT_MS = add("redisTimeoutMs", LONG, 2_000L, null, v -> v >= 100,
        "must be >= 100", "longest one Redis command may take (503 above)");
    static final Setting<Integer> CLUSTER_COMMIT_MAX_EVENTS = add("clusterCommitMaxEvents", INT, 512, null,
        v -> v >= 1 && v <= 10_000, "must be 1..10000", "most events one group commit carries to Redis in one " +
        "script call (publishes that arrive while one is in Redis go in the next); larger groups cost Redis less " +
        "per event but hold it longer");
    static final Setting<Long> REDIS_SETTINGS_CHECK_MS = add("redisSettingsCheckMs", LONG, 60_000L, null,
        v -> v >= 1_000 && v <= 86_400_000, "must be 1000..86400000", "how often every Redis primary's memory " +
        "policy and append-only file are checked again");
    static final Setting<String> NODE_ID = add("nodeId", STRING, null, "random", null, null,
        "this node's name in the cluster");
    static final Setting<Integer> RING_SIZE = engine("ringSize", INT, AgentWireConfig.DEFAULT_RING_SIZE, null,
        AgentWireConfig.Builder::ringSize, "spine slots, a power of two");
    static final Setting<Integer> SLICES = engine("slices", INT, 0, "cores",
        (b, v) ->
        {
            if (v > 0)
            {
                b.sliceCount(v); // 0 keeps the engine's default, one per core
            }
        },
        "slice threads (0: one per core)");
    static final Setting<Integer> HISTORY_MAX_EVENTS = engine("historyMaxEvents", INT,
        AgentWireConfig.DEFAULT_HISTORY_MAX_EVENTS, null, AgentWireConfig.Builder::historyMaxEvents,
        "events kept per user for resume");
    static final Setting<Long> HISTORY_MAX_AGE_MS = engine("historyMaxAgeMs", LONG,
        AgentWireConfig.DEFAULT_HISTORY_MAX_AGE_MS, null, AgentWireConfig.Builder::historyMaxAgeMs,
        "longest an event is kept for resume");
    static final Setting<Long> HISTORY_MAX_TOTAL_BYTES = engine("historyMaxTotalBytes", LONG,
        AgentWireConfig.DEFAULT_HISTORY_MAX_TOTAL_BYTES, null, AgentWireConfig.Builder::historyMaxTotalBytes,
        "bound on all histories together");
    static final Setting<AgentWireConfig.LifecycleMode> LIFECYCLE_MODE = engine("lifecycleMode/lifecycle",
        LIFECYCLE, AgentWireConfig.LifecycleMode.STRICT, null, AgentWireConfig.Builder::lifecycleMode,
        "run lifecycle validation (`STRICT`, `OFF`)");

    static final List<Setting<?>> SETTINGS = Collections.unmodifiableList(ALL);

    private ServerSettings()
    {
    }

    private static <T> Setting<T> add(final String key, final Setting.Kind kind, final T defaultValue,
        final String defaultText, final Predicate<T> rule, final String ruleText, final String help)
    {
        final Setting<T> setting = new Setting<>(ALL.size(), key, kind, defaultValue, defaultText, rule, ruleText,
            null, help);
        ALL.add(setting);
        return setting;
    }

    private static <T> Setting<T> engine(final String key, final Setting.Kind kind, final T defaultValue,
        final String defaultText, final java.util.function.BiConsumer<AgentWireConfig.Builder, T> toEngine,
        final String help)
    {
        final Setting<T> setting = new Setting<>(ALL.size(), key, kind, defaultValue, defaultText, null, null,
            toEngine, help);
        ALL.add(setting);
        return setting;
    }

    /** @return the setting whose flag, key or environment variable this is, or null. */
    static Setting<?> find(final String name)
    {
        for (final Setting<?> setting : SETTINGS)
        {
            if (setting.flag.equals(name) || setting.key.equals(name) || setting.env.equals(name))
            {
                return setting;
            }
        }
        return null;
    }

    /**
     * The rules that relate settings to each other (each setting's own rule is in its {@link Setting}).
     *
     * @param values the values, by {@link Setting#index}.
     * @param engine the engine's configuration.
     * @param broken receives each rule broken, as {@code key=value rule}.
     */
    static void crossRules(final Object[] values, final AgentWireConfig engine, final List<String> broken)
    {
        if (values[JWT_SECRET.index] == null && values[JWKS_FILE.index] == null)
        {
            broken.add("jwtSecret=<unset> one of jwtSecret (AGENTWIRE_JWT_SECRET) or jwksFile (AGENTWIRE_JWKS_FILE) " +
                "must be set");
        }
        final int maxMessageBytes = (Integer)values[MAX_MESSAGE_BYTES.index];
        if (maxMessageBytes > engine.maxPayloadBytes())
        {
            broken.add("maxMessageBytes=" + maxMessageBytes + " must not exceed the engine's maxPayloadBytes (" +
                engine.maxPayloadBytes() + ")");
        }
        final String redisUrl = (String)values[REDIS_URL.index];
        final boolean tls = redisUrl != null && (redisUrl.startsWith("rediss://") ||
            redisUrl.startsWith("rediss-sentinel://"));
        if (values[REDIS_TLS_CA_FILE.index] != null && !tls)
        {
            broken.add("redisTlsCaFile=" + values[REDIS_TLS_CA_FILE.index] + " needs redisUrl=rediss://… (TLS); " +
                "redisUrl=" + (redisUrl == null ? "<unset>" : "<not rediss>"));
        }
        if (values[REDIS_SENTINEL_PASSWORD.index] != null && (redisUrl == null ||
            !redisUrl.startsWith("redis-sentinel://") && !redisUrl.startsWith("rediss-sentinel://")))
        {
            broken.add("redisSentinelPassword=<hidden> needs redisUrl=redis-sentinel://… or rediss-sentinel://…; " +
                "redisUrl=" + (redisUrl == null ? "<unset>" : "<not behind Sentinel>"));
        }
        final Object cert = values[REDIS_TLS_CERT_FILE.index];
        final Object key = values[REDIS_TLS_KEY_FILE.index];
        if ((cert == null) != (key == null))
        {
            broken.add("redisTlsCertFile=" + (cert == null ? "<unset>" : cert) + " redisTlsKeyFile=" +
                (key == null ? "<unset>" : key) + " must be set together");
        }
        else if (cert != null && !tls)
        {
            broken.add("redisTlsCertFile=" + cert + " needs redisUrl=rediss://… (TLS); redisUrl=" +
                (redisUrl == null ? "<unset>" : "<not rediss>"));
        }
        final long interval = (Long)values[HEARTBEAT_INTERVAL_MS.index];
        final long timeout = (Long)values[HEARTBEAT_TIMEOUT_MS.index];
        if (timeout <= interval)
        {
            broken.add("heartbeatTimeoutMs=" + timeout + " must be above heartbeatIntervalMs (" + interval + ")");
        }
    }

    /** Unset, behind Sentinel, or a {@code redis://} or {@code rediss://} URL whose hosts are well formed. */
    private static boolean isRedisUrl(final String url)
    {
        if (url == null || url.startsWith("redis-sentinel://") || url.startsWith("rediss-sentinel://"))
        {
            return true;
        }
        try
        {
            return !RedisSeeds.hosts(url).isEmpty();
        }
        catch (final IllegalArgumentException malformed)
        {
            return false;
        }
    }

    /**
     * Netty, which makes the node's TLS context, reads PKCS#8 keys only: a PKCS#1 ({@code RSA PRIVATE KEY}) or
     * SEC1 ({@code EC PRIVATE KEY}) file, which openssl writes too, would fail at the first connection with "File
     * does not contain valid private key"; refused here instead, with the command that converts it. An encrypted
     * key is refused too: the node has no password to open it with.
     *
     * @return true when unset, or a readable file whose first PEM block is an unencrypted PKCS#8 key.
     */
    static boolean isPkcs8Key(final Path keyFile)
    {
        if (keyFile == null)
        {
            return true;
        }
        try
        {
            for (final String line : Files.readAllLines(keyFile, StandardCharsets.US_ASCII))
            {
                if (line.startsWith("-----BEGIN "))
                {
                    return line.trim().equals("-----BEGIN PRIVATE KEY-----");
                }
            }
            return false;
        }
        catch (final java.io.IOException unreadable)
        {
            return false;
        }
    }

    /** @return each server setting as {@code key=value, }, a secret's (and a Redis URL's) as set or unset only. */
    static String describe(final Object[] values)
    {
        final StringBuilder text = new StringBuilder();
        for (final Setting<?> setting : SETTINGS)
        {
            if (!setting.engine)
            {
                final Object value = values[setting.index];
                text.append(setting.key).append('=').append(setting.hidesValue() ?
                    (value == null ? "<unset>" : "<set>") : value).append(", ");
            }
        }
        return text.toString();
    }

    /** @return the README's configuration table: one row per setting, from this list. */
    static String markdownTable()
    {
        final StringBuilder table =
            new StringBuilder("| flag | environment | default | meaning |\n|---|---|---|---|\n");
        for (final Setting<?> setting : SETTINGS)
        {
            table.append("| `").append(setting.flag).append("` | `").append(setting.env).append("` | ")
                .append(defaultText(setting)).append(" | ").append(setting.help).append(" |\n");
        }
        return table.toString();
    }

    /** @return the default as help shows it. */
    static String defaultText(final Setting<?> setting)
    {
        if (setting.defaultText != null)
        {
            return setting.defaultText;
        }
        return setting.defaultValue == null ? "—" : String.valueOf(setting.defaultValue);
    }

    private static boolean allAddresses(final Set<String> proxies)
    {
        for (final String proxy : proxies)
        {
            if (!ClientAddress.isAddressLiteral(proxy))
            {
                return false;
            }
        }
        return true;
    }
}
