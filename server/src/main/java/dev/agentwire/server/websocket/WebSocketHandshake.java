package dev.agentwire.server.websocket;

import dev.agentwire.server.http.Http;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.HttpUpgradeListener;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The server's side of the opening handshake (RFC 6455 section 4.2): a GET with {@code Upgrade: websocket}, a
 * {@code Connection} that names upgrade, {@code Sec-WebSocket-Version: 13} and a key of 16 base64 bytes is answered
 * 101 with the key's accept value, no extension (permessage-deflate is never negotiated, so nothing is inflated)
 * and no subprotocol; Undertow then hands the raw connection to the listener. Anything else is answered as HTTP.
 */
public final class WebSocketHandshake
{
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final byte[] GUID_BYTES = GUID.getBytes(StandardCharsets.ISO_8859_1);
    private static final ThreadLocal<MessageDigest> SHA1 = ThreadLocal.withInitial(WebSocketHandshake::newSha1);
    private static final HttpString SEC_WEBSOCKET_VERSION = new HttpString("Sec-WebSocket-Version");

    private WebSocketHandshake()
    {
    }

    /**
     * Answers an upgrade request: 101 and the upgrade, or an HTTP error (426 when it is not an upgrade, or not
     * version 13; 400 when the key is not 16 base64 bytes).
     *
     * @param endpoint named in the 426 message.
     * @return true when the connection will be upgraded (the listener is called once the 101 is flushed).
     */
    public static boolean upgrade(
        final HttpServerExchange exchange, final String endpoint, final HttpUpgradeListener listener)
    {
        final String upgrade = exchange.getRequestHeaders().getFirst(Headers.UPGRADE);
        final String connection = exchange.getRequestHeaders().getFirst(Headers.CONNECTION);
        if (!Methods.GET.equals(exchange.getRequestMethod()) || upgrade == null ||
            !"websocket".equalsIgnoreCase(upgrade.trim()) || connection == null ||
            !connection.toLowerCase(java.util.Locale.ROOT).contains("upgrade"))
        {
            Http.error(exchange, 426, "upgrade_required", endpoint + " is a WebSocket endpoint");
            return false;
        }
        if (!"13".equals(exchange.getRequestHeaders().getFirst(SEC_WEBSOCKET_VERSION)))
        {
            exchange.getResponseHeaders().put(SEC_WEBSOCKET_VERSION, "13");
            Http.error(exchange, 426, "upgrade_required", "WebSocket version 13 is required");
            return false;
        }
        final String key = exchange.getRequestHeaders().getFirst(Headers.SEC_WEB_SOCKET_KEY);
        if (!isValidKey(key))
        {
            Http.error(exchange, 400, "bad_request", "Sec-WebSocket-Key must be 16 bytes in base64");
            return false;
        }
        exchange.getResponseHeaders().put(Headers.SEC_WEB_SOCKET_ACCEPT, accept(key.trim()));
        exchange.upgradeChannel("websocket", listener);
        exchange.endExchange();
        return true;
    }

    private static boolean isValidKey(final String key)
    {
        if (key == null)
        {
            return false;
        }
        try
        {
            return Base64.getDecoder().decode(key.trim()).length == 16;
        }
        catch (final IllegalArgumentException ex)
        {
            return false;
        }
    }

    static String accept(final String key)
    {
        // One digest per I/O thread: looking one up for every handshake was most of the handshake's garbage.
        final MessageDigest sha1 = SHA1.get();
        sha1.update(key.getBytes(StandardCharsets.ISO_8859_1));
        return Base64.getEncoder().encodeToString(sha1.digest(GUID_BYTES));
    }

    private static MessageDigest newSha1()
    {
        try
        {
            return MessageDigest.getInstance("SHA-1");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("SHA-1 is required of every JVM", ex);
        }
    }
}
