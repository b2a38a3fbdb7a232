package dev.agentwire.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.undertow.server.HttpHandler;
import io.undertow.util.Methods;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * What exists only in demo mode: generated development secrets, a token endpoint for the live page, and an
 * endpoint that drops a user's connections from the server side (to watch reconnect and resume).
 */
final class DemoMode
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final long TOKEN_TTL_MS = 60 * 60_000L;

    private DemoMode()
    {
    }

    static String randomSecret()
    {
        final byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String banner(final ServerConfig config, final int port, final String secret, final String producerKey)
    {
        final String base = "http://" + config.host() + ":" + port;
        return String.join("\n",
            "",
            "AgentWire demo is running (development secrets, regenerated at every start; never use in production).",
            "",
            "  Open the live page:    " + base + "/",
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
    static HttpHandler tokenHandler(final ServerConfig config)
    {
        return exchange ->
        {
            final String user = Http.query(exchange, "user");
            if (user == null || !USER.matcher(user).matches())
            {
                Http.error(exchange, 400, "bad_request", "user must match [A-Za-z0-9_.-]{1,64}");
                return;
            }
            final com.nimbusds.jwt.JWTClaimsSet claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
                .subject(user)
                .expirationTime(new java.util.Date(System.currentTimeMillis() + TOKEN_TTL_MS))
                .claim("rooms", java.util.List.of("lobby"))
                .issuer(config.jwtIssuer())
                .audience(config.jwtAudience())
                .build();
            final com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
                new com.nimbusds.jose.JWSHeader(com.nimbusds.jose.JWSAlgorithm.HS256), claims);
            jwt.sign(new com.nimbusds.jose.crypto.MACSigner(
                config.jwtSecret().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            final ObjectNode body = Http.object();
            body.put("user", user);
            body.put("token", jwt.serialize());
            body.put("expires_in", TOKEN_TTL_MS / 1000);
            Http.json(exchange, 200, body);
        };
    }

    /** {@code POST /demo/drop?user=alice}: closes that user's sockets from the server side (1012). */
    static HttpHandler dropHandler(final ConnectionRegistry registry)
    {
        return exchange ->
        {
            if (!Methods.POST.equals(exchange.getRequestMethod()))
            {
                Http.error(exchange, 405, "method_not_allowed", "use POST");
                return;
            }
            final String user = Http.query(exchange, "user");
            int dropped = 0;
            for (final UserConnection connection : registry.open())
            {
                if (connection.userId().equals(user))
                {
                    connection.closeWith(CloseCodes.SERVICE_RESTART);
                    dropped++;
                }
            }
            final ObjectNode body = Http.object();
            body.put("dropped", dropped);
            Http.json(exchange, 200, body);
        };
    }
}
