package dev.agentwire.server.auth;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.agentwire.server.http.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads the claims a user token is judged on straight off its JSON payload with the server's streaming parser, in
 * one pass, keeping only those claims. Every connection's token is read once while the socket opens; Nimbus's claims
 * set (a Gson tree, then a map of claims) made about 6 KB of garbage per token (benchmarks/README.md, memory per
 * connection), which an idle connection's memory is mostly made of. The claims' meaning is unchanged (RFC 7519):
 * {@code exp} and {@code nbf} are seconds since the epoch (a fraction is dropped), {@code aud} a string or an array
 * of strings, a JSON null is an absent claim, duplicate names are refused. Not thread-safe: one call, one instance.
 */
final class ClaimsReader
{
    /** A registered claim of the wrong type or not JSON at all: the payload is not a claims set. */
    static final String NOT_CLAIMS = "claims are not a JSON object";

    String subject;
    String issuer;
    /** Seconds since the epoch, or {@link Long#MIN_VALUE} when absent. */
    long expirySeconds = Long.MIN_VALUE;
    /** Seconds since the epoch, or {@link Long#MIN_VALUE} when absent. */
    long notBeforeSeconds = Long.MIN_VALUE;
    /** {@code aud}: null when absent. */
    List<String> audience;
    /** {@code rooms}: empty when absent. */
    Set<String> rooms = Set.of();

    /**
     * @param json the payload's bytes.
     * @throws AuthFailure MALFORMED when it is not a JSON object of claims, BAD_CLAIMS when {@code rooms} is not an
     *     array of strings.
     */
    static ClaimsReader read(final byte[] json) throws AuthFailure
    {
        final ClaimsReader claims = new ClaimsReader();
        try (JsonParser p = Json.FACTORY.createParser(json))
        {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            if (p.nextToken() != JsonToken.START_OBJECT)
            {
                throw new AuthFailure(AuthFailure.Reason.MALFORMED, NOT_CLAIMS);
            }
            while (p.nextToken() == JsonToken.FIELD_NAME)
            {
                final String name = p.currentName();
                final JsonToken value = p.nextToken();
                switch (name)
                {
                    case "sub" -> claims.subject = text(value, p);
                    case "iss" -> claims.issuer = text(value, p);
                    case "exp" -> claims.expirySeconds = seconds(value, p);
                    case "nbf" -> claims.notBeforeSeconds = seconds(value, p);
                    case "aud" -> claims.audience = audience(value, p);
                    case "rooms" -> claims.rooms = rooms(value, p);
                    default -> p.skipChildren();
                }
            }
            if (p.nextToken() != null)
            {
                throw new AuthFailure(AuthFailure.Reason.MALFORMED, NOT_CLAIMS);
            }
        }
        catch (final IOException ex)
        {
            // Not JSON, a duplicate name, an integer past a long, or nesting deeper than the server allows.
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, NOT_CLAIMS);
        }
        return claims;
    }

    private static String text(final JsonToken value, final JsonParser p) throws AuthFailure, IOException
    {
        if (value == JsonToken.VALUE_NULL)
        {
            return null;
        }
        if (value != JsonToken.VALUE_STRING)
        {
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, NOT_CLAIMS);
        }
        return p.getText();
    }

    private static long seconds(final JsonToken value, final JsonParser p) throws AuthFailure, IOException
    {
        if (value == JsonToken.VALUE_NULL)
        {
            return Long.MIN_VALUE;
        }
        if (value == JsonToken.VALUE_NUMBER_INT)
        {
            return p.getLongValue();
        }
        if (value == JsonToken.VALUE_NUMBER_FLOAT)
        {
            final double seconds = Math.floor(p.getDoubleValue());
            if (seconds > Long.MAX_VALUE / 1000.0 || seconds < Long.MIN_VALUE / 1000.0)
            {
                throw new AuthFailure(AuthFailure.Reason.MALFORMED, NOT_CLAIMS);
            }
            return (long)seconds;
        }
        throw new AuthFailure(AuthFailure.Reason.MALFORMED, NOT_CLAIMS);
    }

    private static List<String> audience(final JsonToken value, final JsonParser p) throws AuthFailure, IOException
    {
        if (value == JsonToken.VALUE_NULL)
        {
            return null;
        }
        if (value == JsonToken.VALUE_STRING)
        {
            return List.of(p.getText());
        }
        final List<String> names = strings(value, p);
        if (names == null)
        {
            throw new AuthFailure(AuthFailure.Reason.MALFORMED, NOT_CLAIMS);
        }
        return names;
    }

    private static Set<String> rooms(final JsonToken value, final JsonParser p) throws AuthFailure, IOException
    {
        if (value == JsonToken.VALUE_NULL)
        {
            return Set.of();
        }
        final List<String> names = strings(value, p);
        if (names == null)
        {
            throw new AuthFailure(AuthFailure.Reason.BAD_CLAIMS, "rooms is not an array of strings");
        }
        // Kept for the connection's life: the smallest immutable set (a listed room twice counts once).
        return Set.copyOf(names);
    }

    /**
     * @return the array's strings, or null when the value is not an array of strings (the caller refuses the token,
     *     so the parser is left where it stopped).
     */
    private static List<String> strings(final JsonToken value, final JsonParser p) throws IOException
    {
        if (value != JsonToken.START_ARRAY)
        {
            return null;
        }
        final List<String> names = new ArrayList<>();
        JsonToken item;
        while ((item = p.nextToken()) != JsonToken.END_ARRAY)
        {
            if (item != JsonToken.VALUE_STRING)
            {
                return null;
            }
            names.add(p.getText());
        }
        return names;
    }

    /** @return seconds as epoch ms, saturated rather than wrapped. */
    static long toMillis(final long seconds)
    {
        if (seconds > Long.MAX_VALUE / 1000)
        {
            return Long.MAX_VALUE;
        }
        if (seconds < Long.MIN_VALUE / 1000)
        {
            return Long.MIN_VALUE + 1;
        }
        return seconds * 1000;
    }
}
