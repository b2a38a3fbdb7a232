package dev.agentwire.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Deque;

/**
 * Small HTTP helpers shared by the handlers: bearer tokens, query parameters, constant-time key checks, JSON answers
 * and errors (always {@code {"error":{"code":...,"message":...}}}).
 */
public final class Http
{
    /** The {@code Retry-After} header of 429 and 503 answers. */
    public static final HttpString RETRY_AFTER = new HttpString("Retry-After");

    private Http()
    {
    }

    /** @return the bearer token of the Authorization header, or null. */
    public static String bearer(final HttpServerExchange exchange)
    {
        final String header = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7))
        {
            return null;
        }
        final String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }

    /** @return the first value of a query parameter, or null. */
    public static String query(final HttpServerExchange exchange, final String name)
    {
        final Deque<String> values = exchange.getQueryParameters().get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /** Compares a presented key with the configured one in time independent of where they differ. */
    public static boolean keyMatches(final String presented, final String expected)
    {
        if (presented == null)
        {
            return false;
        }
        return MessageDigest.isEqual(
            presented.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }

    /** @return a new JSON object node. */
    public static ObjectNode object()
    {
        return Json.MAPPER.createObjectNode();
    }

    /** Answers with a JSON body. On the exchange's thread. */
    public static void json(final HttpServerExchange exchange, final int status, final ObjectNode body)
    {
        final byte[] bytes;
        try
        {
            bytes = Json.MAPPER.writeValueAsBytes(body);
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalStateException(ex);
        }
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send(ByteBuffer.wrap(bytes));
    }

    /** Answers with a JSON body already written. On the exchange's thread. */
    public static void json(final HttpServerExchange exchange, final int status, final byte[] body)
    {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send(ByteBuffer.wrap(body));
    }

    /** Answers with {@code {"error":{"code":...,"message":...}}}. On the exchange's thread. */
    public static void error(final HttpServerExchange exchange, final int status, final String code, final String message)
    {
        final ObjectNode body = object();
        final ObjectNode error = body.putObject("error");
        error.put("code", code);
        error.put("message", message);
        json(exchange, status, body);
    }
}
