package dev.agentwire.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.Collections;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Verifies user tokens: compact JWS only, algorithms pinned to HS256 (with the configured secret) and RS256 /
 * ES256 (with keys from the configured JWKS file). The algorithm decides the key type, never the other way round,
 * so an HS256 token "signed" with an RSA public key, an unsecured {@code alg=none} token, or any other algorithm
 * is refused. {@code sub} and {@code exp} are required; {@code iss} and {@code aud} are checked when configured;
 * {@code rooms} (an array of strings) lists the rooms the user may join. Thread-safe.
 */
public final class TokenVerifier
{
    private final MACVerifier hmac;
    private final JWKSet jwks;
    private final String issuer;
    private final String audience;

    /**
     * @param secret   the HS256 secret, or null.
     * @param jwksFile the JWKS file of RS256 / ES256 public keys, or null.
     * @param issuer   the required {@code iss}, or null.
     * @param audience the required {@code aud}, or null.
     * @throws IllegalArgumentException when the keys cannot be loaded.
     */
    public TokenVerifier(final String secret, final Path jwksFile, final String issuer, final String audience)
    {
        try
        {
            hmac = secret == null ? null : new MACVerifier(secret.getBytes(StandardCharsets.UTF_8));
            jwks = jwksFile == null ? null : JWKSet.load(jwksFile.toFile());
        }
        catch (final JOSEException | IOException | ParseException ex)
        {
            throw new IllegalArgumentException("invalid config: jwt keys could not be loaded: " + ex.getMessage(), ex);
        }
        this.issuer = issuer;
        this.audience = audience;
    }

    /**
     * @param token  the compact JWS.
     * @param nowMs  the current time.
     * @return the principal.
     * @throws AuthFailure with the reason when the token is not acceptable.
     */
    public Principal verify(final String token, final long nowMs) throws AuthFailure
    {
        if (token == null || token.isEmpty())
        {
            throw new AuthFailure(AuthFailure.Reason.MISSING, "no token");
        }
        final SignedJWT jwt;
        try
        {
            jwt = SignedJWT.parse(token);
        }
        catch (final ParseException ex)
        {
            if (isUnsecured(token))
            {
                throw new AuthFailure(AuthFailure.Reason.BAD_ALGORITHM, "unsecured token (alg=none)");
            }
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, "not a signed JWT");
        }
        final JWSHeader header = jwt.getHeader();
        final JWSVerifier verifier = verifierFor(header);
        try
        {
            if (!jwt.verify(verifier))
            {
                throw new AuthFailure(AuthFailure.Reason.BAD_SIGNATURE, "signature does not verify");
            }
        }
        catch (final JOSEException ex)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_SIGNATURE, "signature could not be checked");
        }
        final JWTClaimsSet claims;
        try
        {
            claims = jwt.getJWTClaimsSet();
        }
        catch (final ParseException ex)
        {
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, "claims are not a JSON object");
        }
        return principal(claims, nowMs);
    }

    private static boolean isUnsecured(final String token)
    {
        try
        {
            return JWTParser.parse(token) instanceof PlainJWT;
        }
        catch (final ParseException ex)
        {
            return false;
        }
    }

    private JWSVerifier verifierFor(final JWSHeader header) throws AuthFailure
    {
        final JWSAlgorithm alg = header.getAlgorithm();
        if (JWSAlgorithm.HS256.equals(alg))
        {
            if (hmac == null)
            {
                throw new AuthFailure(AuthFailure.Reason.BAD_ALGORITHM, "HS256 not enabled");
            }
            return hmac;
        }
        if (!JWSAlgorithm.RS256.equals(alg) && !JWSAlgorithm.ES256.equals(alg))
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_ALGORITHM, "algorithm not allowed: " + alg);
        }
        if (jwks == null)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_ALGORITHM, alg + " not enabled");
        }
        final JWK key = selectKey(header);
        try
        {
            if (JWSAlgorithm.RS256.equals(alg) && key instanceof RSAKey)
            {
                return new RSASSAVerifier(((RSAKey)key).toRSAPublicKey());
            }
            if (JWSAlgorithm.ES256.equals(alg) && key instanceof ECKey)
            {
                return new ECDSAVerifier(((ECKey)key).toECPublicKey());
            }
        }
        catch (final JOSEException ex)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_SIGNATURE, "key unusable");
        }
        throw new AuthFailure(AuthFailure.Reason.BAD_SIGNATURE, "no " + alg + " key matches");
    }

    private JWK selectKey(final JWSHeader header) throws AuthFailure
    {
        final String kid = header.getKeyID();
        final List<JWK> keys = jwks.getKeys();
        for (final JWK key : keys)
        {
            final boolean typeMatches = JWSAlgorithm.RS256.equals(header.getAlgorithm()) ?
                key instanceof RSAKey : key instanceof ECKey;
            if (typeMatches && (kid == null || kid.equals(key.getKeyID())))
            {
                return key;
            }
        }
        throw new AuthFailure(AuthFailure.Reason.BAD_SIGNATURE, "no matching key for kid");
    }

    private static boolean hasControlCharacter(final String value)
    {
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029')
            {
                return true;
            }
        }
        return false;
    }

    private Principal principal(final JWTClaimsSet claims, final long nowMs) throws AuthFailure
    {
        final String subject = claims.getSubject();
        if (subject == null || subject.isEmpty() || subject.length() > 256)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "sub missing or too long");
        }
        // The user id goes into logs and answers: a signed token must not be able to forge a log line with it.
        if (hasControlCharacter(subject))
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "sub has control characters");
        }
        final Date expiry = claims.getExpirationTime();
        if (expiry == null)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "exp missing");
        }
        if (expiry.getTime() <= nowMs)
        {
            throw new AuthFailure(AuthFailure.Reason.EXPIRED, "expired");
        }
        final Date notBefore = claims.getNotBeforeTime();
        if (notBefore != null && notBefore.getTime() > nowMs)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "not yet valid");
        }
        if (issuer != null && !issuer.equals(claims.getIssuer()))
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "iss mismatch");
        }
        if (audience != null && (claims.getAudience() == null || !claims.getAudience().contains(audience)))
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "aud mismatch");
        }
        final Set<String> rooms;
        try
        {
            final List<String> listed = claims.getStringListClaim("rooms");
            rooms = listed == null ? Collections.emptySet() : Collections.unmodifiableSet(new HashSet<>(listed));
        }
        catch (final ParseException ex)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "rooms is not an array of strings");
        }
        return new Principal(subject, rooms, expiry.getTime());
    }
}
