package dev.agentwire.server.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.server.auth.TokenMinter;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.websocket.CloseCodes;
import dev.agentwire.server.user.ConnectionRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.util.Methods;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What exists only in demo mode: generated development secrets, a token endpoint for the live page, and an
 * endpoint that drops a user's connections from the server side (to watch reconnect and resume).
 */
public final class DemoMode
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final long TOKEN_TTL_MS = 60 * 60_000L;

    private DemoMode()
    {
    }

    /** @return 32 random bytes, URL-safe base64: a development secret or producer key. */
    public static String randomSecret()
    {
        final byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** @return what {@code agentwire demo} prints at start: the page, a token, a publish line, the secrets. */
    public static String banner(final String host, final int port, final String secret, final String producerKey)
    {
        final String base = "http://" + host + ":" + port;
        return String.join("\n",
            "",
            "AgentWire demo is running (development secrets, regenerated at every start; never use in production).",
            "",
            "  Open the live page:    " + base + "/   (as alice, to see the publish line below: " + base +
                "/?user=alice)",
            "  A user token:          curl -s '" + base + "/demo/token?user=alice'",
            "  Publish to alice:      curl -s -X POST " + base + "/v1/events -H 'Authorization: Bearer " +
                producerKey + "' \\",
            "                           -d '{\"user\":\"alice\",\"type\":\"app.note\",\"data\":{\"text\":\"hello\"}}'",
            "  Metrics:               curl -s " + base + "/metrics",
            "",
            "  AGENTWIRE_JWT_SECRET=" + secret,
            "  AGENTWIRE_PRODUCER_KEY=" + producerKey,
            "");
    }

    /** {@code GET /demo/token?user=alice}: a one-hour HS256 token (rooms: lobby) for the live page. */
    public static HttpHandler tokenHandler(final String secret, final String issuer, final String audience)
    {
        return exchange ->
        {
            final String user = Http.query(exchange, "user");
            if (user == null || !USER.matcher(user).matches())
            {
                Http.error(exchange, 400, "bad_request", "user must match [A-Za-z0-9_.-]{1,64}");
                return;
            }
            final ObjectNode body = Http.object();
            body.put("user", user);
            body.put("token", TokenMinter.hs256(secret, user, List.of("lobby"), TOKEN_TTL_MS, issuer, audience));
            body.put("expires_in", TOKEN_TTL_MS / 1000);
            Http.json(exchange, 200, body);
        };
    }

    /** {@code POST /demo/drop?user=alice}: closes that user's sockets from the server side (1012). */
    public static HttpHandler dropHandler(final ConnectionRegistry registry)
    {
        return exchange ->
        {
            if (!Methods.POST.equals(exchange.getRequestMethod()))
            {
                Http.error(exchange, 405, "method_not_allowed", "use POST");
                return;
            }
            final String user = Http.query(exchange, "user");
            final int dropped = user == null ? 0 : registry.closeUser(user, CloseCodes.SERVICE_RESTART);
            final ObjectNode body = Http.object();
            body.put("dropped", dropped);
            Http.json(exchange, 200, body);
        };
    }
}
