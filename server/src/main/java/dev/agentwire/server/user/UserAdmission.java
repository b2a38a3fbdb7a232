package dev.agentwire.server.user;

import dev.agentwire.server.auth.AuthFailure;
import dev.agentwire.server.auth.Principal;
import dev.agentwire.server.auth.TokenVerifier;
import dev.agentwire.server.http.ClientAddress;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.ops.ServerMetrics;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The first checks of every user request — a socket's upgrade or an AG-UI run stream: the Origin (403
 * {@code origin_not_allowed} when it is not allowed), then the user's token (401 {@code unauthorized}). A refusal
 * is counted ({@code agentwire_auth_failures_total{reason}}) and logged at INFO with its reason and address, never
 * the token, at most one line a second. Thread-safe.
 */
public final class UserAdmission
{
    private static final Logger LOG = LoggerFactory.getLogger(UserAdmission.class);

    private final TokenVerifier verifier;
    private final ServerMetrics metrics;
    private final UserSocketSettings settings;
    private final AtomicLong lastRefusalLogMs = new AtomicLong();
    private final AtomicLong refusalsNotLogged = new AtomicLong();

    /**
     * @param verifier checks users' tokens.
     * @param metrics  counts refusals.
     * @param settings the allowed Origins and the trusted proxies (for the logged address).
     */
    public UserAdmission(final TokenVerifier verifier, final ServerMetrics metrics, final UserSocketSettings settings)
    {
        this.verifier = verifier;
        this.metrics = metrics;
        this.settings = settings;
    }

    /**
     * @param queryToken whether {@code ?access_token=} may carry the token (where a client cannot set headers).
     * @return the user, or null when the request was refused and answered.
     */
    public Principal admit(final HttpServerExchange exchange, final boolean queryToken)
    {
        final String origin = exchange.getRequestHeaders().getFirst(Headers.ORIGIN);
        if (origin != null && !settings.allowedOrigins().isEmpty() && !settings.allowedOrigins().contains(origin))
        {
            metrics.authFailed("origin");
            refused(exchange, "origin_not_allowed");
            Http.error(exchange, 403, "origin_not_allowed", "this Origin may not open user connections");
            return null;
        }
        String token = Http.bearer(exchange);
        if (token == null && queryToken)
        {
            token = Http.query(exchange, "access_token");
        }
        try
        {
            return verifier.verify(token, System.currentTimeMillis());
        }
        catch (final AuthFailure failure)
        {
            metrics.authFailed(failure.reason.label);
            refused(exchange, "token " + failure.reason.label);
            exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
            Http.error(exchange, 401, "unauthorized", "token " + failure.reason.label);
            return null;
        }
    }

    /**
     * Logs a refusal at INFO: the reason and the address, never the token. At most one line a second (and a count
     * of those not logged), so a client retrying a bad token cannot flood the log; the metric counts each.
     */
    private void refused(final HttpServerExchange exchange, final String reason)
    {
        final long nowMs = System.currentTimeMillis();
        final long last = lastRefusalLogMs.get();
        if (nowMs - last >= 1_000 && lastRefusalLogMs.compareAndSet(last, nowMs))
        {
            LOG.info("upgrade refused: reason={} path={} remote={} notLoggedSince={}", reason,
                exchange.getRequestPath(), ClientAddress.of(exchange, settings.trustedProxies()),
                refusalsNotLogged.getAndSet(0));
        }
        else
        {
            refusalsNotLogged.incrementAndGet();
        }
    }
}
