package dev.agentwire.server.user;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.Subscription;
import dev.agentwire.server.auth.Principal;
import dev.agentwire.server.auth.TokenVerifier;
import dev.agentwire.server.http.ClientAddress;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.sequencing.Sequencer;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import dev.agentwire.server.websocket.WebSocketHandshake;
import dev.agentwire.server.websocket.WebSocketThreads;
import dev.agentwire.server.websocket.CloseCodes;
import org.xnio.StreamConnection;



/**
 * {@code GET /v1/ws} and {@code GET /v1/ag-ui} (the same socket, speaking AG-UI events: docs/AG-UI.md): everything
 * is decided before the upgrade — token (401), Origin (403), connection caps (429), resume cursor (400) — so a refused
 * client never gets a socket. Then the upgrade, and a {@link UserConnection}.
 */
public final class UserSocketHandler implements HttpHandler
{
    /** The path whose sockets speak AG-UI; every other path this handler is routed from speaks /v1/ws frames. */
    public static final String AG_UI_PATH = "/v1/ag-ui";

    /** What the checks decided, carried across the upgrade. */
    private static final class Accepted
    {
        final Principal principal;
        final String remoteIp;
        final long epoch;
        final long after;
        final boolean agUi;
        final boolean prelude;

        Accepted(final Principal principal, final String remoteIp, final long epoch, final long after,
            final boolean agUi, final boolean prelude)
        {
            this.agUi = agUi;
            this.prelude = prelude;
            this.principal = principal;
            this.remoteIp = remoteIp;
            this.epoch = epoch;
            this.after = after;
        }
    }

    private final AgentWire engine;
    private final ConnectionRegistry registry;
    private final ServerMetrics metrics;
    private final UserSocketSettings settings;
    private final ClientProtocol protocol;
    private final IoThreads ioThreads;
    private final WebSocketThreads webSocketThreads;
    /** Makes the stage of a {@code /v1/ag-ui} socket: given whether it opened without a cursor (a prelude). */
    private final java.util.function.IntFunction<OutboundStage> agUiStages;
    private final UserAdmission admission;

    /**
     * @param engine    the engine users subscribe to.
     * @param registry  the one registry of open user sockets and their caps.
     * @param verifier  checks users' tokens.
     * @param sequencer takes users' room changes.
     * @param router    takes users' messages to agent runtimes.
     * @param metrics   the server's counters.
     * @param settings  limits and timings of user sockets.
     * @param threads   the I/O threads' WebSocket buffers.
     * @param agUiStages makes the stage of each {@code /v1/ag-ui} socket: given 1 when it opened without a cursor
     *                   (its history becomes a prelude), else 0.
     */
    public UserSocketHandler(
        final AgentWire engine,
        final ConnectionRegistry registry,
        final TokenVerifier verifier,
        final Sequencer sequencer,
        final InboundRouter router,
        final ServerMetrics metrics,
        final UserSocketSettings settings,
        final WebSocketThreads threads,
        final java.util.function.IntFunction<OutboundStage> agUiStages)
    {
        this.engine = engine;
        this.registry = registry;
        this.admission = new UserAdmission(verifier, metrics, settings);
        this.metrics = metrics;
        this.settings = settings;
        this.protocol = new ClientProtocol(sequencer, router);
        this.ioThreads = new IoThreads(
            t -> new UserSocketThread(engine, registry, metrics, settings, protocol, new DrainScheduler(t),
                new HeartbeatSweeper(t, settings.heartbeatIntervalMs()), threads.writeBytes()));
        this.webSocketThreads = threads;
        this.agUiStages = agUiStages;
    }

    /** @return the checks every user request starts with, shared with the other user-facing endpoints. */
    public UserAdmission admission()
    {
        return admission;
    }

    @Override
    public void handleRequest(final HttpServerExchange exchange) throws Exception
    {
        final Principal principal = admission.admit(exchange, true);
        if (principal == null)
        {
            return;
        }

        final String remoteIp = ClientAddress.of(exchange, settings.trustedProxies());
        if (registry.wouldExceed(principal.userId, remoteIp))
        {
            metrics.rateLimited("connections");
            Http.error(exchange, 429, "too_many_connections", "connection cap reached for this user or address");
            return;
        }

        final String epoch = Http.query(exchange, "epoch");
        final String after = Http.query(exchange, "after");
        long resumeEpoch = 0;
        long resumeAfter = Subscription.LIVE;
        if (after != null || epoch != null)
        {
            try
            {
                resumeEpoch = epoch == null ? 0 : Long.parseLong(epoch);
                resumeAfter = after == null ? 0 : Long.parseLong(after);
            }
            catch (final NumberFormatException ex)
            {
                Http.error(exchange, 400, "bad_request", "epoch and after must be integers");
                return;
            }
            if (resumeAfter < 0)
            {
                Http.error(exchange, 400, "bad_request", "after must be >= 0");
                return;
            }
        }
        if (!engine.isRunning())
        {
            Http.error(exchange, 503, "shutting_down", "the server is shutting down");
            return;
        }
        final boolean agUi = AG_UI_PATH.equals(exchange.getRequestPath());
        final boolean prelude = agUi && resumeAfter == Subscription.LIVE;
        final int rate = registry.tryConnect(principal.userId, prelude, System.nanoTime());
        if (rate != ConnectionRegistry.CONNECT_ALLOWED)
        {
            final boolean preludes = rate == ConnectionRegistry.PRELUDE_RATE_LIMITED;
            metrics.rateLimited(preludes ? "prelude" : "connect");
            exchange.getResponseHeaders().put(Headers.RETRY_AFTER, "1");
            Http.error(exchange, 429, "rate_limited", preludes ? "cursor-less /v1/ag-ui connects over " +
                ConnectionRegistry.PRELUDES_PER_SEC + "/s for this user; reconnect with ?epoch=&after= (no prelude)" :
                "connects over " + ConnectionRegistry.CONNECTS_PER_SEC + "/s for this user");
            return;
        }
        if (prelude)
        {
            // An AG-UI client without a cursor may be joining runs midway: read the user's history from its start
            // so the translator can open every run still running before live events (docs/AG-UI.md, "Prelude").
            resumeAfter = 0;
        }
        final Accepted accepted = new Accepted(principal, remoteIp, resumeEpoch, resumeAfter, agUi, prelude);
        WebSocketHandshake.upgrade(exchange, agUi ? "GET /v1/ag-ui" : "GET /v1/ws",
            (channel, upgraded) -> onUpgraded(channel, accepted));
    }

    /** The socket is a WebSocket now (on its I/O thread): a connection, if a cap was not reached meanwhile. */
    private void onUpgraded(final StreamConnection channel, final Accepted accepted)
    {
        final UserConnection connection = new UserConnection(channel, webSocketThreads, accepted.principal,
            accepted.remoteIp, ioThreads.threadFor(channel.getIoThread()),
            accepted.agUi ? agUiStages.apply(accepted.prelude ? 1 : 0) : WireStage.INSTANCE);
        if (!registry.register(connection))
        {
            // Lost a race for the last slot between the check and the upgrade.
            metrics.rateLimited("connections");
            connection.refuse(CloseCodes.POLICY, "connection cap reached");
            return;
        }
        connection.start(accepted.epoch, accepted.after);
    }
}
