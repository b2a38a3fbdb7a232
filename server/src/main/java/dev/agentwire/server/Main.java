package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code agentwire serve}: every setting is a flag and an environment variable (the flag wins).
 */
@Command(name = "agentwire", mixinStandardHelpOptions = true, version = "agentwire 0.1.0",
    description = "Ordered, isolated, resumable delivery of AI agent events.",
    subcommands = {Main.Serve.class, Main.Token.class})
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
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    /** Runs the gateway until SIGTERM / SIGINT, then shuts down gracefully. */
    @Command(name = "serve", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Run the gateway. Settings: flags, else AGENTWIRE_* environment variables, else defaults.")
    static final class Serve implements Callable<Integer>
    {
        @Option(names = "--host", defaultValue = "${env:AGENTWIRE_HOST:-" + ServerConfig.DEFAULT_HOST + "}",
            description = "Listen address (env AGENTWIRE_HOST).")
        String host;

        @Option(names = "--port", defaultValue = "${env:AGENTWIRE_PORT:-8080}",
            description = "Listen port, 0 for any free one (env AGENTWIRE_PORT).")
        int port;

        @Option(names = "--jwt-secret", defaultValue = "${env:AGENTWIRE_JWT_SECRET:-}",
            description = "HS256 secret for user tokens, >= 32 bytes (env AGENTWIRE_JWT_SECRET).",
            showDefaultValue = CommandLine.Help.Visibility.NEVER)
        String jwtSecret;

        @Option(names = "--jwks-file", defaultValue = "${env:AGENTWIRE_JWKS_FILE:-}",
            description = "JWKS file with RS256/ES256 public keys (env AGENTWIRE_JWKS_FILE).")
        String jwksFile;

        @Option(names = "--jwt-issuer", defaultValue = "${env:AGENTWIRE_JWT_ISSUER:-}",
            description = "Required iss claim (env AGENTWIRE_JWT_ISSUER).")
        String jwtIssuer;

        @Option(names = "--jwt-audience", defaultValue = "${env:AGENTWIRE_JWT_AUDIENCE:-}",
            description = "Required aud claim (env AGENTWIRE_JWT_AUDIENCE).")
        String jwtAudience;

        @Option(names = "--producer-key", defaultValue = "${env:AGENTWIRE_PRODUCER_KEY:-}",
            description = "Key agent runtimes present as Bearer, >= 16 chars (env AGENTWIRE_PRODUCER_KEY).",
            showDefaultValue = CommandLine.Help.Visibility.NEVER)
        String producerKey;

        @Option(names = "--allowed-origins", defaultValue = "${env:AGENTWIRE_ALLOWED_ORIGINS:-}", split = ",",
            description = "Origins allowed to open user sockets, comma-separated; empty allows any " +
                "(env AGENTWIRE_ALLOWED_ORIGINS).")
        String[] allowedOrigins;

        @Option(names = "--max-message-bytes", defaultValue = "${env:AGENTWIRE_MAX_MESSAGE_BYTES:-65536}",
            description = "Largest client message and event data (env AGENTWIRE_MAX_MESSAGE_BYTES).")
        int maxMessageBytes;

        @Option(names = "--max-body-bytes", defaultValue = "${env:AGENTWIRE_MAX_BODY_BYTES:-1048576}",
            description = "Largest HTTP ingest body (env AGENTWIRE_MAX_BODY_BYTES).")
        int maxBodyBytes;

        @Option(names = "--max-connections-per-user",
            defaultValue = "${env:AGENTWIRE_MAX_CONNECTIONS_PER_USER:-16}",
            description = "Connections one user may hold (env AGENTWIRE_MAX_CONNECTIONS_PER_USER).")
        int maxConnectionsPerUser;

        @Option(names = "--max-connections-per-ip", defaultValue = "${env:AGENTWIRE_MAX_CONNECTIONS_PER_IP:-1024}",
            description = "Connections one address may hold (env AGENTWIRE_MAX_CONNECTIONS_PER_IP).")
        int maxConnectionsPerIp;

        @Option(names = "--inbound-rate", defaultValue = "${env:AGENTWIRE_INBOUND_RATE:-20}",
            description = "Messages per second a user connection may send (env AGENTWIRE_INBOUND_RATE).")
        int inboundRate;

        @Option(names = "--inbound-burst", defaultValue = "${env:AGENTWIRE_INBOUND_BURST:-40}",
            description = "Burst of user messages (env AGENTWIRE_INBOUND_BURST).")
        int inboundBurst;

        @Option(names = "--producer-rate", defaultValue = "${env:AGENTWIRE_PRODUCER_RATE:-50000}",
            description = "Events per second producers may publish (env AGENTWIRE_PRODUCER_RATE).")
        int producerRate;

        @Option(names = "--producer-burst", defaultValue = "${env:AGENTWIRE_PRODUCER_BURST:-100000}",
            description = "Burst of producer events (env AGENTWIRE_PRODUCER_BURST).")
        int producerBurst;

        @Option(names = "--heartbeat-interval-ms", defaultValue = "${env:AGENTWIRE_HEARTBEAT_INTERVAL_MS:-15000}",
            description = "Server ping period (env AGENTWIRE_HEARTBEAT_INTERVAL_MS).")
        long heartbeatIntervalMs;

        @Option(names = "--heartbeat-timeout-ms", defaultValue = "${env:AGENTWIRE_HEARTBEAT_TIMEOUT_MS:-45000}",
            description = "Silence before a connection is closed (env AGENTWIRE_HEARTBEAT_TIMEOUT_MS).")
        long heartbeatTimeoutMs;

        @Option(names = "--shutdown-grace-ms", defaultValue = "${env:AGENTWIRE_SHUTDOWN_GRACE_MS:-10000}",
            description = "Longest a graceful shutdown waits (env AGENTWIRE_SHUTDOWN_GRACE_MS).")
        long shutdownGraceMs;

        @Option(names = "--ring-size", defaultValue = "${env:AGENTWIRE_RING_SIZE:-65536}",
            description = "Spine ring slots, a power of two (env AGENTWIRE_RING_SIZE).")
        int ringSize;

        @Option(names = "--slices", defaultValue = "${env:AGENTWIRE_SLICES:-0}",
            description = "Slice threads, 0 for one per core (env AGENTWIRE_SLICES).")
        int slices;

        @Option(names = "--history-max-events", defaultValue = "${env:AGENTWIRE_HISTORY_MAX_EVENTS:-1024}",
            description = "Events kept per user for resume (env AGENTWIRE_HISTORY_MAX_EVENTS).")
        int historyMaxEvents;

        @Option(names = "--history-max-age-ms", defaultValue = "${env:AGENTWIRE_HISTORY_MAX_AGE_MS:-300000}",
            description = "Longest an event is kept for resume (env AGENTWIRE_HISTORY_MAX_AGE_MS).")
        long historyMaxAgeMs;

        @Option(names = "--history-max-total-bytes",
            defaultValue = "${env:AGENTWIRE_HISTORY_MAX_TOTAL_BYTES:-268435456}",
            description = "Bound on all histories together (env AGENTWIRE_HISTORY_MAX_TOTAL_BYTES).")
        long historyMaxTotalBytes;

        @Option(names = "--lifecycle", defaultValue = "${env:AGENTWIRE_LIFECYCLE:-STRICT}",
            description = "Run lifecycle validation: ${COMPLETION-CANDIDATES} (env AGENTWIRE_LIFECYCLE).")
        AgentWireConfig.LifecycleMode lifecycle;

        @Override
        public Integer call() throws InterruptedException
        {
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
            final AgentWireServer server = AgentWireServer.start(config);
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
                .producerRatePerSec(producerRate)
                .producerBurst(producerBurst)
                .heartbeatIntervalMs(heartbeatIntervalMs)
                .heartbeatTimeoutMs(heartbeatTimeoutMs)
                .shutdownGraceMs(shutdownGraceMs)
                .engine(engine.build());
            if (allowedOrigins != null)
            {
                for (final String origin : allowedOrigins)
                {
                    builder.allowOrigin(origin);
                }
            }
            return builder.build();
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

        @Option(names = "--jwt-secret", defaultValue = "${env:AGENTWIRE_JWT_SECRET:-}",
            description = "HS256 secret (env AGENTWIRE_JWT_SECRET).", showDefaultValue = CommandLine.Help.Visibility.NEVER)
        String jwtSecret;

        @Option(names = "--jwt-issuer", defaultValue = "${env:AGENTWIRE_JWT_ISSUER:-}", description = "iss claim.")
        String issuer;

        @Option(names = "--jwt-audience", defaultValue = "${env:AGENTWIRE_JWT_AUDIENCE:-}", description = "aud claim.")
        String audience;

        @Override
        public Integer call() throws Exception
        {
            if (jwtSecret == null || jwtSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32)
            {
                System.err.println("agentwire: invalid config: jwtSecret must be set (AGENTWIRE_JWT_SECRET or " +
                    "--jwt-secret) and at least 32 bytes");
                return 2;
            }
            final com.nimbusds.jwt.JWTClaimsSet.Builder claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
                .subject(user)
                .issueTime(new java.util.Date())
                .expirationTime(new java.util.Date(System.currentTimeMillis() + ttlSeconds * 1000));
            if (rooms != null)
            {
                claims.claim("rooms", java.util.List.of(rooms));
            }
            if (issuer != null && !issuer.isBlank())
            {
                claims.issuer(issuer);
            }
            if (audience != null && !audience.isBlank())
            {
                claims.audience(audience);
            }
            final com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
                new com.nimbusds.jose.JWSHeader(com.nimbusds.jose.JWSAlgorithm.HS256), claims.build());
            jwt.sign(new com.nimbusds.jose.crypto.MACSigner(
                jwtSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            System.out.println(jwt.serialize());
            return 0;
        }
    }
}
