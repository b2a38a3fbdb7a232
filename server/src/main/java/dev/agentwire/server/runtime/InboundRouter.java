package dev.agentwire.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.InboundHandler;
import dev.agentwire.core.PresenceListener;
import io.undertow.server.HttpHandler;
import io.undertow.websockets.WebSocketConnectionCallback;
import io.undertow.websockets.WebSocketProtocolHandshakeHandler;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.spi.WebSocketHttpExchange;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Out-of-process agent runtimes: {@code GET /v1/producer} (WebSocket, producer key). The hub is the engine's
 * default inbound handler for {@code user_message} and {@code cancel} — each is handed to one connected producer,
 * round robin — and its presence listener, told to every producer. An embedding application that registers its
 * own inbound handler on the engine takes the messages instead.
 */
final class ProducerHub implements InboundHandler, PresenceListener, WebSocketConnectionCallback
{
    private static final Logger LOG = LoggerFactory.getLogger(ProducerHub.class);

    private final Gateway gateway;
    private final List<ProducerConnection> connections = new CopyOnWriteArrayList<>();
    private final AtomicInteger next = new AtomicInteger();
    private final java.util.Set<String> overridden = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile ClusterInbound cluster;

    ProducerHub(final Gateway gateway)
    {
        this.gateway = gateway;
    }

    /** A cluster node: messages no local producer can take go to the producers of other nodes. */
    void cluster(final ClusterInbound inbound)
    {
        cluster = inbound;
    }

    private void producersChanged()
    {
        final ClusterInbound inbound = cluster;
        if (inbound != null)
        {
            inbound.producersChanged();
        }
    }

    HttpHandler handler()
    {
        final WebSocketProtocolHandshakeHandler handshake = new WebSocketProtocolHandshakeHandler(this, exchange ->
            Http.error(exchange, 426, "upgrade_required", "GET /v1/producer is a WebSocket endpoint"));
        return exchange ->
        {
            if (!Http.keyMatches(Http.bearer(exchange), gateway.config.producerKey()))
            {
                gateway.metrics.authFailed("producer_key");
                Http.error(exchange, 401, "unauthorized", "a valid producer key is required (Authorization: Bearer)");
                return;
            }
            handshake.handleRequest(exchange);
        };
    }

    @Override
    public void onConnect(final WebSocketHttpExchange exchange, final WebSocketChannel channel)
    {
        final ProducerConnection connection = new ProducerConnection(gateway, channel, this);
        connections.add(connection);
        producersChanged();
        connection.start();
        // A runtime that connects late still learns who is online; presence frames are idempotent by design.
        for (final String userId : gateway.registry.onlineUsers())
        {
            connection.send(presenceFrame(userId, "online"));
        }
        LOG.info("producer open: remote={}", channel.getSourceAddress());
    }

    void closed(final ProducerConnection connection)
    {
        if (connections.remove(connection))
        {
            producersChanged();
            LOG.info("producer close: remote={}", connection.remote());
        }
    }

    int size()
    {
        return connections.size();
    }

    /** The embedding application took this inbound type: the hub no longer forwards it. */
    void overridden(final String type)
    {
        overridden.add(type);
    }

    /** @return true when a message of this type would find nobody: the hub handles it and no producer is here. */
    boolean wouldDrop(final String type)
    {
        final ClusterInbound inbound = cluster;
        return !overridden.contains(type) && connections.isEmpty() && (inbound == null || !inbound.anyProducers());
    }

    /** A message another node forwarded. @return false when no producer is here any more. */
    boolean deliverForwarded(final byte[] message)
    {
        final ProducerConnection target = pick();
        if (target == null)
        {
            return false;
        }
        target.send(message);
        return true;
    }

    /** A user's message: re-encoded with the authenticated sender and given to one producer. */
    @Override
    public void onMessage(
        final String userId, final String type, final DirectBuffer payload, final int offset, final int length)
    {
        final ProducerConnection target = pick();
        final ClusterInbound inbound = cluster;
        if (target == null && (inbound == null || !inbound.anyProducers()))
        {
            throw new NoProducerException();
        }
        final byte[] bytes = new byte[length];
        payload.getBytes(offset, bytes);
        final ObjectNode forwarded = Http.object();
        try
        {
            final JsonNode message = Json.MAPPER.readTree(bytes);
            forwarded.put("type", type);
            forwarded.put("user", userId);
            copy(message, forwarded, "thread_id");
            copy(message, forwarded, "run_id");
            copy(message, forwarded, "data");
            final byte[] encoded = Json.MAPPER.writeValueAsBytes(forwarded);
            if (target != null)
            {
                target.send(encoded);
            }
            else
            {
                inbound.forward(encoded);
            }
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalArgumentException("inbound message is not JSON", ex);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    @Override
    public void onFirstConnected(final String userId)
    {
        presence(userId, "online");
    }

    @Override
    public void onLastDisconnected(final String userId)
    {
        presence(userId, "offline");
    }

    private void presence(final String userId, final String state)
    {
        if (connections.isEmpty())
        {
            return;
        }
        final byte[] bytes = presenceFrame(userId, state);
        for (final ProducerConnection connection : connections)
        {
            connection.send(bytes);
        }
    }

    private static byte[] presenceFrame(final String userId, final String state)
    {
        final ObjectNode message = Http.object();
        message.put("type", "presence");
        message.put("user", userId);
        message.put("state", state);
        try
        {
            return Json.MAPPER.writeValueAsBytes(message);
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private ProducerConnection pick()
    {
        final int size = connections.size();
        if (size == 0)
        {
            return null;
        }
        try
        {
            return connections.get(Math.floorMod(next.getAndIncrement(), size));
        }
        catch (final IndexOutOfBoundsException ex)
        {
            return connections.isEmpty() ? null : connections.get(0);
        }
    }

    private static void copy(final JsonNode from, final ObjectNode to, final String field)
    {
        final JsonNode value = from.get(field);
        if (value != null)
        {
            to.set(field, value);
        }
    }

    /** Thrown to the engine's dispatcher when no producer is connected, so the user is told. */
    static final class NoProducerException extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        NoProducerException()
        {
            super("no producer connected", null, false, false);
        }
    }
}
