package dev.agentwire.server.auth;

import dev.agentwire.server.http.Http;
import dev.agentwire.server.ops.ServerMetrics;
import io.undertow.server.HttpHandler;

/**
 * The one check of the key agent runtimes present ({@code Authorization: Bearer <key>}), for every producer
 * endpoint, HTTP and WebSocket: compared in constant time, a refusal answered 401 and counted as
 * {@code producer_key}.
 */
public final class ProducerKey
{
    private final String key;
    private final ServerMetrics metrics;

    /**
     * @param key     the configured producer key.
     * @param metrics counts refusals.
     */
    public ProducerKey(final String key, final ServerMetrics metrics)
    {
        this.key = key;
        this.metrics = metrics;
    }

    /** @return a handler that lets a request with the key through to {@code next}, and answers 401 otherwise. */
    public HttpHandler guard(final HttpHandler next)
    {
        return exchange ->
        {
            if (!Http.keyMatches(Http.bearer(exchange), key))
            {
                metrics.authFailed("producer_key");
                Http.error(exchange, 401, "unauthorized", "a valid producer key is required (Authorization: Bearer)");
                return;
            }
            next.handleRequest(exchange);
        };
    }
}
