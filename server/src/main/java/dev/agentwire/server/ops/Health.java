package dev.agentwire.server.ops;

import dev.agentwire.server.http.ConnectionGate;
import io.undertow.server.HttpHandler;
import io.undertow.util.Headers;

import java.util.function.BooleanSupplier;

/**
 * {@code GET /healthz} (liveness: the process answers) and {@code GET /readyz} (readiness: events are accepted;
 * 503 while shutting down, so load balancers take the node out first).
 */
public final class Health
{
    private Health()
    {
    }

    /** @return 200 {@code ok} while the process runs. */
    public static HttpHandler liveness()
    {
        return exchange -> plain(exchange, 200, "ok");
    }

    /** @param ready true while the engine accepts events. @return 200 {@code ready}, else 503 {@code not ready}. */
    public static HttpHandler readiness(final BooleanSupplier ready)
    {
        return exchange ->
        {
            final boolean isReady = ready.getAsBoolean();
            plain(exchange, isReady ? 200 : 503, isReady ? "ready" : "not ready");
        };
    }

    /**
     * What a connection let in past the connection bound is answered: the truth for health probes ({@code /healthz}
     * 200, the process is alive; {@code /readyz} 503, take the node out), 503 {@code at_capacity} with
     * {@code Retry-After} for anything else, then the connection is closed.
     *
     * @param gate     the connections held and their bound.
     * @param fallback answers everything but the probes.
     */
    public static HttpHandler atCapacity(final ConnectionGate gate, final HttpHandler fallback)
    {
        return exchange ->
        {
            final String path = exchange.getRequestPath();
            if ("/healthz".equals(path))
            {
                plain(exchange, 200, "ok: at connection capacity (" + gate.open() + " of " + gate.maxConnections() + ")");
            }
            else if ("/readyz".equals(path))
            {
                plain(exchange, 503,
                    "not ready: at connection capacity (" + gate.open() + " of " + gate.maxConnections() + ")");
            }
            else
            {
                fallback.handleRequest(exchange);
            }
        };
    }

    private static void plain(final io.undertow.server.HttpServerExchange exchange, final int status, final String body)
    {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
        exchange.getResponseSender().send(body);
    }
}
