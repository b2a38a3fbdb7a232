package dev.agentwire.server.auth;

import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObject;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.text.ParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies user tokens: compact JWS only, algorithms pinned to HS256 (with the configured secret) and RS256 /
 * ES256 (with keys from the configured JWKS file). The algorithm decides the key type, never the other way round,
 * so an HS256 token "signed" with an RSA public key, an unsecured {@code alg=none} token, or any other algorithm
 * is refused. {@code sub} and {@code exp} are required; {@code iss} and {@code aud} are checked when configured;
 * {@code rooms} (an array of strings) lists the rooms the user may join. Thread-safe.
 * <p>
 * Nimbus parses the header and checks the signature; the claims are read by {@link ClaimsReader}, which keeps only
 * what is judged here (a token is verified for every connection that opens, and its garbage is most of what an
 * idle connection's memory is made of).
 */
public final class TokenVerifier
{
    /** Distinct headers kept parsed: a deployment signs with a few keys, each giving one header. */
    static final int MAX_KEPT_HEADERS = 32;
    /** A header longer than this is parsed each time and never kept. */
    static final int MAX_KEPT_HEADER_CHARS = 512;

    private final MACVerifier hmac;
    private final JWKSet jwks;
    private final String issuer;
    private final String audience;
    private final Map<String, JWSHeader> headers = new ConcurrentHashMap<>();

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
     * Runs the whole verification path once, on a token signed for it with a key made for it and then dropped: the
     * classes and providers a verification needs (Nimbus's header parser, the JCE's HMAC and its policy, the claims
     * reader and with it the server's JSON codec) are loaded while the server starts, not while its first user
     * waits. On a cold server the first connection took 350 to 400 ms, almost all of it loading them, and the next
     * ones 2 to 20 ms; with this, about 60 ms (benchmarks/README.md, 2026-12-06, evening). The configured keys are
     * not touched, nor the headers any other verifier keeps. Not on a hot path: call it once, at start.
     *
     * @throws IllegalStateException when the token made here does not verify: the verification path is broken.
     */
    public static void warmUp()
    {
        final byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        final String secret = Base64URL.encode(key).toString();
        final String signed = Base64URL.encode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." +
            Base64URL.encode("{\"sub\":\"warm-up\",\"exp\":" + (System.currentTimeMillis() / 1000 + 60) +
            ",\"aud\":[\"warm-up\"],\"rooms\":[]}");
        try
        {
            final Base64URL signature = new MACSigner(secret.getBytes(StandardCharsets.UTF_8))
                .sign(new JWSHeader(JWSAlgorithm.HS256), signed.getBytes(StandardCharsets.US_ASCII));
            final Principal principal = new TokenVerifier(secret, null, null, "warm-up")
                .verify(signed + "." + signature, System.currentTimeMillis());
            if (!"warm-up".equals(principal.userId))
            {
                throw new IllegalStateException("token warm-up read sub=" + principal.userId);
            }
        }
        catch (final JOSEException | AuthFailure ex)
        {
            throw new IllegalStateException("token warm-up failed: " + ex.getMessage(), ex);
        }
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
        final Base64URL[] parts;
        try
        {
            parts = JOSEObject.split(token);
        }
        catch (final ParseException ex)
        {
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, "not a signed JWT");
        }
        if (parts.length != 3)
        {
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, "not a signed JWT");
        }
        final JWSHeader header = header(parts[0]);
        final JWSVerifier verifier = verifierFor(header);
        try
        {
            // What was signed: the header and payload segments as sent (RFC 7515, 5.2), as Nimbus's own JWS object
            // composes them (the split trims the token first, so offsets into the raw token could be off).
            final byte[] signingInput = (parts[0].toString() + '.' + parts[1].toString())
                .getBytes(StandardCharsets.US_ASCII);
            if (!verifier.verify(header, signingInput, parts[2]))
            {
                throw new AuthFailure(AuthFailure.Reason.BAD_SIGNATURE, "signature does not verify");
            }
        }
        catch (final JOSEException ex)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_SIGNATURE, "signature could not be checked");
        }
        return principal(ClaimsReader.read(parts[1].decode()), nowMs);
    }

    /**
     * The JOSE header, parsed by Nimbus with its rules. A deployment's tokens share a few headers (one per signing
     * key), so parsed ones are kept by their exact segment: parsing is a function of those bytes alone, and the
     * signature is still checked over them for every token. Past {@link #MAX_KEPT_HEADERS}, a header is parsed each
     * time.
     */
    private JWSHeader header(final Base64URL segment) throws AuthFailure
    {
        final String key = segment.toString();
        final JWSHeader known = headers.get(key);
        if (known != null)
        {
            return known;
        }
        final Header parsed;
        try
        {
            parsed = Header.parse(segment);
        }
        catch (final ParseException ex)
        {
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, "not a signed JWT");
        }
        if (parsed instanceof PlainHeader)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_ALGORITHM, "unsecured token (alg=none)");
        }
        if (!(parsed instanceof JWSHeader))
        {
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, "not a signed JWT");
        }
        final JWSHeader jws = (JWSHeader)parsed;
        if (key.length() <= MAX_KEPT_HEADER_CHARS && headers.size() < MAX_KEPT_HEADERS)
        {
            headers.putIfAbsent(key, jws);
        }
        return jws;
    }

    /** @return how many parsed headers are kept (for tests). */
    int keptHeaders()
    {
        return headers.size();
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

    private Principal principal(final ClaimsReader claims, final long nowMs) throws AuthFailure
    {
        final String subject = claims.subject;
        if (subject == null || subject.isEmpty() || subject.length() > 256)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "sub missing or too long");
        }
        // The user id goes into logs and answers: a signed token must not be able to forge a log line with it.
        if (hasControlCharacter(subject))
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "sub has control characters");
        }
        if (claims.expirySeconds == Long.MIN_VALUE)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "exp missing");
        }
        final long expiresAtMs = ClaimsReader.toMillis(claims.expirySeconds);
        if (expiresAtMs <= nowMs)
        {
            throw new AuthFailure(AuthFailure.Reason.EXPIRED, "expired");
        }
        if (claims.notBeforeSeconds != Long.MIN_VALUE && ClaimsReader.toMillis(claims.notBeforeSeconds) > nowMs)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "not yet valid");
        }
        if (issuer != null && !issuer.equals(claims.issuer))
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "iss mismatch");
        }
        if (audience != null && (claims.audience == null || !claims.audience.contains(audience)))
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "aud mismatch");
        }
        return new Principal(subject, claims.rooms, expiresAtMs);
    }
}
