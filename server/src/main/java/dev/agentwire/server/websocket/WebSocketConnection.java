package dev.agentwire.server.websocket;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One upgraded WebSocket connection, owned from the first byte after the handshake: frames are read by a
 * {@link FrameReader} and written by this class, with XNIO's channels of the raw connection. Everything runs on
 * the connection's I/O thread.
 * <p>
 * Writing: a subclass assembles frames in its I/O thread's write buffer ({@link #writeBuffer()}) and hands them
 * over with {@link #flush(int)}: one write for everything assembled. What the socket does not take is kept in this
 * connection's pending bytes (the only buffer a connection ever holds) and written first when the socket is
 * writable again, after which {@link #onWritable()} lets the subclass go on. Control frames (pong, close) take the
 * same path, so frames never interleave.
 * <p>
 * Closing (RFC 6455 section 7): the server sends its close and ends the connection when the client answers, or
 * after {@link #CLOSE_TIMEOUT_MS}; a client's close is answered with the same code and the connection ends as soon
 * as the answer is written, or after {@link #CLOSE_TIMEOUT_MS} when output is still pending for a client that does
 * not read. A protocol violation by the client is answered with the code the RFC gives (1002, 1007, 1009); what the
 * client sends after it cannot be framed and is dropped. After any close of the server's the socket ends at the
 * client's close or end of stream, after {@link #MAX_READ_AFTER_CLOSE_BYTES} more read, or after
 * {@link #CLOSE_TIMEOUT_MS}, whichever comes first.
 * <p>
 * Pings: each is answered with a pong while nothing is pending; while output waits for the socket, only the most
 * recent ping is remembered and answered once the socket takes the rest (RFC 6455 section 5.5.3 allows it), so a
 * client that pings and never reads cannot grow the pending bytes.
 */
public abstract class WebSocketConnection implements FrameReader.Handler
{
    /** Longest the server waits for the client's answer to its close before it closes the socket. */
    public static final long CLOSE_TIMEOUT_MS = 2_000;

    private static final int MAX_CLOSE_REASON_BYTES = 123;

    /**
     * Most bytes read after the server's close while it waits for the client's; past it the socket ends at once (a
     * client still sending that much is not answering the close).
     */
    static final int MAX_READ_AFTER_CLOSE_BYTES = 64 * 1024;

    /** The raw connection. */
    protected final StreamConnection connection;
    /** The connection's I/O thread: everything here runs on it. */
    protected final XnioIoThread ioThread;
    private final ConduitStreamSourceChannel source;
    private final ConduitStreamSinkChannel sink;
    private final WebSocketThreads.Buffers buffers;
    private final FrameReader reader;
    private final PendingOutput pending = new PendingOutput();
    private boolean closeSent;
    private boolean ended;
    private boolean closeAfterFlush;
    private boolean readsPaused;
    // After our close: the bytes read since (bounded), and whether the stream can no longer be framed.
    private long readAfterClose;
    private boolean unframed;
    // The most recent ping's payload, owed a pong once the pending bytes are written (allocated on first need).
    private UnsafeBuffer owedPong;
    private int owedPongLength = -1;

    /**
     * @param maxMessageBytes the largest message the client may send (1009 above).
     */
    protected WebSocketConnection(
        final StreamConnection connection, final WebSocketThreads threads, final int maxMessageBytes)
    {
        this.connection = connection;
        this.ioThread = connection.getIoThread();
        this.source = connection.getSourceChannel();
        this.sink = connection.getSinkChannel();
        this.buffers = threads.of(ioThread);
        this.reader = new FrameReader(maxMessageBytes);
    }

    /** Starts reading and writing; call once, on the I/O thread (from the upgrade listener). */
    protected final void startIo()
    {
        connection.setCloseListener(ch -> ended());
        source.getReadSetter().set(ch -> onReadable());
        sink.getWriteSetter().set(ch -> onWritableEvent());
        source.resumeReads();
    }

    // Reading.

    private void onReadable()
    {
        final ByteBuffer in = buffers.read;
        // A bounded number of reads per wake-up, so one busy client cannot starve the thread's others.
        for (int reads = 0; reads < 16 && !ended && !readsPaused; reads++)
        {
            in.clear();
            final int n;
            try
            {
                n = source.read(in);
            }
            catch (final IOException ex)
            {
                abort(AbortCause.READ_FAILED);
                return;
            }
            if (n < 0)
            {
                abort(AbortCause.PEER_GONE);
                return;
            }
            if (n == 0)
            {
                return;
            }
            if (closeSent)
            {
                // After our close only the client's close (or its end of stream) is awaited: what else it sends is
                // bounded, so a flood after a 4002 or a violation costs at most MAX_READ_AFTER_CLOSE_BYTES.
                readAfterClose += n;
                if (readAfterClose > MAX_READ_AFTER_CLOSE_BYTES)
                {
                    IoUtils.safeClose(connection);
                    return;
                }
                if (unframed)
                {
                    // The stream cannot be framed again (a violation, or a frame its handler stopped): dropped.
                    continue;
                }
            }
            in.flip();
            final int status = reader.read(in, this);
            if (status > 0)
            {
                onProtocolViolation(status);
                sendClose(status, WebSocketFrames.reason(status));
                unframed = true;
                continue;
            }
            if (status == FrameReader.STOPPED)
            {
                // The reader stopped inside a frame and this read's rest is gone: nothing after it can be framed.
                unframed = true;
                return;
            }
            if (closeSent)
            {
                return;
            }
        }
    }

    @Override
    public final void onPing(final DirectBuffer data, final int offset, final int length)
    {
        if (closeSent)
        {
            return;
        }
        if (!pending.isEmpty())
        {
            // The client is not reading what it was sent: keep only the latest ping's answer, not one per ping.
            if (owedPong == null)
            {
                owedPong = new UnsafeBuffer(new byte[WebSocketFrames.MAX_CONTROL_PAYLOAD]);
            }
            owedPong.putBytes(0, data, offset, length);
            owedPongLength = length;
            return;
        }
        writePong(data, offset, length);
    }

    private void writePong(final DirectBuffer data, final int offset, final int length)
    {
        final UnsafeBuffer out = writeBuffer();
        final int header = WebSocketFrames.putHeader(out, 0, WebSocketFrames.PONG, length);
        out.putBytes(header, data, offset, length);
        flush(header + length);
    }

    @Override
    public final void onClose(final int code, final String reason)
    {
        onPeerClose(code, reason);
        if (!closeSent)
        {
            // Answer with the client's code (none when it gave none), then end: the server closes the socket.
            closeSent = true;
            final UnsafeBuffer out = writeBuffer();
            int length = 0;
            if (code != WebSocketFrames.NO_STATUS)
            {
                length = WebSocketFrames.putHeader(out, 0, WebSocketFrames.CLOSE, 2);
                out.putShort(length, (short)code, java.nio.ByteOrder.BIG_ENDIAN);
                length += 2;
            }
            else
            {
                length = WebSocketFrames.putHeader(out, 0, WebSocketFrames.CLOSE, 0);
            }
            flush(length);
        }
        closeWhenFlushed();
    }

    // Writing.

    /** @return the I/O thread's buffer to assemble frames in, from offset 0, before {@link #flush(int)}. */
    protected final UnsafeBuffer writeBuffer()
    {
        return buffers.writeView;
    }

    /** @return the write buffer's size. */
    protected final int writeBufferCapacity()
    {
        return buffers.writeView.capacity();
    }

    /** @return true while bytes wait for the socket: assemble nothing more until {@link #onWritable()}. */
    protected final boolean hasPending()
    {
        return !pending.isEmpty();
    }

    /**
     * Writes {@code length} bytes assembled in a buffer of the caller's own (larger than the I/O thread's: one
     * message of many frames), through the write buffer in buffer-sized pieces; the pending bytes take what the
     * socket does not. I/O thread.
     */
    protected final void flushFrom(final DirectBuffer src, final int length)
    {
        final UnsafeBuffer out = writeBuffer();
        final int capacity = writeBufferCapacity();
        for (int at = 0; at < length; at += capacity)
        {
            final int piece = Math.min(capacity, length - at);
            out.putBytes(0, src, at, piece);
            flush(piece);
        }
    }

    /**
     * Writes the first {@code length} bytes of {@link #writeBuffer()}, after any pending bytes.
     *
     * @return true when the socket took them all.
     */
    protected final boolean flush(final int length)
    {
        if (ended || length == 0)
        {
            return pending.isEmpty();
        }
        final ByteBuffer out = buffers.write;
        out.clear().limit(length);
        if (pending.isEmpty())
        {
            try
            {
                sink.write(out);
            }
            catch (final IOException ex)
            {
                abort(AbortCause.WRITE_FAILED); // a write that throws took nothing: not counted as handed over
                return false;
            }
        }
        pending.handed(length);
        if (!out.hasRemaining())
        {
            return true;
        }
        pending.keep(out);
        sink.resumeWrites();
        return false;
    }

    private void onWritableEvent()
    {
        if (!pending.isEmpty())
        {
            try
            {
                if (!pending.writeTo(sink))
                {
                    return;
                }
            }
            catch (final IOException ex)
            {
                abort(AbortCause.WRITE_FAILED);
                return;
            }
        }
        sink.suspendWrites();
        if (closeAfterFlush)
        {
            IoUtils.safeClose(connection);
            return;
        }
        if (owedPongLength >= 0 && !closeSent)
        {
            final int length = owedPongLength;
            owedPongLength = -1;
            writePong(owedPong, 0, length);
            if (!pending.isEmpty())
            {
                return;
            }
        }
        onWritable();
    }

    /** The pending bytes went out: the subclass may assemble and flush more. */
    protected abstract void onWritable();

    /**
     * @return bytes written to nobody yet (for bounds and metrics); from {@link #onEnded()} on, the last of
     * {@link #bytesFramed()} that the socket never took.
     */
    protected final int pendingBytes()
    {
        return pending.length();
    }

    /** @return every byte {@link #flush}ed since the connection opened, the socket's close included. */
    protected final long bytesFramed()
    {
        return pending.handed();
    }

    // Closing.

    /**
     * Sends the server's close, then ends the connection once the client answers, or after
     * {@link #CLOSE_TIMEOUT_MS}. Idempotent.
     */
    protected final void sendClose(final int code, final String reason)
    {
        if (closeSent || ended)
        {
            return;
        }
        closeSent = true;
        final byte[] text = truncate(reason.getBytes(StandardCharsets.UTF_8));
        final UnsafeBuffer out = writeBuffer();
        final int header = WebSocketFrames.putHeader(out, 0, WebSocketFrames.CLOSE, 2 + text.length);
        out.putShort(header, (short)code, java.nio.ByteOrder.BIG_ENDIAN);
        out.putBytes(header + 2, text);
        flush(header + 2 + text.length);
        // A client that stopped reading never lets the close frame out: do not wait for it forever.
        closeAfter(CLOSE_TIMEOUT_MS);
    }

    /** @return true once this side sent its close: nothing but the close handshake follows. */
    protected final boolean isClosing()
    {
        return closeSent || ended;
    }

    /** Ends the connection now, without a close handshake (the socket is unusable). */
    protected final void closeNow()
    {
        IoUtils.safeClose(connection);
    }

    private void closeWhenFlushed()
    {
        if (pending.isEmpty())
        {
            IoUtils.safeClose(connection);
            return;
        }
        closeAfterFlush = true;
        // The client closed but does not read what is still pending (its answering close among it): the socket
        // ends when the bytes are out, or after the close timeout, never later (the client's socket is counted
        // against its user and address until then).
        closeAfter(CLOSE_TIMEOUT_MS);
    }

    private void closeAfter(final long timeoutMs)
    {
        try
        {
            ioThread.executeAfter(() -> IoUtils.safeClose(connection), timeoutMs, TimeUnit.MILLISECONDS);
        }
        catch (final RejectedExecutionException stopping)
        {
            IoUtils.safeClose(connection);
        }
    }

    private void abort(final AbortCause cause)
    {
        if (!ended)
        {
            onAbort(cause);
        }
        IoUtils.safeClose(connection);
    }

    private void ended()
    {
        if (ended)
        {
            return;
        }
        ended = true;
        pending.release();
        owedPong = null;
        owedPongLength = -1; // a writable event after the end owes nothing (it used to write from the freed buffer)
        onEnded();
    }

    /**
     * Stops reading the client (backpressure: its answers are not being read). Frames already read are handled.
     * I/O thread.
     */
    protected final void pauseReads()
    {
        if (!readsPaused && !ended)
        {
            readsPaused = true;
            source.suspendReads();
        }
    }

    /** Reads the client again after {@link #pauseReads()}. I/O thread. */
    protected final void resumeReads()
    {
        if (readsPaused && !ended && !closeSent)
        {
            readsPaused = false;
            source.resumeReads();
        }
    }

    /** @return true while {@link #pauseReads()} holds. */
    protected final boolean readsPaused()
    {
        return readsPaused;
    }

    /** Runs a task on this connection's I/O thread (from any thread); once the thread is gone, ends the connection. */
    protected final void onIoThread(final Runnable task)
    {
        try
        {
            ioThread.execute(task);
        }
        catch (final RejectedExecutionException stopping)
        {
            IoUtils.safeClose(connection);
        }
    }

    /** The client closed (its close frame, with its code). The connection ends next. */
    protected abstract void onPeerClose(int code, String reason);

    /** The client broke the protocol; the server's close with this code follows. */
    protected abstract void onProtocolViolation(int code);

    /** The connection ended without a close handshake. */
    protected abstract void onAbort(AbortCause cause);

    /** The socket is closed: release everything. Called once. */
    protected abstract void onEnded();

    private static byte[] truncate(final byte[] reason)
    {
        return reason.length <= MAX_CLOSE_REASON_BYTES ? reason
            : java.util.Arrays.copyOf(reason, MAX_CLOSE_REASON_BYTES);
    }
}
