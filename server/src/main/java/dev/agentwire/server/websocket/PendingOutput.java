package dev.agentwire.server.websocket;

import org.xnio.conduits.ConduitStreamSinkChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A connection's output as far as its socket has taken it: the bytes the socket did not take yet (the only buffer a
 * connection ever holds, and only while they wait), and how many bytes were handed to the socket in all, so a
 * connection knows where in its output the socket is. I/O thread only.
 */
final class PendingOutput
{
    private byte[] bytes;
    private int length;
    private long handed;

    /** @return true while nothing waits for the socket. */
    boolean isEmpty()
    {
        return bytes == null;
    }

    /** @return bytes waiting for the socket; once {@link #release}d, those the socket never took. */
    int length()
    {
        return length;
    }

    /** @return every byte handed over since the connection opened: written, or kept here. */
    long handed()
    {
        return handed;
    }

    /** {@code count} more bytes were handed over (before any of them is kept). */
    void handed(final int count)
    {
        handed += count;
    }

    /** Keeps what the socket did not take of {@code out}, after what already waits. */
    void keep(final ByteBuffer out)
    {
        final int more = out.remaining();
        if (bytes == null)
        {
            bytes = new byte[Math.max(1024, more)];
            length = 0;
        }
        else if (bytes.length - length < more)
        {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
        out.get(bytes, length, more);
        length += more;
    }

    /**
     * Writes what waits.
     *
     * @return true when the socket took it all (the buffer is let go).
     */
    boolean writeTo(final ConduitStreamSinkChannel sink) throws IOException
    {
        final ByteBuffer out = ByteBuffer.wrap(bytes, 0, length);
        sink.write(out);
        if (out.hasRemaining())
        {
            final int left = out.remaining();
            System.arraycopy(bytes, out.position(), bytes, 0, left);
            length = left;
            return false;
        }
        bytes = null;
        length = 0;
        return true;
    }

    /** The connection ended: the buffer is let go, its length kept (what the socket never took). */
    void release()
    {
        bytes = null;
    }
}
