package dev.agentwire.server;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.InboundHandler;
import dev.agentwire.core.PresenceListener;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.RoutingHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import io.undertow.server.handlers.resource.ClassPathResourceManager;
import io.undertow.server.handlers.resource.ResourceHandler;
import io.undertow.util.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The gateway's one entry point: starts the engine and an Undertow server in front of it.
 * <pre>
 *   GET  /v1/ws                              users' WebSocket (JWT)
 *   GET  /v1/producer                        agent runtimes' WebSocket (producer key)
 *   POST /v1/events, /v1/events/binary       agent runtimes' HTTP ingest (producer key)
 *   PUT|DELETE /v1/rooms/{room}/members/{user}
 *   GET  /healthz, /readyz
 * </pre>
 * An embedding application may also publish through {@link #engine()} and take users' messages with
 * {@link #onInbound(String, InboundHandler)}. {@link #close()} is graceful: no new connections or requests,
 * everything accepted is delivered, then every socket is closed with 1001.
 */
public final class AgentWireServer implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(AgentWireServer.class);

    private final ServerConfig config;
    private final AgentWire engine;
    private final Gateway gateway;
    private final GracefulShutdownHandler shutdownHandler;
    private final Undertow undertow;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final DemoAgent demoAgent;
    private final RedisCluster cluster;
    private final ClusterLogTailer tailer;
    private final ClusterInbound inbound;

    private AgentWireServer(final ServerConfig config, final boolean demo)
    {
        this.config = config;
        final ClusterHistorySource history;
        if (config.isClustered())
        {
            // A cluster node: Redis numbers every event; this node's spine follows the shared log.
            cluster = new RedisCluster(config);
            history = new ClusterHistorySource(cluster, config.engine());
            engine = AgentWire.start(config.engine().withHistorySource(history));
            history.engine(engine);
        }
        else
        {
            cluster = null;
            history = null;
            engine = AgentWire.start(config.engine());
        }
        this.gateway = new Gateway(config, engine, cluster);
        engine.onInbound("user_message", gateway.producers);
        engine.onInbound("cancel", gateway.producers);
        engine.presenceListener(cluster == null ? gateway.producers : new PresenceListener()
        {
            @Override
            public void onFirstConnected(final String userId)
            {
                cluster.onFirstConnected(userId);
                gateway.producers.onFirstConnected(userId);
            }

            @Override
            public void onLastDisconnected(final String userId)
            {
                cluster.onLastDisconnected(userId);
                gateway.producers.onLastDisconnected(userId);
            }
        });
        if (cluster != null)
        {
            cluster.localProducers(gateway.producers::size);
            ClusterInbound startedInbound = null;
            try
            {
                startedInbound = new ClusterInbound(cluster, gateway.producers);
                tailer = new ClusterLogTailer(cluster, engine);
            }
            catch (final RuntimeException ex)
            {
                // Redis went away between the first connection and these: start nothing half-way.
                if (startedInbound != null)
                {
                    startedInbound.close();
                }
                engine.close();
                cluster.close();
                throw new IllegalStateException("cluster node failed to start: cause=" + ex.getMessage(), ex);
            }
            inbound = startedInbound;
            gateway.producers.cluster(inbound);
            history.tailer(tailer);
            tailer.start();
            LOG.info("cluster node: node={} keyPrefix={}", config.nodeId(), config.redisKeyPrefix());
        }
        else
        {
            tailer = null;
            inbound = null;
        }

        final ProducerHttpHandler producer = new ProducerHttpHandler(gateway);
        final MetricsExporter exporter = new MetricsExporter(gateway.metrics, engine, gateway.registry, gateway.producers,
            cluster, tailer);
        final ResourceHandler web = new ResourceHandler(
            new ClassPathResourceManager(AgentWireServer.class.getClassLoader(), "web"),
            exchange -> Http.error(exchange, 404, "not_found", "no such endpoint"));
        final RoutingHandler routes = Handlers.routing()
            .get("/v1/ws", new UserSocketHandler(gateway))
            .get("/v1/producer", gateway.producers.handler())
            .post("/v1/events", producer.events())
            .post("/v1/events/binary", producer.binaryEvents())
            .put("/v1/rooms/{room}/members/{user}", producer.roomMembers())
            .delete("/v1/rooms/{room}/members/{user}", producer.roomMembers())
            .get("/healthz", plain(200, "ok"))
            .get("/metrics", exporter.handler())
            .get("/readyz", exchange ->
            {
                final boolean ready = engine.isRunning() && !closed.get();
                exchange.setStatusCode(ready ? 200 : 503);
                exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
                exchange.getResponseSender().send(ready ? "ready" : "not ready");
            })
            .get("/clients/agentwire.js", web)
            .setFallbackHandler(exchange -> Http.error(exchange, 404, "not_found", "no such endpoint"))
            .setInvalidMethodHandler(exchange -> Http.error(exchange, 405, "method_not_allowed", "method not allowed"));
        if (demo)
        {
            demoAgent = new DemoAgent(gateway.publisher);
            onInbound("user_message", demoAgent::onUserMessage);
            onInbound("cancel", demoAgent::onCancel);
            routes.get("/", web)
                .get("/app.js", web)
                .get("/demo/token", DemoMode.tokenHandler(config))
                .post("/demo/drop", DemoMode.dropHandler(gateway.registry));
        }
        else
        {
            demoAgent = null;
        }
        shutdownHandler = Handlers.gracefulShutdown(routes);

        undertow = Undertow.builder()
            .addHttpListener(config.port(), config.host())
            .setIoThreads(config.ioThreads())
            .setWorkerThreads(Math.max(2, config.ioThreads()))
            .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, (long)config.maxBodyBytes())
            .setServerOption(UndertowOptions.MAX_HEADER_SIZE, 16 * 1024)
            .setHandler(shutdownHandler)
            .build();
        try
        {
            undertow.start();
        }
        catch (final RuntimeException ex)
        {
            if (tailer != null)
            {
                tailer.close();
                inbound.close();
            }
            engine.close();
            if (cluster != null)
            {
                cluster.close();
            }
            throw new IllegalStateException("server failed to start: host=" + config.host() + ", port=" +
                config.port() + ": " + ex.getMessage(), ex);
        }
        port = ((InetSocketAddress)undertow.getListenerInfo().get(0).getAddress()).getPort();
        LOG.info("agentwire listening: host={} port={}", config.host(), port);
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
        gateway.producers.overridden(type);
        engine.onInbound(type, handler);
    }

    /** @return user connections open now. */
    public int connectionCount()
    {
        return gateway.registry.size();
    }

    /** @return producer sockets open now. */
    int producerCount()
    {
        return gateway.producers.size();
    }

    /** @return users and addresses the registry still counts (0 once every connection is gone). */
    int registryKeys()
    {
        return gateway.registry.trackedKeys();
    }

    GatewayMetrics metrics()
    {
        return gateway.metrics;
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
        LOG.info("agentwire shutting down: connections={}", gateway.registry.size());
        shutdownHandler.shutdown();
        if (tailer != null)
        {
            // Stop following the log first: what this node accepted is in Redis, and other nodes deliver it.
            tailer.close();
            inbound.close();
        }
        engine.close();
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.shutdownGraceMs());
        while (gateway.registry.size() > 0 && System.nanoTime() < deadlineNs)
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
        for (final UserConnection connection : gateway.registry.open())
        {
            connection.closeWith(CloseCodes.GOING_AWAY);
        }
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
        undertow.stop();
        if (cluster != null)
        {
            cluster.close();
        }
        LOG.info("agentwire stopped");
    }

    private static HttpHandler plain(final int status, final String body)
    {
        return exchange ->
        {
            exchange.setStatusCode(status);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
            exchange.getResponseSender().send(body);
        };
    }
}
