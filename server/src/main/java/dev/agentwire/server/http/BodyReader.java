package dev.agentwire.server.http;

import io.undertow.server.Connectors;
import io.undertow.server.HttpServerExchange;
import org.xnio.ChannelListener;
import org.xnio.channels.StreamSourceChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Reads a request body whole, for handlers that need all of it before they act (a JSON batch), with bulk copies.
 * <p>
 * A body that has arrived by the time the handler runs (the usual case: a small body comes in the same packets as
 * its headers) is read into its I/O thread's scratch array and handed over without allocating. A body still on its
 * way is gathered into an array of its own and handed over when complete, from a root-handler call on the
 * exchange's I/O thread. Either way the bytes are valid only during the call: a handler that keeps them copies them.
 * Undertow's own full-body receiver copied byte by byte into a stream and then once more into the array it handed
 * over; at 20,000 events/s that was 15 % of the I/O threads' time.
 * <p>
 * A body over the limit is read on and thrown away, up to {@link #DRAIN_MAX_BYTES} past the limit, before the
 * failure is reported: a server that answers 413 and closes while the client is still sending resets the
 * connection, and the client never sees the 413. A body longer still is answered at once and its connection closed.
 * Undertow's own bound (its {@code MAX_ENTITY_SIZE} server option) must therefore be at least the limit plus
 * {@link #DRAIN_MAX_BYTES}; see {@link #undertowEntityBound}.
 */
public final class BodyReader
{
    /** Failure: the body is over the limit (answer 413). */
    public static final int TOO_LARGE = 1;
    /** Failure: the body could not be read (the client went away, or broke the encoding; answer 400). */
    public static final int UNREADABLE = 2;

    /** Bytes past the limit read and discarded so the 413 reaches the client; beyond, the connection closes. */
    public static final int DRAIN_MAX_BYTES = 1 << 20;
    /** A scratch array kept per I/O thread up to this size; a bigger one is dropped after its request. */
    static final int MAX_KEPT_SCRATCH_BYTES = 1 << 20;
    private static final int INITIAL_SCRATCH_BYTES = 64 * 1024;
    private static final byte[] EMPTY = new byte[0];

    /** Receives the whole body: {@code body[0, length)}, valid during the call only. */
    @FunctionalInterface
    public interface BodyHandler
    {
        /**
         * @param exchange the request.
         * @param body     an array holding the body from index 0.
         * @param length   the body's length.
         */
        void onBody(HttpServerExchange exchange, byte[] body, int length);
    }

    /** Told when the body could not be had. */
    @FunctionalInterface
    public interface FailureHandler
    {
        /**
         * @param exchange the request.
         * @param failure  {@link #TOO_LARGE} or {@link #UNREADABLE}.
         */
        void onFailure(HttpServerExchange exchange, int failure);
    }

    private static final class Scratch
    {
        byte[] bytes = new byte[INITIAL_SCRATCH_BYTES];
        ByteBuffer view = ByteBuffer.wrap(bytes);

        void ensure(final int capacity)
        {
            if (capacity > bytes.length)
            {
                bytes = Arrays.copyOf(bytes, capacity);
                view = ByteBuffer.wrap(bytes);
            }
        }

        void shrink()
        {
            if (bytes.length > MAX_KEPT_SCRATCH_BYTES)
            {
                bytes = new byte[INITIAL_SCRATCH_BYTES];
                view = ByteBuffer.wrap(bytes);
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private BodyReader()
    {
    }

    /** @return the bound to give Undertow's {@code MAX_ENTITY_SIZE} when bodies are read here with this limit. */
    public static long undertowEntityBound(final int maxBytes)
    {
        return (long)maxBytes + DRAIN_MAX_BYTES;
    }

    /**
     * Reads the exchange's body, at most {@code maxBytes}, then calls one of the handlers. Call from the handler
     * of the request, on its I/O thread.
     */
    public static void read(
        final HttpServerExchange exchange, final int maxBytes, final BodyHandler onBody, final FailureHandler onFailure)
    {
        final long declared = exchange.getRequestContentLength();
        if (exchange.isRequestComplete())
        {
            onBody.onBody(exchange, EMPTY, 0);
            return;
        }
        if (declared > (long)maxBytes + DRAIN_MAX_BYTES)
        {
            exchange.setPersistent(false);
            onFailure.onFailure(exchange, TOO_LARGE);
            return;
        }
        final StreamSourceChannel channel = exchange.getRequestChannel();
        if (channel == null)
        {
            onFailure.onFailure(exchange, UNREADABLE);
            return;
        }
        final Scratch scratch = SCRATCH.get();
        scratch.ensure(declared >= 0 ? (int)Math.min(declared, maxBytes + 1L) : INITIAL_SCRATCH_BYTES);
        int fill = 0;
        try
        {
            while (declared < 0 || fill < declared)
            {
                if (fill > maxBytes)
                {
                    new Pending(exchange, maxBytes, declared, null, fill, onBody, onFailure).drain(channel, true);
                    return;
                }
                if (fill == scratch.bytes.length)
                {
                    scratch.ensure((int)Math.min(maxBytes + 1L, 2L * fill));
                }
                final ByteBuffer view = scratch.view;
                view.limit(scratch.bytes.length).position(fill);
                final int n = channel.read(view);
                if (n < 0)
                {
                    break;
                }
                if (n == 0)
                {
                    // The rest is on its way: gather it in the request's own array, off the scratch.
                    final int capacity =
                        declared >= 0 ? (int)Math.min(declared, maxBytes + 1L) : Math.max(2 * fill, 4096);
                    final Pending pending = new Pending(
                        exchange, maxBytes, declared, Arrays.copyOf(scratch.bytes, capacity), fill, onBody, onFailure);
                    channel.getReadSetter().set(pending);
                    channel.resumeReads();
                    return;
                }
                fill += n;
            }
        }
        catch (final IOException ex)
        {
            exchange.setPersistent(false);
            onFailure.onFailure(exchange, UNREADABLE);
            return;
        }
        if (fill > maxBytes)
        {
            onFailure.onFailure(exchange, TOO_LARGE);
            return;
        }
        try
        {
            onBody.onBody(exchange, scratch.bytes, fill);
        }
        finally
        {
            scratch.shrink();
        }
    }

    /** A body that arrives over several reads, gathered into its own array; or one over the limit, drained. */
    private static final class Pending implements ChannelListener<StreamSourceChannel>
    {
        private final HttpServerExchange exchange;
        private final int maxBytes;
        private final long declared;
        private final BodyHandler onBody;
        private final FailureHandler onFailure;
        private byte[] bytes;
        private long fill;
        private boolean done;

        Pending(
            final HttpServerExchange exchange,
            final int maxBytes,
            final long declared,
            final byte[] bytes,
            final long fill,
            final BodyHandler onBody,
            final FailureHandler onFailure)
        {
            this.exchange = exchange;
            this.maxBytes = maxBytes;
            this.declared = declared;
            this.bytes = bytes;
            this.fill = fill;
            this.onBody = onBody;
            this.onFailure = onFailure;
        }

        @Override
        public void handleEvent(final StreamSourceChannel channel)
        {
            if (done)
            {
                return;
            }
            if (bytes == null)
            {
                drain(channel, false);
                return;
            }
            try
            {
                while (declared < 0 || fill < declared)
                {
                    if (fill > maxBytes)
                    {
                        bytes = null;
                        drain(channel, false);
                        return;
                    }
                    if (fill == bytes.length)
                    {
                        bytes = Arrays.copyOf(bytes, (int)Math.min(maxBytes + 1L, 2L * fill));
                    }
                    final int n = channel.read(ByteBuffer.wrap(bytes, (int)fill, bytes.length - (int)fill));
                    if (n == 0)
                    {
                        return;
                    }
                    if (n < 0)
                    {
                        break;
                    }
                    fill += n;
                }
            }
            catch (final IOException ex)
            {
                exchange.setPersistent(false);
                finish(channel, UNREADABLE, false);
                return;
            }
            finish(channel, fill > maxBytes ? TOO_LARGE : 0, false);
        }

        /** Reads the rest of an over-limit body into the thread's scratch, discarding it, then reports 413. */
        void drain(final StreamSourceChannel channel, final boolean inCall)
        {
            final Scratch scratch = SCRATCH.get();
            try
            {
                while (declared < 0 || fill < declared)
                {
                    if (fill - maxBytes > DRAIN_MAX_BYTES)
                    {
                        exchange.setPersistent(false);
                        break;
                    }
                    scratch.view.clear();
                    final int n = channel.read(scratch.view);
                    if (n == 0)
                    {
                        if (inCall)
                        {
                            channel.getReadSetter().set(this);
                            channel.resumeReads();
                        }
                        return;
                    }
                    if (n < 0)
                    {
                        break;
                    }
                    fill += n;
                }
            }
            catch (final IOException ex)
            {
                // Undertow's bound (limit plus the drain) was passed, or the client went: either way it ends here.
                exchange.setPersistent(false);
            }
            finish(channel, TOO_LARGE, inCall);
        }

        private void finish(final StreamSourceChannel channel, final int failure, final boolean inCall)
        {
            done = true;
            channel.suspendReads();
            channel.getReadSetter().set(null);
            if (inCall)
            {
                report(exchange, failure);
            }
            else
            {
                Connectors.executeRootHandler(ex -> report(ex, failure), exchange);
            }
        }

        private void report(final HttpServerExchange ex, final int failure)
        {
            if (failure == 0)
            {
                onBody.onBody(ex, bytes, (int)fill);
            }
            else
            {
                onFailure.onFailure(ex, failure);
            }
        }
    }
}
