package dev.agentwire.server.websocket;

import org.agrona.concurrent.UnsafeBuffer;
import org.xnio.XnioIoThread;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What each XNIO I/O thread keeps for the WebSocket connections it serves: one buffer reads land in and one that
 * frames are assembled in before a write, both direct, so that a connection keeps no buffer of its own unless the
 * socket did not take everything. One per server.
 */
public final class WebSocketThreads
{
    /** One I/O thread's buffers; used on that thread only. */
    static final class Buffers
    {
        final ByteBuffer read;
        final ByteBuffer write;
        final UnsafeBuffer writeView;

        Buffers(final int readBytes, final int writeBytes)
        {
            read = ByteBuffer.allocateDirect(readBytes);
            write = ByteBuffer.allocateDirect(writeBytes);
            writeView = new UnsafeBuffer(write);
        }
    }

    private final int readBytes;
    private final int writeBytes;
    private final ConcurrentHashMap<XnioIoThread, Buffers> threads = new ConcurrentHashMap<>();

    /**
     * @param writeBytes the write buffer: at least the largest frame the server sends (the largest event's frame).
     */
    public WebSocketThreads(final int writeBytes)
    {
        this.readBytes = 64 * 1024;
        this.writeBytes = writeBytes;
    }

    Buffers of(final XnioIoThread thread)
    {
        return threads.computeIfAbsent(thread, t -> new Buffers(readBytes, writeBytes));
    }

    /** @return the write buffer's size: the most one drain assembles. */
    public int writeBytes()
    {
        return writeBytes;
    }
}
