package dev.agentwire.server;

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
 * Small HTTP helpers shared by the handlers: bearer tokens, constant-time key checks, JSON answers and errors
 * (always {@code {"error":{"code":...,"message":...}}}).
 */
final class Http
{
    static final HttpString RETRY_AFTER = new HttpString("Retry-After");

    private Http()
    {
    }

    /** @return the bearer token of the Authorization header, or null. */
    static String bearer(final HttpServerExchange exchange)
    {
        final String header = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7))
        {
            return null;
        }
        final String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }

    static String query(final HttpServerExchange exchange, final String name)
    {
        final Deque<String> values = exchange.getQueryParameters().get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /** Compares a presented key with the configured one in time independent of where they differ. */
    static boolean keyMatches(final String presented, final String expected)
    {
        if (presented == null)
        {
            return false;
        }
        return MessageDigest.isEqual(
            presented.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }

    static ObjectNode object()
    {
        return Json.MAPPER.createObjectNode();
    }

    static void json(final HttpServerExchange exchange, final int status, final ObjectNode body)
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

    static void error(final HttpServerExchange exchange, final int status, final String code, final String message)
    {
        final ObjectNode body = object();
        final ObjectNode error = body.putObject("error");
        error.put("code", code);
        error.put("message", message);
        json(exchange, status, body);
    }
}
