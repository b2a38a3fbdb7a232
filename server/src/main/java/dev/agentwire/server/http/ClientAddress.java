package dev.agentwire.server.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.HttpString;

import java.net.InetSocketAddress;
import java.util.Set;

/**
 * The address a request comes from, for per-address caps and logs: the socket's peer, unless that peer is one of the
 * configured trusted proxies, in which case the client is the right-most address in {@code X-Forwarded-For} (or
 * {@code Forwarded: for=}) that is not itself a trusted proxy. Off by default: with no trusted proxies the headers
 * are ignored, since anyone can send them. A value that is not an IP address literal is ignored too (the peer is
 * used).
 */
public final class ClientAddress
{
    private static final HttpString X_FORWARDED_FOR = new HttpString("X-Forwarded-For");
    private static final HttpString FORWARDED = new HttpString("Forwarded");
    private static final int MAX_ADDRESS_LENGTH = 45;

    private ClientAddress()
    {
    }

    /** @return the client's address as text: an IPv4 or IPv6 literal, or {@code unknown}. */
    public static String of(final HttpServerExchange exchange, final Set<String> trustedProxies)
    {
        final InetSocketAddress source = exchange.getSourceAddress();
        final String peer = source == null || source.getAddress() == null ?
            "unknown" : source.getAddress().getHostAddress();
        if (trustedProxies.isEmpty() || !trustedProxies.contains(peer))
        {
            return peer;
        }
        final String forwarded = fromForwardedFor(exchange.getRequestHeaders().get(X_FORWARDED_FOR), trustedProxies);
        if (forwarded != null)
        {
            return forwarded;
        }
        final String standard = fromForwarded(exchange.getRequestHeaders().get(FORWARDED), trustedProxies);
        return standard != null ? standard : peer;
    }

    private static String fromForwardedFor(final Iterable<String> headers, final Set<String> trusted)
    {
        if (headers == null)
        {
            return null;
        }
        String client = null;
        for (final String header : headers)
        {
            for (final String part : header.split(","))
            {
                final String address = part.trim();
                if (isAddressLiteral(address) && !trusted.contains(address))
                {
                    client = address; // the right-most one not a proxy of ours wins
                }
            }
        }
        return client;
    }

    private static String fromForwarded(final Iterable<String> headers, final Set<String> trusted)
    {
        if (headers == null)
        {
            return null;
        }
        String client = null;
        for (final String header : headers)
        {
            for (final String element : header.split(","))
            {
                for (final String pair : element.split(";"))
                {
                    final String trimmed = pair.trim();
                    if (trimmed.regionMatches(true, 0, "for=", 0, 4))
                    {
                        String value = trimmed.substring(4).replace("\"", "");
                        if (value.startsWith("["))
                        {
                            final int end = value.indexOf(']');
                            value = end > 0 ? value.substring(1, end) : value;
                        }
                        else if (value.indexOf(':') == value.lastIndexOf(':') && value.indexOf(':') > 0)
                        {
                            value = value.substring(0, value.indexOf(':')); // IPv4 with a port
                        }
                        if (isAddressLiteral(value) && !trusted.contains(value))
                        {
                            client = value;
                        }
                    }
                }
            }
        }
        return client;
    }

    /** @return true for text made of an IP literal's characters only (no name is ever resolved). */
    public static boolean isAddressLiteral(final String value)
    {
        if (value.isEmpty() || value.length() > MAX_ADDRESS_LENGTH)
        {
            return false;
        }
        boolean digit = false;
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            final boolean hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            if (!hex && c != '.' && c != ':')
            {
                return false;
            }
            digit |= c >= '0' && c <= '9';
        }
        return digit || value.indexOf(':') >= 0;
    }
}
