package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.auth.TokenMinter;
import dev.agentwire.server.demo.DemoMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code agentwire serve}: every setting is a flag and an environment variable (the flag wins).
 */
@Command(name = "agentwire", mixinStandardHelpOptions = true, version = "agentwire 0.1.0",
    description = "Ordered, isolated, resumable delivery of AI agent events.",
    subcommands = {Main.Serve.class, Main.Demo.class, Main.Token.class})
public final class Main implements Callable<Integer>
{
    @Override
    public Integer call()
    {
        CommandLine.usage(this, System.out);
        return 2;
    }

    public static void main(final String[] args)
    {
        System.exit(run(args));
    }

    static int run(final String... args)
    {
        return run(System.getenv(), args);
    }

    /**
     * @param env  the environment to read AGENTWIRE_* settings from.
     * @param args the command line.
     * @return the exit code: 0, or 2 for bad usage or configuration.
     */
    static int run(final Map<String, String> env, final String... args)
    {
        final CommandLine commandLine = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        final Properties file = new Properties();
        final String configFile = configFile(env, args);
        if (configFile != null)
        {
            try (Reader reader = Files.newBufferedReader(Path.of(configFile), StandardCharsets.UTF_8))
            {
                file.load(reader);
            }
            catch (final IOException | RuntimeException ex)
            {
                System.err.println("agentwire: invalid config: config=" + configFile + " could not be read: " +
                    ex.getMessage());
                return 2;
            }
            final Set<String> known = new HashSet<>();
            for (final CommandLine.Model.OptionSpec option :
                commandLine.getSubcommands().get("serve").getCommandSpec().options())
            {
                known.add(SettingsDefaults.keyOf(option.longestName()));
            }
            for (final String key : file.stringPropertyNames())
            {
                if (!known.contains(key))
                {
                    System.err.println("agentwire: invalid config: " + key + " in " + configFile +
                        " is not a setting (see serve --help)");
                    return 2;
                }
            }
        }
        commandLine.setDefaultValueProvider(new SettingsDefaults(env, file));
        return commandLine.execute(args);
    }

    private static String configFile(final Map<String, String> env, final String... args)
    {
        for (int i = 0; i < args.length; i++)
        {
            if ("--config".equals(args[i]) && i + 1 < args.length)
            {
                return args[i + 1];
            }
            if (args[i].startsWith("--config="))
            {
                return args[i].substring("--config=".length());
            }
        }
        final String fromEnv = env.get("AGENTWIRE_CONFIG");
        return fromEnv == null || fromEnv.isBlank() ? null : fromEnv;
    }

    /** Runs the gateway until SIGTERM / SIGINT, then shuts down gracefully. */
    @Command(name = "serve", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Run the gateway.",
            "Each setting: its flag, else the AGENTWIRE_* environment variable named after it " +
                "(--max-message-bytes: AGENTWIRE_MAX_MESSAGE_BYTES), else the same key in the --config file, " +
                "else the default."})
    static class Serve implements Callable<Integer>
    {
        @Option(names = "--config", description = "Properties file of AGENTWIRE_* settings (env AGENTWIRE_CONFIG).")
        String config;

        @Option(names = "--demo", description = "Demo mode: generated development secrets, the demo agent, the " +
            "live page at / and the demo-only endpoints.")
        boolean demo;

        @Option(names = "--host", defaultValue = ServerConfig.DEFAULT_HOST,
            description = "Listen address (env AGENTWIRE_HOST).")
        String host;

        @Option(names = "--port", defaultValue = "" + ServerConfig.DEFAULT_PORT,
            description = "Listen port, 0 for any free one (env AGENTWIRE_PORT).")
        int port;

        @Option(names = "--jwt-secret", defaultValue = "",
            description = "HS256 secret for user tokens, >= 32 bytes (env AGENTWIRE_JWT_SECRET).",
            showDefaultValue = CommandLine.Help.Visibility.NEVER)
        String jwtSecret;

        @Option(names = "--jwks-file", defaultValue = "",
            description = "JWKS file with RS256/ES256 public keys (env AGENTWIRE_JWKS_FILE).")
        String jwksFile;

        @Option(names = "--jwt-issuer", defaultValue = "",
            description = "Required iss claim (env AGENTWIRE_JWT_ISSUER).")
        String jwtIssuer;

        @Option(names = "--jwt-audience", defaultValue = "",
            description = "Required aud claim (env AGENTWIRE_JWT_AUDIENCE).")
        String jwtAudience;

        @Option(names = "--producer-key", defaultValue = "",
            description = "Key agent runtimes present as Bearer, >= 16 chars (env AGENTWIRE_PRODUCER_KEY).",
            showDefaultValue = CommandLine.Help.Visibility.NEVER)
        String producerKey;

        @Option(names = "--allowed-origins", defaultValue = "", split = ",",
            description = "Origins allowed to open user sockets, comma-separated; empty allows any " +
                "(env AGENTWIRE_ALLOWED_ORIGINS).")
        String[] allowedOrigins;

        @Option(names = "--trusted-proxies", defaultValue = "", split = ",",
            description = "Proxy addresses whose X-Forwarded-For / Forwarded names the client, comma-separated; " +
                "empty ignores those headers (env AGENTWIRE_TRUSTED_PROXIES).")
        String[] trustedProxies;

        @Option(names = "--metrics-key", defaultValue = "", showDefaultValue = CommandLine.Help.Visibility.NEVER,
            description = "Bearer key GET /metrics requires; empty leaves it open (env AGENTWIRE_METRICS_KEY).")
        String metricsKey;

        @Option(names = "--request-parse-timeout-ms", defaultValue = "" + ServerConfig.DEFAULT_REQUEST_PARSE_TIMEOUT_MS,
            description = "Longest a client may take to send a request's headers (env " +
                "AGENTWIRE_REQUEST_PARSE_TIMEOUT_MS).")
        long requestParseTimeoutMs;

        @Option(names = "--idle-timeout-ms", defaultValue = "" + ServerConfig.DEFAULT_IDLE_TIMEOUT_MS,
            description = "Longest an HTTP connection may wait for its next request (env AGENTWIRE_IDLE_TIMEOUT_MS).")
        long idleTimeoutMs;

        @Option(names = "--max-connections", defaultValue = "" + ServerConfig.DEFAULT_MAX_CONNECTIONS,
            description = "TCP connections held at once, all kinds (env AGENTWIRE_MAX_CONNECTIONS).")
        int maxConnections;

        @Option(names = "--max-pending-connections-per-ip",
            defaultValue = "" + ServerConfig.DEFAULT_MAX_PENDING_CONNECTIONS_PER_IP,
            description = "Connections per address that are not (yet) a user or producer socket (env " +
                "AGENTWIRE_MAX_PENDING_CONNECTIONS_PER_IP).")
        int maxPendingConnectionsPerIp;

        @Option(names = "--max-message-bytes", defaultValue = "" + ServerConfig.DEFAULT_MAX_MESSAGE_BYTES,
            description = "Largest client message and event data (env AGENTWIRE_MAX_MESSAGE_BYTES).")
        int maxMessageBytes;

        @Option(names = "--max-body-bytes", defaultValue = "" + ServerConfig.DEFAULT_MAX_BODY_BYTES,
            description = "Largest HTTP ingest body (env AGENTWIRE_MAX_BODY_BYTES).")
        int maxBodyBytes;

        @Option(names = "--max-connections-per-user",
            defaultValue = "" + ServerConfig.DEFAULT_MAX_CONNECTIONS_PER_USER,
            description = "Connections one user may hold (env AGENTWIRE_MAX_CONNECTIONS_PER_USER).")
        int maxConnectionsPerUser;

        @Option(names = "--max-connections-per-ip",
            defaultValue = "" + ServerConfig.DEFAULT_MAX_CONNECTIONS_PER_IP,
            description = "Connections one address may hold (env AGENTWIRE_MAX_CONNECTIONS_PER_IP).")
        int maxConnectionsPerIp;

        @Option(names = "--inbound-rate", defaultValue = "" + ServerConfig.DEFAULT_INBOUND_RATE_PER_SEC,
            description = "Messages per second a user connection may send (env AGENTWIRE_INBOUND_RATE).")
        int inboundRate;

        @Option(names = "--inbound-burst", defaultValue = "" + ServerConfig.DEFAULT_INBOUND_BURST,
            description = "Burst of user messages (env AGENTWIRE_INBOUND_BURST).")
        int inboundBurst;

        @Option(names = "--max-bad-messages", defaultValue = "" + ServerConfig.DEFAULT_MAX_BAD_MESSAGES,
            description = "Bad messages a user connection may send; the last closes it with 4003 "
                + "(env AGENTWIRE_MAX_BAD_MESSAGES).")
        int maxBadMessages;

        @Option(names = "--producer-rate", defaultValue = "" + ServerConfig.DEFAULT_PRODUCER_RATE_PER_SEC,
            description = "Events per second producers may publish (env AGENTWIRE_PRODUCER_RATE).")
        int producerRate;

        @Option(names = "--producer-burst", defaultValue = "" + ServerConfig.DEFAULT_PRODUCER_BURST,
            description = "Burst of producer events (env AGENTWIRE_PRODUCER_BURST).")
        int producerBurst;

        @Option(names = "--heartbeat-interval-ms",
            defaultValue = "" + ServerConfig.DEFAULT_HEARTBEAT_INTERVAL_MS,
            description = "Server ping period (env AGENTWIRE_HEARTBEAT_INTERVAL_MS).")
        long heartbeatIntervalMs;

        @Option(names = "--heartbeat-timeout-ms",
            defaultValue = "" + ServerConfig.DEFAULT_HEARTBEAT_TIMEOUT_MS,
            description = "Silence before a connection is closed (env AGENTWIRE_HEARTBEAT_TIMEOUT_MS).")
        long heartbeatTimeoutMs;

        @Option(names = "--shutdown-grace-ms", defaultValue = "" + ServerConfig.DEFAULT_SHUTDOWN_GRACE_MS,
            description = "Longest a graceful shutdown waits (env AGENTWIRE_SHUTDOWN_GRACE_MS).")
        long shutdownGraceMs;

        @Option(names = "--redis-url",
            description = "redis://host:port[/db]: run as a node of a Redis-backed cluster; unset for one node " +
                "(env AGENTWIRE_REDIS_URL). The URL may hold a password: it is never logged.")
        String redisUrl;

        @Option(names = "--redis-key-prefix", defaultValue = ServerConfig.DEFAULT_REDIS_KEY_PREFIX,
            description = "Prefix of every Redis key; clusters sharing a Redis need their own " +
                "(env AGENTWIRE_REDIS_KEY_PREFIX).")
        String redisKeyPrefix;

        @Option(names = "--redis-timeout-ms", defaultValue = "" + ServerConfig.DEFAULT_REDIS_TIMEOUT_MS,
            description = "Longest one Redis command may take before the publish answers 503 " +
                "(env AGENTWIRE_REDIS_TIMEOUT_MS).")
        long redisTimeoutMs;

        @Option(names = "--cluster-log-max-entries", defaultValue = "" + ServerConfig.DEFAULT_CLUSTER_LOG_MAX_ENTRIES,
            description = "Approximate length of the shared event log in Redis (env AGENTWIRE_CLUSTER_LOG_MAX_ENTRIES).")
        long clusterLogMaxEntries;

        @Option(names = "--node-id",
            description = "This node's id in the cluster; default random per start (env AGENTWIRE_NODE_ID).")
        String nodeId;

        @Option(names = "--ring-size", defaultValue = "" + AgentWireConfig.DEFAULT_RING_SIZE,
            description = "Spine ring slots, a power of two (env AGENTWIRE_RING_SIZE).")
        int ringSize;

        @Option(names = "--slices", defaultValue = "0",
            description = "Slice threads, 0 for one per core (env AGENTWIRE_SLICES).")
        int slices;

        @Option(names = "--history-max-events",
            defaultValue = "" + AgentWireConfig.DEFAULT_HISTORY_MAX_EVENTS,
            description = "Events kept per user for resume (env AGENTWIRE_HISTORY_MAX_EVENTS).")
        int historyMaxEvents;

        @Option(names = "--history-max-age-ms",
            defaultValue = "" + AgentWireConfig.DEFAULT_HISTORY_MAX_AGE_MS,
            description = "Longest an event is kept for resume (env AGENTWIRE_HISTORY_MAX_AGE_MS).")
        long historyMaxAgeMs;

        @Option(names = "--history-max-total-bytes",
            defaultValue = "" + AgentWireConfig.DEFAULT_HISTORY_MAX_TOTAL_BYTES,
            description = "Bound on all histories together (env AGENTWIRE_HISTORY_MAX_TOTAL_BYTES).")
        long historyMaxTotalBytes;

        @Option(names = "--lifecycle", defaultValue = "STRICT",
            description = "Run lifecycle validation: ${COMPLETION-CANDIDATES} (env AGENTWIRE_LIFECYCLE).")
        AgentWireConfig.LifecycleMode lifecycle;

        @Override
        public Integer call() throws InterruptedException
        {
            if (demo)
            {
                // Development only: fresh secrets at every start, printed so the person can use them.
                if (jwtSecret == null || jwtSecret.isBlank())
                {
                    jwtSecret = DemoMode.randomSecret();
                }
                if (producerKey == null || producerKey.isBlank())
                {
                    producerKey = DemoMode.randomSecret();
                }
            }
            final ServerConfig config;
            try
            {
                config = toConfig();
            }
            catch (final IllegalArgumentException ex)
            {
                System.err.println("agentwire: " + ex.getMessage());
                return 2;
            }
            final AgentWireServer server = AgentWireServer.start(config, demo);
            if (demo)
            {
                System.out.println(DemoMode.banner(config.host(), server.port(), jwtSecret, producerKey));
            }
            final CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() ->
            {
                server.close();
                stopped.countDown();
            }, "agentwire-shutdown"));
            System.out.println("agentwire serving on http://" + config.host() + ":" + server.port());
            stopped.await();
            return 0;
        }

        ServerConfig toConfig()
        {
            final AgentWireConfig.Builder engine = AgentWireConfig.builder()
                .ringSize(ringSize)
                .historyMaxEvents(historyMaxEvents)
                .historyMaxAgeMs(historyMaxAgeMs)
                .historyMaxTotalBytes(historyMaxTotalBytes)
                .lifecycleMode(lifecycle);
            if (slices > 0)
            {
                engine.sliceCount(slices);
            }
            final ServerConfig.Builder builder = ServerConfig.builder()
                .host(host)
                .port(port)
                .jwtSecret(jwtSecret)
                .jwksFile(jwksFile == null || jwksFile.isBlank() ? null : Path.of(jwksFile))
                .jwtIssuer(jwtIssuer)
                .jwtAudience(jwtAudience)
                .producerKey(producerKey)
                .maxMessageBytes(maxMessageBytes)
                .maxBodyBytes(maxBodyBytes)
                .maxConnectionsPerUser(maxConnectionsPerUser)
                .maxConnectionsPerIp(maxConnectionsPerIp)
                .inboundRatePerSec(inboundRate)
                .inboundBurst(inboundBurst)
                .maxBadMessages(maxBadMessages)
                .producerRatePerSec(producerRate)
                .producerBurst(producerBurst)
                .heartbeatIntervalMs(heartbeatIntervalMs)
                .heartbeatTimeoutMs(heartbeatTimeoutMs)
                .shutdownGraceMs(shutdownGraceMs)
                .redisUrl(redisUrl)
                .redisKeyPrefix(redisKeyPrefix)
                .redisTimeoutMs(redisTimeoutMs)
                .clusterLogMaxEntries(clusterLogMaxEntries)
                .nodeId(nodeId)
                .engine(engine.build());
            if (allowedOrigins != null)
            {
                for (final String origin : allowedOrigins)
                {
                    builder.allowOrigin(origin);
                }
            }
            if (trustedProxies != null)
            {
                for (final String proxy : trustedProxies)
                {
                    builder.trustProxy(proxy);
                }
            }
            builder.metricsKey(metricsKey)
                .requestParseTimeoutMs(requestParseTimeoutMs)
                .idleTimeoutMs(idleTimeoutMs)
                .maxConnections(maxConnections)
                .maxPendingConnectionsPerIp(maxPendingConnectionsPerIp);
            return builder.build();
        }
    }

    /** {@code agentwire demo}: {@code serve --demo}. */
    @Command(name = "demo", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Run the gateway in demo mode (same as serve --demo): nothing to configure.")
    static final class Demo extends Serve
    {
        Demo()
        {
            demo = true;
        }
    }

    /** Mints a development HS256 token for a user, signed with the configured secret. */
    @Command(name = "token", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Print an HS256 user token signed with AGENTWIRE_JWT_SECRET (for development and tests).")
    static final class Token implements Callable<Integer>
    {
        @Option(names = "--user", required = true, description = "The sub claim: the user id.")
        String user;

        @Option(names = "--rooms", split = ",", description = "Rooms the user may join (the rooms claim).")
        String[] rooms;

        @Option(names = "--ttl-seconds", defaultValue = "3600", description = "Lifetime of the token.")
        long ttlSeconds;

        @Option(names = "--jwt-secret", defaultValue = "",
            description = "HS256 secret (env AGENTWIRE_JWT_SECRET).", showDefaultValue = CommandLine.Help.Visibility.NEVER)
        String jwtSecret;

        @Option(names = "--jwt-issuer", defaultValue = "", description = "iss claim.")
        String issuer;

        @Option(names = "--jwt-audience", defaultValue = "", description = "aud claim.")
        String audience;

        @Override
        public Integer call()
        {
            if (jwtSecret == null || jwtSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32)
            {
                System.err.println("agentwire: invalid config: jwtSecret must be set (AGENTWIRE_JWT_SECRET or " +
                    "--jwt-secret) and at least 32 bytes");
                return 2;
            }
            System.out.println(TokenMinter.hs256(jwtSecret, user, rooms == null ? null : java.util.List.of(rooms),
                ttlSeconds * 1000, issuer, audience));
            return 0;
        }
    }
}
