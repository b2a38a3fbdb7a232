package dev.agentwire.server;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.InboundHandler;
import dev.agentwire.core.PresenceListener;
import dev.agentwire.server.agui.AgUiOutboundStage;
import dev.agentwire.server.auth.ProducerKey;
import dev.agentwire.server.auth.TokenVerifier;
import dev.agentwire.server.cluster.ClusterNode;
import dev.agentwire.server.demo.DemoAgent;
import dev.agentwire.server.demo.DemoMode;
import dev.agentwire.server.http.BodyReader;
import dev.agentwire.server.http.HttpListener;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.ingest.IngestEndpoints;
import dev.agentwire.server.ingest.IngestSettings;
import dev.agentwire.server.ops.Health;
import dev.agentwire.server.ops.MetricsExporter;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.runtime.LostMessageNotices;
import dev.agentwire.server.runtime.RemoteRuntimes;
import dev.agentwire.server.runtime.RuntimeChannels;
import dev.agentwire.server.sequencing.LocalSequencer;
import dev.agentwire.server.sequencing.Sequencer;
import dev.agentwire.server.websocket.CloseCodes;
import dev.agentwire.server.user.ConnectionRegistry;
import dev.agentwire.server.sse.AgUiRunHandler;
import dev.agentwire.server.user.UserSocketHandler;
import dev.agentwire.server.user.UserSocketSettings;
import dev.agentwire.server.user.WireFrameEncoder;
import dev.agentwire.server.websocket.WebSocketThreads;
import dev.agentwire.core.AgentWireConfig;
import io.undertow.Handlers;
import io.undertow.server.RoutingHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import io.undertow.server.handlers.resource.ClassPathResourceManager;
import io.undertow.server.handlers.resource.ResourceHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The gateway's one entry point: starts the engine and an Undertow server in front of it. Wiring only: each part
 * is built here with what it needs, and the one decision made here is whether this server is a single node or a
 * node of a cluster.
 * <pre>
 *   GET  /v1/ws                              users' WebSocket (JWT)
 *   GET  /v1/ag-ui                           the same, speaking AG-UI events
 *   POST /v1/ag-ui/events                    native AG-UI events in (producer key)
 *   POST /v1/ag-ui/run                       AG-UI's HTTP agent endpoint: a RunAgentInput in, the run's events out
 *                                            as Server-Sent Events (user token)
 *   GET  /v1/ag-ui/runs/{runId}              the same stream again, after Last-Event-ID
 *   POST /v1/ag-ui/runs/{runId}/cancel       an explicit cancel of the run, to its runtime
 *   GET  /v1/producer                        agent runtimes' WebSocket (producer key)
 *   POST /v1/events, /v1/events/binary       agent runtimes' HTTP ingest (producer key)
 *   PUT|DELETE /v1/rooms/{room}/members/{user}
 *   GET  /healthz, /readyz, /metrics
 * </pre>
 * An embedding application may also publish through {@link #engine()} and take users' messages with
 * {@link #onInbound(String, InboundHandler)}. {@link #close()} is graceful: no new connections or requests,
 * everything accepted is delivered, then every socket is closed with 1001.
 */
public final class AgentWireServer implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(AgentWireServer.class);

    private final ServerConfig config;
    private final ServerMetrics metrics = new ServerMetrics();
    private final ConnectionRegistry registry;
    private final ClusterNode node;
    private final AgentWire engine;
    private final InboundRouter router;
    private final GracefulShutdownHandler shutdownHandler;
    /** Bound on a request's headers. */
    private static final int MAX_HEADER_BYTES = 16 * 1024;
    /** Descriptors kept free below the process's limit: for Redis, files, and the over-capacity answers. */
    private static final int RESERVED_DESCRIPTORS = 128;

    private final HttpListener listener;
    private final int effectiveMaxConnections;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final DemoAgent demoAgent;
    private final WebSocketThreads webSocketThreads;

    private AgentWireServer(final ServerConfig config, final boolean demo)
    {
        this.config = config;
        registry = new ConnectionRegistry(config.maxConnectionsPerUser(), config.maxConnectionsPerIp());
        // The slices make each event's /v1/ws frame once, as they number it; sockets copy it as it is.
        final AgentWireConfig engineConfig = config.engine().toBuilder().frameEncoder(new WireFrameEncoder()).build();
        webSocketThreads = new WebSocketThreads(Math.max(256 * 1024, engineConfig.maxRecordBytes()));
        final RuntimeChannels runtimes = new RuntimeChannels();
        final Sequencer sequencer;
        final RemoteRuntimes remoteRuntimes;
        final PresenceListener nodePresence;
        if (config.isClustered())
        {
            // A cluster node: Redis numbers every event; this node's spine follows its own users' streams.
            node = ClusterNode.start(config.cluster(), engineConfig, runtimes, metrics);
            engine = node.engine();
            sequencer = node.sequencer();
            remoteRuntimes = node.remoteRuntimes();
            nodePresence = node.presence();
        }
        else
        {
            node = null;
            engine = AgentWire.start(engineConfig);
            sequencer = new LocalSequencer(engine, metrics);
            remoteRuntimes = RemoteRuntimes.NONE;
            nodePresence = null;
        }
        router = new InboundRouter(runtimes, remoteRuntimes, registry::onlineUsers);
        router.notices(new LostMessageNotices(sequencer));
        engine.presenceListener(nodePresence == null ? router : both(nodePresence, router));

        final MetricsExporter exporter = new MetricsExporter(metrics, engine, registry::size, router::size);
        exporter.gauge("agentwire_user_socket_pending_bytes", "Bytes handed to user sockets that the clients have " +
            "not read yet, all connections together (each bounded by about one send window).",
            registry::pendingBytes);
        if (node != null)
        {
            node.registerMetrics(exporter);
        }
        // Before the routes: native AG-UI ingest, made there, publishes the demo agent's approval runs.
        demoAgent = demo ? new DemoAgent(sequencer) : null;
        final RoutingHandler routes = routes(sequencer, exporter);
        if (demo)
        {
            onInbound("user_message", demoAgent::onUserMessage);
            onInbound("cancel", demoAgent::onCancel);
            final ResourceHandler web = staticFiles();
            routes.get("/", web)
                .get("/app.js", web)
                .get("/favicon.svg", web)
                // Browsers and tools ask for /favicon.ico whatever the page links: the same icon, not a 404.
                .get("/favicon.ico", io.undertow.Handlers.redirect("/favicon.svg"))
                .get("/demo/token", DemoMode.tokenHandler(config.jwtSecret(), config.jwtIssuer(), config.jwtAudience()))
                .post("/demo/drop", DemoMode.dropHandler(registry));
        }
        shutdownHandler = Handlers.gracefulShutdown(routes);
        effectiveMaxConnections = effectiveMaxConnections(config.maxConnections());

        try
        {
            listener = HttpListener.start(new HttpListener.Settings(config.host(), config.port(), config.ioThreads(),
                config.requestParseTimeoutMs(), config.idleTimeoutMs(),
                BodyReader.undertowEntityBound(config.maxBodyBytes()), MAX_HEADER_BYTES, effectiveMaxConnections,
                config.maxPendingConnectionsPerIp(), config.trustedProxies()), shutdownHandler,
                gate -> Health.atCapacity(gate, exchange ->
                {
                    exchange.getResponseHeaders().put(Http.RETRY_AFTER, Integer.toString(config.retryAfterSeconds()));
                    Http.error(exchange, 503, "at_capacity", "the server holds its most connections; retry later");
                }));
        }
        catch (final java.io.IOException | RuntimeException ex)
        {
            if (node != null)
            {
                node.stopFollowing();
            }
            engine.close();
            if (node != null)
            {
                node.close();
            }
            throw new IllegalStateException("server failed to start: host=" + config.host() + ", port=" +
                config.port() + ": " + ex.getMessage(), ex);
        }
        exporter.gauge("agentwire_http_connections", "TCP connections held, all kinds (bounded by maxConnections).",
            () -> listener.gate().open());
        exporter.counter("agentwire_http_connections_refused", "Connections refused or answered 503 at the " +
            "connection bound.", () -> listener.gate().refusedAtTotal());
        exporter.counter("agentwire_http_pending_refused", "Connections closed because their address held its " +
            "bound of connections that had not completed a request.", () -> listener.gate().refusedPerAddress());
        port = listener.port();
        LOG.info("agentwire listening: host={} port={} maxConnections={}", config.host(), port,
            effectiveMaxConnections);
    }

    /**
     * The connection bound actually kept: the configured one, or less when the process's descriptor limit would be
     * reached first, so that the server refuses connections itself (and still answers its health probes) rather
     * than fail to accept at descriptor exhaustion.
     */
    private static int effectiveMaxConnections(final int configured)
    {
        final java.lang.management.OperatingSystemMXBean os =
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean)
        {
            final long descriptors = ((com.sun.management.UnixOperatingSystemMXBean)os).getMaxFileDescriptorCount();
            final long room = descriptors - RESERVED_DESCRIPTORS - dev.agentwire.server.http.ConnectionGate
                .OVER_CAPACITY_RESERVE;
            if (room < configured)
            {
                LOG.warn("maxConnections lowered to the descriptor limit: configured={} descriptors={} kept={}",
                    configured, descriptors, Math.max(16, room));
                return (int)Math.max(16, room);
            }
        }
        return configured;
    }

    /** The route table. */
    private RoutingHandler routes(final Sequencer sequencer, final MetricsExporter exporter)
    {
        final IngestEndpoints ingest = new IngestEndpoints(sequencer, router,
            new ProducerKey(config.producerKey(), metrics), metrics, new IngestSettings(config.maxMessageBytes(),
            config.maxBodyBytes(), config.producerRatePerSec(), config.producerBurst(), config.retryAfterSeconds(),
            config.heartbeatIntervalMs(), config.heartbeatTimeoutMs()),
            webSocketThreads, engine.config());
        if (demoAgent != null)
        {
            demoAgent.agUiPublisher(ingest::publishAgUi); // its approval runs are native AG-UI runs
        }
        exporter.gauge("agentwire_ag_ui_runs", "Native AG-UI runs whose rule state is kept (bounded by maxRuns; " +
            "finished ones for the run retention).", ingest::agUiRuns);
        exporter.counter("agentwire_ag_ui_runs_forgotten", "Native AG-UI runs forgotten at the maxRuns bound or " +
            "past the run retention.", ingest::agUiRunsForgotten);
        // Loaded now rather than while the first user's socket opens (about 400 ms of it on a cold server).
        TokenVerifier.warmUp();
        final TokenVerifier verifier =
            new TokenVerifier(config.jwtSecret(), config.jwksFile(), config.jwtIssuer(), config.jwtAudience());
        final UserSocketSettings userSockets = new UserSocketSettings(config.allowedOrigins(),
            config.maxMessageBytes(), config.inboundRatePerSec(), config.inboundBurst(), config.maxBadMessages(),
            config.heartbeatIntervalMs(), config.heartbeatTimeoutMs(), config.sendWindowBytes(),
            config.trustedProxies());
        final UserSocketHandler users = new UserSocketHandler(engine, registry, verifier, sequencer, router, metrics,
            userSockets, webSocketThreads, AgUiOutboundStage::create);
        final AgUiRunHandler runs = new AgUiRunHandler(engine, users.admission(), router, registry, metrics,
            userSockets, config.maxBodyBytes(), config.agUiRunStartTimeoutMs());
        return Handlers.routing()
            .get("/v1/ws", users)
            .post("/v1/ag-ui/run", runs) // AG-UI's HTTP agent endpoint: the run's events as Server-Sent Events
            .get("/v1/ag-ui/runs/{runId}", runs) // the same stream again, after Last-Event-ID
            .post("/v1/ag-ui/runs/{runId}/cancel", runs) // an explicit cancel, to the runtime
            .get(UserSocketHandler.AG_UI_PATH, users) // the same socket, limits and stream, as AG-UI events
            .get("/v1/producer", ingest.producerSocket())
            .post("/v1/events", ingest.events())
            .post("/v1/events/binary", ingest.binaryEvents())
            .post("/v1/ag-ui/events", ingest.agUiEvents())
            .put("/v1/rooms/{room}/members/{user}", ingest.roomMembers())
            .delete("/v1/rooms/{room}/members/{user}", ingest.roomMembers())
            .get("/healthz", Health.liveness())
            .get("/metrics", exporter.handler(config.metricsKey()))
            .get("/readyz", Health.readiness(() -> engine.isRunning() && !closed.get()))
            .get("/clients/agentwire.js", staticFiles())
            .get("/clients/agentwire-agent.js", staticFiles())
            .setFallbackHandler(exchange -> Http.error(exchange, 404, "not_found", "no such endpoint"))
            .setInvalidMethodHandler(exchange -> Http.error(exchange, 405, "method_not_allowed", "method not allowed"));
    }

    private static ResourceHandler staticFiles()
    {
        return new ResourceHandler(new ClassPathResourceManager(AgentWireServer.class.getClassLoader(), "META-INF/web"),
            exchange -> Http.error(exchange, 404, "not_found", "no such endpoint"));
    }

    /**
     * Starts a server.
     *
     * @param config validated configuration.
     * @return the running server; {@link #close()} it.
     */
    public static AgentWireServer start(final ServerConfig config)
    {
        return start(config, false);
    }

    /**
     * Starts a server, optionally in demo mode (the demo agent, the live page at {@code /}, {@code /demo/token}
     * and {@code /demo/drop}). Demo mode is for development: never expose it.
     *
     * @param config validated configuration.
     * @param demo   true for demo mode.
     * @return the running server; {@link #close()} it.
     */
    public static AgentWireServer start(final ServerConfig config, final boolean demo)
    {
        if (config == null)
        {
            throw new IllegalArgumentException("config=null");
        }
        return new AgentWireServer(config, demo);
    }

    /** @return the port listened on (useful with port 0). */
    public int port()
    {
        return port;
    }

    /** @return the configuration. */
    public ServerConfig config()
    {
        return config;
    }

    /** @return the engine, to publish in-process. */
    public AgentWire engine()
    {
        return engine;
    }

    /**
     * Takes users' messages of one type in-process instead of forwarding them to producer sockets.
     *
     * @param type    for example {@code user_message} or {@code cancel}.
     * @param handler called on the connection's I/O thread; hand long work off.
     */
    public void onInbound(final String type, final InboundHandler handler)
    {
        router.onInbound(type, handler);
    }

    /** @return user connections open now. */
    public int connectionCount()
    {
        return registry.size();
    }

    /** @return bytes written to user sockets and not yet taken by the clients, all connections together. */
    long userSocketPendingBytes()
    {
        return registry.pendingBytes();
    }

    /** @return producer sockets open now. */
    int producerCount()
    {
        return router.size();
    }

    /** @return users and addresses the registry still counts (0 once every connection is gone). */
    int registryKeys()
    {
        return registry.trackedKeys();
    }

    /** @return TCP connections held now, all kinds (tests). */
    int connectionsHeld()
    {
        return listener.gate().open();
    }

    ServerMetrics metrics()
    {
        return metrics;
    }

    /**
     * Graceful shutdown, bounded by {@code shutdownGraceMs}: refuse new connections and requests, deliver every
     * accepted event, close each user socket with 1001 after its last event, then stop. Idempotent.
     */
    @Override
    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        LOG.info("agentwire shutting down: connections={}", registry.size());
        shutdownHandler.shutdown();
        if (node != null)
        {
            // Stop following the log first: what this node accepted is in Redis, and other nodes deliver it.
            node.stopFollowing();
        }
        engine.close();
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.shutdownGraceMs());
        while (registry.size() > 0 && System.nanoTime() < deadlineNs)
        {
            try
            {
                Thread.sleep(10);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                break;
            }
        }
        registry.closeAll(CloseCodes.GOING_AWAY);
        try
        {
            shutdownHandler.awaitShutdown(Math.max(1, deadlineNs - System.nanoTime()) / 1_000_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (demoAgent != null)
        {
            demoAgent.close();
        }
        listener.close();
        if (node != null)
        {
            node.close();
        }
        LOG.info("agentwire stopped");
    }

    /** Presence told to the cluster (who is connected here) and to the runtimes, in that order. */
    private static PresenceListener both(final PresenceListener first, final PresenceListener second)
    {
        return new PresenceListener()
        {
            @Override
            public void onFirstConnected(final String userId)
            {
                first.onFirstConnected(userId);
                second.onFirstConnected(userId);
            }

            @Override
            public void onLastDisconnected(final String userId)
            {
                first.onLastDisconnected(userId);
                second.onLastDisconnected(userId);
            }
        };
    }
}
