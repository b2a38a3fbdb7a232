package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Connection establishment and auth validation: refused before the upgrade, never a socket for a bad token.
 */
@Timeout(60)
class AuthTest
{
    @TempDir
    Path dir;
    private ServerFixture fixture;

    @BeforeEach
    void setUp()
    {
        fixture = new ServerFixture(dir, b -> b
            .allowOrigin("https://app.example.com")
            .maxConnectionsPerUser(2)
            .jwtIssuer("https://issuer.example.com")
            .jwtAudience("agentwire"));
    }

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    private String valid(final String user, final long ttlMs)
    {
        return Tokens.hs256With(Tokens.SECRET, new com.nimbusds.jwt.JWTClaimsSet.Builder(Tokens.claims(user, ttlMs))
            .issuer("https://issuer.example.com").audience("agentwire").build());
    }

    private int status(final String token) throws Exception
    {
        return WsClient.refusedStatus(fixture.ws(null), token, null);
    }

    @Test
    void shouldAcceptAValidHs256TokenInHeaderOrQuery() throws Exception
    {
        final WsClient header = fixture.connectWith(valid("ann", 60_000), null);
        assertEquals("welcome", header.next(5_000).get("type").asText());
        final WsClient query = WsClient.connect(fixture.ws("access_token=" + valid("ann", 60_000)), null);
        try
        {
            assertEquals("ann", query.next(5_000).get("user").asText());
        }
        finally
        {
            query.close();
        }
    }

    @Test
    void shouldRefuseMissingMalformedExpiredAndBadlySignedTokensWith401() throws Exception
    {
        assertEquals(401, status(null));
        assertEquals(401, status("not-a-jwt"));
        assertEquals(401, status(valid("ann", -1_000)));
        assertEquals(401, status(Tokens.hs256("another-secret-another-secret-0123456789", "ann")));
        assertEquals(401, status(Tokens.algNone("ann")));
        assertEquals(401, status(fixture.tokens.confusedHs256WithRsaPublicKey("ann")));
        // Claims: wrong issuer / audience, no sub, no exp.
        assertEquals(401, status(Tokens.hs256("ann", 60_000)));
        assertEquals(401, status(Tokens.hs256With(Tokens.SECRET, new com.nimbusds.jwt.JWTClaimsSet.Builder()
            .issuer("https://issuer.example.com").audience("agentwire")
            .expirationTime(new java.util.Date(System.currentTimeMillis() + 60_000)).build())));
        assertEquals(401, status(Tokens.hs256With(Tokens.SECRET, new com.nimbusds.jwt.JWTClaimsSet.Builder()
            .subject("ann").issuer("https://issuer.example.com").audience("agentwire").build())));
        // A signed token whose sub would forge a log line (or carries any control character) is refused.
        assertEquals(401, status(valid("ann\n2026-12-02 INFO connection open: user=admin", 60_000)));
        assertEquals(401, status(valid("ann\u0000", 60_000)));
        final var failures = fixture.server.metrics();
        assertEquals(11L, failures.authFailuresTotal());
        for (final String reason : new String[]{"missing", "malformed", "expired", "bad_signature", "bad_algorithm",
            "bad_claims"})
        {
            assertEquals(true, failures.authFailures(reason) > 0, "reason " + reason + " counted");
        }
    }

    @Test
    void shouldAcceptRs256AndEs256FromTheJwksFile() throws Exception
    {
        final ServerFixture plain = new ServerFixture(dir, b -> { });
        try
        {
            final WsClient rs = plain.connectWith(plain.tokens.rs256("rita"), null);
            assertEquals("rita", rs.next(5_000).get("user").asText());
            final WsClient es = plain.connectWith(plain.tokens.es256("eve"), null);
            assertEquals("eve", es.next(5_000).get("user").asText());
            assertEquals(401, WsClient.refusedStatus(plain.ws(null), plain.tokens.confusedHs256WithRsaPublicKey("m"),
                null));
        }
        finally
        {
            plain.close();
        }
    }

    @Test
    void shouldRefuseAnOriginNotAllowedWith403() throws Exception
    {
        assertEquals(403, WsClient.refusedStatus(fixture.ws(null), valid("ann", 60_000), "https://evil.example.com"));
        final WsClient ok = WsClient.connect(fixture.ws(null), valid("ann", 60_000), "https://app.example.com");
        try
        {
            assertEquals("welcome", ok.next(5_000).get("type").asText());
        }
        finally
        {
            ok.close();
        }
    }

    @Test
    void shouldRefuseConnectionsOverTheUserCapWith429() throws Exception
    {
        fixture.connectWith(valid("cap", 60_000), null).next(5_000);
        fixture.connectWith(valid("cap", 60_000), null).next(5_000);
        assertEquals(429, status(valid("cap", 60_000)));
        assertEquals(101, WsClient.refusedStatus(fixture.ws(null), valid("other", 60_000), null));
    }

    @Test
    void shouldCloseAConnectionWhenItsTokenExpires() throws Exception
    {
        final WsClient brief = fixture.connectWith(valid("brief", 1_500), null);
        final JsonNode welcome = brief.next(5_000);
        assertEquals("welcome", welcome.get("type").asText());
        assertEquals(4001, brief.awaitClose(10_000));
    }

    @Test
    void shouldRefuseProducerCallsWithoutTheKey() throws Exception
    {
        assertEquals(401, fixture.post("/v1/events", "{}", null).statusCode());
        assertEquals(401, fixture.post("/v1/events", "{}", "wrong-key-wrong-key").statusCode());
        assertEquals(401, WsClient.refusedStatus(
            URI.create("ws://127.0.0.1:" + fixture.server.port() + "/v1/producer"), "wrong", null));
    }
}
