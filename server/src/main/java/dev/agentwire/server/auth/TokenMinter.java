package dev.agentwire.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Date;
import java.util.List;

/**
 * Mints development HS256 user tokens (the {@code token} command and demo mode): {@code sub}, {@code iat},
 * {@code exp}, and {@code rooms}, {@code iss}, {@code aud} when given. Production tokens come from the
 * application's own identity provider.
 */
public final class TokenMinter
{
    private TokenMinter()
    {
    }

    /**
     * @param secret   the HS256 secret, at least 32 bytes.
     * @param userId   the {@code sub} claim.
     * @param rooms    the {@code rooms} claim, or null for none.
     * @param ttlMs    lifetime from now.
     * @param issuer   the {@code iss} claim, or null.
     * @param audience the {@code aud} claim, or null.
     * @return the compact JWS.
     * @throws IllegalArgumentException when the secret is too short to sign with.
     */
    public static String hs256(
        final String secret,
        final String userId,
        final Collection<String> rooms,
        final long ttlMs,
        final String issuer,
        final String audience)
    {
        final long nowMs = System.currentTimeMillis();
        final JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
            .subject(userId)
            .issueTime(new Date(nowMs))
            .expirationTime(new Date(nowMs + ttlMs));
        if (rooms != null)
        {
            claims.claim("rooms", List.copyOf(rooms));
        }
        if (issuer != null && !issuer.isBlank())
        {
            claims.issuer(issuer);
        }
        if (audience != null && !audience.isBlank())
        {
            claims.audience(audience);
        }
        final SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
        try
        {
            jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        }
        catch (final JOSEException ex)
        {
            throw new IllegalArgumentException("invalid config: jwtSecret=<hidden> cannot sign HS256: " +
                ex.getMessage(), ex);
        }
        return jwt.serialize();
    }
}
