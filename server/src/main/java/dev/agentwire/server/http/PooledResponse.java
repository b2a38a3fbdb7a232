package dev.agentwire.server.http;

import io.undertow.io.IoCallback;
import io.undertow.io.Sender;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import org.agrona.ExpandableArrayBuffer;
import org.xnio.IoUtils;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * An answer body written straight into a buffer that is reused: acquired on an I/O thread, filled, sent, and back in
 * that thread's pool when the send is over (the socket may take it later than the send call returns, so the buffer
 * cannot simply be the thread's scratch). Steady state allocates no body arrays and copies nothing.
 */
public final class PooledResponse implements IoCallback
{
    /** Responses kept per thread; more in flight at once are made and dropped. */
    static final int MAX_POOLED_PER_THREAD = 64;
    /** A buffer grown past this is dropped after its answer rather than kept. */
    static final int MAX_KEPT_BYTES = 1 << 20;

    private static final ThreadLocal<ArrayDeque<PooledResponse>> POOLS = ThreadLocal.withInitial(ArrayDeque::new);

    private final ArrayDeque<PooledResponse> pool;
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(4096);

    private PooledResponse(final ArrayDeque<PooledResponse> pool)
    {
        this.pool = pool;
    }

    /** @return a response of this thread's pool; on an exchange's I/O thread. */
    public static PooledResponse acquire()
    {
        final ArrayDeque<PooledResponse> pool = POOLS.get();
        final PooledResponse response = pool.pollFirst();
        return response != null ? response : new PooledResponse(pool);
    }

    /** @return the buffer to write the body into, from index 0. */
    public ExpandableArrayBuffer buffer()
    {
        return buffer;
    }

    /**
     * Sends the first {@code length} bytes of the buffer as a JSON answer and ends the exchange; the response goes
     * back to its pool when the bytes are out. On the exchange's I/O thread; the response is not used after.
     */
    public void sendJson(final HttpServerExchange exchange, final int status, final int length)
    {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.setResponseContentLength(length);
        exchange.getResponseSender().send(ByteBuffer.wrap(buffer.byteArray(), 0, length), this);
    }

    @Override
    public void onComplete(final HttpServerExchange exchange, final Sender sender)
    {
        release();
        exchange.endExchange();
    }

    @Override
    public void onException(final HttpServerExchange exchange, final Sender sender, final IOException exception)
    {
        release();
        try
        {
            exchange.endExchange();
        }
        finally
        {
            IoUtils.safeClose(exchange.getConnection());
        }
    }

    private void release()
    {
        if (pool.size() < MAX_POOLED_PER_THREAD && buffer.capacity() <= MAX_KEPT_BYTES)
        {
            pool.addFirst(this);
        }
    }
}
