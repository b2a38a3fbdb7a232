package dev.agentwire.server.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.InboundHandler;
import dev.agentwire.core.PresenceListener;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.Json;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Routes users' messages to agent runtimes and tells runtimes who is online. The engine's default inbound handler
 * for {@code user_message} and {@code cancel}: each is handed to one connected producer socket, round robin, or on
 * a cluster node with none to a runtime on another node; and its presence listener, told to every producer
 * socket. An embedding application that registers its own inbound handler takes the messages instead.
 */
public final class InboundRouter implements InboundHandler, PresenceListener
{
    private static final Logger LOG = LoggerFactory.getLogger(InboundRouter.class);

    private final RuntimeChannels channels;
    private final RemoteRuntimes remote;
    private final Supplier<Set<String>> onlineUsers;
    private final Set<String> overridden = ConcurrentHashMap.newKeySet();

    /**
     * @param channels    this node's producer sockets.
     * @param remote      runtimes on other nodes ({@link RemoteRuntimes#NONE} on a single node).
     * @param onlineUsers users with a connection now, told to a runtime that connects.
     */
    public InboundRouter(
        final RuntimeChannels channels, final RemoteRuntimes remote, final Supplier<Set<String>> onlineUsers)
    {
        this.channels = channels;
        this.remote = remote;
        this.onlineUsers = onlineUsers;
    }

    /** A producer socket connected: it takes messages from now on, and first learns who is online. */
    public void attach(final RuntimeChannel channel)
    {
        channels.add(channel);
        remote.producersChanged();
        // A runtime that connects late still learns who is online; presence frames are idempotent by design.
        for (final String userId : onlineUsers.get())
        {
            channel.send(presenceFrame(userId, "online"));
        }
        LOG.info("producer open: remote={}", channel.remote());
    }

    /** A producer socket closed. Idempotent. */
    public void detach(final RuntimeChannel channel)
    {
        if (channels.remove(channel))
        {
            remote.producersChanged();
            LOG.info("producer close: remote={}", channel.remote());
        }
    }

    /** @return producer sockets connected to this node. */
    public int size()
    {
        return channels.size();
    }

    /** The embedding application took this inbound type: the router no longer forwards it. */
    public void overridden(final String type)
    {
        overridden.add(type);
    }

    /** @return true when a message of this type would find nobody: the router handles it and no producer is here. */
    public boolean wouldDrop(final String type)
    {
        return !overridden.contains(type) && channels.isEmpty() && !remote.anyProducers();
    }

    /** A user's message: re-encoded with the authenticated sender and given to one producer. */
    @Override
    public void onMessage(
        final String userId, final String type, final DirectBuffer payload, final int offset, final int length)
    {
        final RuntimeChannel target = channels.pick();
        if (target == null && !remote.anyProducers())
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
                remote.forward(encoded);
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
        if (channels.isEmpty())
        {
            return;
        }
        final byte[] bytes = presenceFrame(userId, state);
        for (final RuntimeChannel channel : channels.all())
        {
            channel.send(bytes);
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
