package dev.agentwire.server;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * Test keys and tokens: an HS256 secret, and RSA and EC key pairs published in a JWKS file.
 */
final class Tokens
{
    static final String SECRET = "test-secret-test-secret-test-secret-0123456789";
    static final String PRODUCER_KEY = "producer-key-for-tests-0123456789";

    final RSAKey rsa;
    final ECKey ec;
    final Path jwksFile;

    Tokens(final Path dir)
    {
        try
        {
            rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
            ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
            jwksFile = dir.resolve("jwks.json");
            Files.writeString(jwksFile, new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK())).toString());
        }
        catch (final JOSEException | IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    static String hs256(final String user, final long ttlMs, final String... rooms)
    {
        return hs256With(SECRET, claims(user, ttlMs, rooms));
    }

    static String hs256(final String secret, final String user)
    {
        return hs256With(secret, claims(user, 60_000));
    }

    static String hs256With(final String secret, final JWTClaimsSet claims)
    {
        try
        {
            return sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, null, claims);
        }
        catch (final JOSEException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    String rs256(final String user)
    {
        try
        {
            return sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, rsa.getKeyID(), claims(user, 60_000));
        }
        catch (final JOSEException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    String es256(final String user)
    {
        try
        {
            return sign(new ECDSASigner(ec), JWSAlgorithm.ES256, ec.getKeyID(), claims(user, 60_000));
        }
        catch (final JOSEException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** The HS/RS confusion attack: an HS256 token whose HMAC key is the server's RSA public key. */
    String confusedHs256WithRsaPublicKey(final String user)
    {
        try
        {
            final byte[] publicKey = rsa.toRSAPublicKey().getEncoded();
            final JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(rsa.getKeyID()).build();
            final SignedJWT jwt = new SignedJWT(header, claims(user, 60_000));
            jwt.sign(new MACSigner(padTo32(publicKey)));
            return jwt.serialize();
        }
        catch (final JOSEException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** An unsecured token: {"alg":"none"} with a valid-looking payload and no signature. */
    static String algNone(final String user)
    {
        final Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        final String header = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        final String payload = b64.encodeToString(claims(user, 60_000).toString().getBytes(StandardCharsets.UTF_8));
        return header + "." + payload + ".";
    }

    static JWTClaimsSet claims(final String user, final long ttlMs, final String... rooms)
    {
        final JWTClaimsSet.Builder builder = new JWTClaimsSet.Builder()
            .subject(user)
            .expirationTime(new Date(System.currentTimeMillis() + ttlMs));
        if (rooms.length > 0)
        {
            builder.claim("rooms", List.of(rooms));
        }
        return builder.build();
    }

    private static String sign(
        final JWSSigner signer, final JWSAlgorithm alg, final String kid, final JWTClaimsSet claims)
    {
        try
        {
            final SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims);
            jwt.sign(signer);
            return jwt.serialize();
        }
        catch (final JOSEException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private static byte[] padTo32(final byte[] key)
    {
        return key.length >= 32 ? key : java.util.Arrays.copyOf(key, 32);
    }
}
