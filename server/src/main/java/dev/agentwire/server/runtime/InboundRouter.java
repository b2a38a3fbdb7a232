package dev.agentwire.server.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.InboundHandler;
import dev.agentwire.core.PresenceListener;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.sequencing.Refusals;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The one inbound registry: where each of a user's messages ({@code user_message}, {@code cancel}, custom types)
 * goes, decided once per message. An embedded handler registered for the type takes it; otherwise one connected
 * producer socket, round robin, passing over one whose backlog is full; otherwise, on a cluster node, a runtime on
 * another node; otherwise nobody, and the user is told {@code no_agent} (or {@code agent_busy} when runtimes are
 * connected but none is reading). Also the presence listener that tells every producer socket who is online.
 * Thread-safe.
 */
public final class InboundRouter implements PresenceListener
{
    /** {@link #route}: a runtime took the message. */
    public static final int DELIVERED = 0;
    /** {@link #route}: no runtime is connected to take it. */
    public static final int NO_AGENT = -1;
    /** {@link #route}: the embedded runtime's handler threw. */
    public static final int AGENT_ERROR = -2;
    /** {@link #route}: every connected runtime's backlog is full (it is not reading): the message was not taken. */
    public static final int AGENT_BUSY = -3;
    /** {@link #submit}: the gate refused the message (its code and message say which rule). */
    public static final int REFUSED = -4;
    /**
     * {@link #route}: the message was for a runtime on another node, and the cluster's Redis could not be reached or
     * refused it: it was not handed over, and no runtime will get it. Answered with the sequencer's
     * {@code unavailable}, as everything else that failed to reach Redis.
     */
    public static final int UNAVAILABLE = -5;
    /**
     * {@link #route}: the message was for a runtime on another node, and the cluster's Redis did not confirm it in
     * time: a runtime may still get it. Answered with the sequencer's {@code outcome_unknown}.
     */
    public static final int OUTCOME_UNKNOWN = -6;

    private static final Logger LOG = LoggerFactory.getLogger(InboundRouter.class);

    private final RuntimeChannels channels;
    private final RemoteRuntimes remote;
    private final Supplier<Set<String>> onlineUsers;
    private final ConcurrentHashMap<String, InboundHandler> embedded = new ConcurrentHashMap<>();
    private final PresenceFeed presence = new PresenceFeed();
    private volatile InboundGate gate = InboundGate.OPEN;
    private volatile LostMessageNotices notices = LostMessageNotices.NONE;

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

    /**
     * An embedded runtime takes one message type in-process, instead of producer sockets.
     *
     * @param type    the message type.
     * @param handler called on the user connection's I/O thread with the whole JSON message; null removes it.
     */
    public void onInbound(final String type, final InboundHandler handler)
    {
        if (handler == null)
        {
            embedded.remove(type);
        }
        else
        {
            embedded.put(type, handler);
        }
    }

    /** @param gate what every message {@link #submit}ted must pass first (AG-UI's interrupt rules). */
    public void gate(final InboundGate gate)
    {
        this.gate = gate;
    }

    /** How a {@link #submit}ted message ended. */
    @FunctionalInterface
    public interface Routed
    {
        /**
         * @param status  {@link #DELIVERED}, {@link #REFUSED} or a refusal of {@link #route}.
         * @param code    null when delivered, else the user's error code.
         * @param message null when delivered, else why.
         */
        void done(int status, String code, String message);
    }

    /**
     * Hands a user's message to one runtime once the gate let it through: what users send comes in here. Routing and
     * {@code routed} run on {@code thread}, the caller's I/O thread (an embedded handler is called there), either
     * before this returns or, when a cluster's gate asked Redis or the message went to another node, later.
     */
    public void submit(final String userId, final String type, final JsonNode message, final String text,
        final Executor thread, final Routed routed)
    {
        final Thread caller = Thread.currentThread();
        gate.admit(userId, type, message, (code, why, giveBack) ->
        {
            final Runnable then = () ->
            {
                if (code != null)
                {
                    routed.done(REFUSED, code, why);
                    return;
                }
                final Thread router = Thread.currentThread();
                route(userId, type, message, text, status ->
                {
                    final Runnable answer = () ->
                    {
                        if (status != DELIVERED && giveBack != null)
                        {
                            giveBack.run();
                        }
                        routed.done(status, status == DELIVERED ? null : errorCode(status),
                            status == DELIVERED ? null : errorMessage(status, type));
                    };
                    onThread(router, thread, answer);
                });
            };
            onThread(caller, thread, then);
        });
    }

    /** Runs {@code task} now when on {@code current}, the thread that answers, else hands it to {@code thread}. */
    private static void onThread(final Thread current, final Executor thread, final Runnable task)
    {
        if (Thread.currentThread() == current)
        {
            task.run();
        }
        else
        {
            thread.execute(task);
        }
    }

    /**
     * Hands a user's message to one runtime, past no gate: {@link #submit}'s second half.
     *
     * @param userId  the authenticated sender (added to what a producer socket receives).
     * @param type    the message type.
     * @param message the parsed message.
     * @param text    the same message as received, for an embedded handler.
     * @param done    told the outcome once: before this returns when this node decided ({@link #DELIVERED},
     *                {@link #NO_AGENT}, {@link #AGENT_BUSY}, {@link #AGENT_ERROR}), or later, on any thread, when the
     *                message went to a runtime on another node ({@link #DELIVERED} once the cluster holds it,
     *                {@link #AGENT_BUSY} when the cluster holds as many waiting as it keeps, {@link #UNAVAILABLE},
     *                {@link #OUTCOME_UNKNOWN}).
     */
    void route(
        final String userId, final String type, final JsonNode message, final String text, final IntConsumer done)
    {
        final InboundHandler handler = embedded.get(type);
        if (handler != null)
        {
            final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            try
            {
                handler.onMessage(userId, type, new UnsafeBuffer(bytes), 0, bytes.length);
                done.accept(DELIVERED);
            }
            catch (final RuntimeException ex)
            {
                LOG.warn("embedded inbound handler failed: type={}", type, ex);
                done.accept(AGENT_ERROR);
            }
            return;
        }
        // Other nodes' runtimes only: this node's own are offered first (counted, a message they did not take would
        // come back to them through the cluster's stream, again and again). And forwarded only to runtimes with room:
        // for runtimes all behind the user is answered agent_busy, as on one node, not left waiting in the stream.
        final boolean elsewhere = remote.anyProducers();
        if (channels.isEmpty() && !elsewhere)
        {
            done.accept(NO_AGENT);
            return;
        }
        offer(forwardedFrame(userId, type, message), elsewhere, false, done);
    }

    /**
     * Hands a user's message back for another runtime: the producer socket it was sent to ended before writing it
     * whole, so that runtime never had it and another may take it, at most once as ever. It goes as a new message
     * would, to a runtime here or on another node with room; the user was answered when it was first taken.
     *
     * @param frame what the producer socket was sent ({@link RuntimeChannel#send}).
     * @param done  told the outcome once, as {@link #route}'s (any thread).
     */
    public void reroute(final byte[] frame, final IntConsumer done)
    {
        offer(frame, remote.anyProducers(), true, status ->
        {
            if (status != DELIVERED)
            {
                notices.lost(frame, errorCode(status));
            }
            done.accept(status);
        });
    }

    /**
     * @param notices where a user is told of a message of theirs that no runtime will get, although they were
     *                answered as if one would ({@link LostMessageNotices}); none until set.
     */
    public void notices(final LostMessageNotices notices)
    {
        this.notices = notices;
        remote.notices(notices);
    }

    /** To this node's runtimes, round robin, else another node's with room, else nobody. */
    private void offer(final byte[] frame, final boolean elsewhere, final boolean handedBack, final IntConsumer done)
    {
        final int local = channels.offer(frame, handedBack);
        if (local == RuntimeChannels.TAKEN)
        {
            done.accept(DELIVERED);
        }
        else if (remote.anyReady())
        {
            remote.forward(frame, done);
        }
        else
        {
            done.accept(local == RuntimeChannels.ALL_BUSY || elsewhere ? AGENT_BUSY : NO_AGENT);
        }
    }

    /** @return the error code a user is answered with for a status of {@link #route}. */
    public static String errorCode(final int status)
    {
        switch (status)
        {
            case NO_AGENT:
                return "no_agent";
            case AGENT_BUSY:
                return "agent_busy";
            case UNAVAILABLE:
                return Refusals.name(Refusals.UNAVAILABLE);
            case OUTCOME_UNKNOWN:
                return Refusals.name(Refusals.OUTCOME_UNKNOWN);
            default:
                return "agent_error";
        }
    }

    /** @return the message a user is answered with for a status of {@link #route}. */
    public static String errorMessage(final int status, final String type)
    {
        switch (status)
        {
            case NO_AGENT:
                return "no agent runtime is connected to take " + type;
            case AGENT_BUSY:
                return "the agent runtime is not keeping up and did not take " + type + "; retry shortly";
            case UNAVAILABLE:
                return "the cluster's Redis is unreachable, so " + type + " could not be handed to an agent runtime " +
                    "on another node: no runtime got it; retry shortly";
            case OUTCOME_UNKNOWN:
                return "the cluster's Redis did not confirm " + type + " in time: an agent runtime on another node " +
                    "may still get it";
            default:
                return "the agent runtime failed to take " + type;
        }
    }

    /** A producer socket connected: it takes messages from now on, and first learns who is online. */
    public void attach(final RuntimeChannel channel)
    {
        channels.add(channel);
        remote.producersChanged();
        // A runtime that connects late still learns who is online, as far as its backlog takes now, the rest as
        // it reads (presence frames are idempotent by design).
        presence.attach(channel, onlineUsers.get());
        LOG.info("producer open: remote={}", channel.remote());
    }

    /** A producer socket closed. Idempotent. */
    public void detach(final RuntimeChannel channel)
    {
        presence.detach(channel);
        if (channels.remove(channel))
        {
            remote.producersChanged();
            LOG.info("producer close: remote={}", channel.remote());
        }
    }

    /**
     * A producer socket's backlog has room again: it is sent the presence it could not take before. Any thread;
     * cheap when no socket is owed any.
     */
    public void roomFor(final RuntimeChannel channel)
    {
        presence.roomFor(channel);
    }

    /** @return producer sockets connected to this node. */
    public int size()
    {
        return channels.size();
    }

    @Override
    public void onFirstConnected(final String userId)
    {
        presence.changed(userId, true);
    }

    @Override
    public void onLastDisconnected(final String userId)
    {
        presence.changed(userId, false);
    }

    /** What a producer socket receives: the message's own fields, with the authenticated sender added. */
    private static byte[] forwardedFrame(final String userId, final String type, final JsonNode message)
    {
        final ObjectNode forwarded = Http.object();
        forwarded.put("type", type);
        forwarded.put("user", userId);
        copy(message, forwarded, "thread_id");
        copy(message, forwarded, "run_id");
        copy(message, forwarded, "data");
        return bytes(forwarded);
    }

    static byte[] presenceFrame(final String userId, final String state)
    {
        final ObjectNode message = Http.object();
        message.put("type", "presence");
        message.put("user", userId);
        message.put("state", state);
        return bytes(message);
    }

    private static void copy(final JsonNode from, final ObjectNode to, final String field)
    {
        final JsonNode value = from.get(field);
        if (value != null)
        {
            to.set(field, value);
        }
    }

    private static byte[] bytes(final ObjectNode node)
    {
        try
        {
            return Json.MAPPER.writeValueAsBytes(node);
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalStateException("a JSON tree could not be written", ex);
        }
    }
}
