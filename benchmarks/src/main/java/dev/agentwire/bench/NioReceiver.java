package dev.agentwire.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The load tool's receiving side: every connection on one selector thread, WebSocket frames read straight from
 * the bytes (no UTF-8 decoding, no per-frame futures), so that the receiver is not what limits a measurement.
 * It does the client handshake, answers pings, speaks just enough Engine.IO for Socket.IO, and hands each text
 * frame's bytes to a {@link FrameListener}.
 */
final class NioReceiver implements AutoCloseable
{
    /** Told about every text frame, on the selector thread. */
    interface FrameListener
    {
        void onText(ByteBuffer frame, int from, int to, long nowNs, Connection connection);
    }

    /** One client connection. */
    static final class Connection
    {
        final SocketChannel channel;
        final byte[] request;
        /** Which of the tool's users this connection is (load-INDEX). */
        final int index;
        ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        boolean upgraded;
        boolean ready;
        boolean closed;
        /** The highest seq seen on this connection (0: none yet). */
        long lastSeq;

        Connection(final SocketChannel channel, final byte[] request, final int index)
        {
            this.channel = channel;
            this.request = request;
            this.index = index;
        }
    }

    private static final byte[] MASK = {0x11, 0x22, 0x33, 0x44};

    private final Selector selector;
    private final FrameListener listener;
    private final List<Connection> connections = new ArrayList<>();
    private final AtomicInteger upgraded = new AtomicInteger();
    private final Thread thread;
    private volatile boolean running = true;

    NioReceiver(final FrameListener listener) throws IOException
    {
        this.selector = Selector.open();
        this.listener = listener;
        this.thread = new Thread(this::run, "load-receiver");
        this.thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    /** Opens a connection and sends the upgrade request once connected. Call before {@link #start()}. */
    void connect(final URI uri, final int index) throws IOException
    {
        final SocketChannel channel = SocketChannel.open();
        channel.configureBlocking(false);
        final String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        final byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort() +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
            "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        final Connection connection = new Connection(channel, request, index);
        connections.add(connection);
        channel.connect(new InetSocketAddress(uri.getHost(), uri.getPort()));
        channel.register(selector, SelectionKey.OP_CONNECT, connection);
    }

    int upgradedCount()
    {
        return upgraded.get();
    }

    List<Connection> connections()
    {
        return connections;
    }

    /** Sends a masked text frame (clients must mask). Selector thread only. */
    static void sendText(final Connection connection, final String text) throws IOException
    {
        final byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        final ByteBuffer frame = ByteBuffer.allocate(2 + 4 + payload.length);
        frame.put((byte)0x81).put((byte)(0x80 | payload.length)).put(MASK);
        for (int i = 0; i < payload.length; i++)
        {
            frame.put((byte)(payload[i] ^ MASK[i & 3]));
        }
        frame.flip();
        while (frame.hasRemaining())
        {
            connection.channel.write(frame);
        }
    }

    private static void sendPong(final Connection connection, final ByteBuffer data, final int from, final int to)
        throws IOException
    {
        final int length = to - from;
        final ByteBuffer frame = ByteBuffer.allocate(2 + 4 + length);
        frame.put((byte)0x8A).put((byte)(0x80 | length)).put(MASK);
        for (int i = 0; i < length; i++)
        {
            frame.put((byte)(data.get(from + i) ^ MASK[i & 3]));
        }
        frame.flip();
        while (frame.hasRemaining())
        {
            connection.channel.write(frame);
        }
    }

    private void run()
    {
        while (running)
        {
            try
            {
                selector.select(100);
                final Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext())
                {
                    final SelectionKey key = keys.next();
                    keys.remove();
                    final Connection connection = (Connection)key.attachment();
                    try
                    {
                        if (key.isConnectable())
                        {
                            connection.channel.finishConnect();
                            connection.channel.write(ByteBuffer.wrap(connection.request));
                            key.interestOps(SelectionKey.OP_READ);
                        }
                        else if (key.isReadable())
                        {
                            read(connection, System.nanoTime());
                        }
                    }
                    catch (final IOException ex)
                    {
                        connection.closed = true;
                        key.cancel();
                    }
                }
            }
            catch (final IOException ex)
            {
                return;
            }
        }
    }

    private void read(final Connection connection, final long nowNs) throws IOException
    {
        final int n = connection.channel.read(connection.in);
        if (n < 0)
        {
            connection.closed = true;
            connection.channel.close();
            return;
        }
        final ByteBuffer in = connection.in;
        in.flip();
        if (!connection.upgraded)
        {
            final int end = indexOfHeadersEnd(in);
            if (end < 0)
            {
                in.compact();
                return;
            }
            if (in.get(9) != '1' || in.get(10) != '0' || in.get(11) != '1')
            {
                throw new IOException("upgrade refused");
            }
            connection.upgraded = true;
            upgraded.incrementAndGet();
            in.position(end);
        }
        while (in.remaining() >= 2)
        {
            final int start = in.position();
            final int b0 = in.get(start) & 0xFF;
            int length = in.get(start + 1) & 0x7F;
            int header = 2;
            if (length == 126)
            {
                if (in.remaining() < 4)
                {
                    break;
                }
                length = in.getShort(start + 2) & 0xFFFF;
                header = 4;
            }
            else if (length == 127)
            {
                if (in.remaining() < 10)
                {
                    break;
                }
                length = (int)in.getLong(start + 2);
                header = 10;
            }
            if (in.remaining() < header + length)
            {
                if (header + length > in.capacity())
                {
                    final ByteBuffer grown = ByteBuffer.allocate(Integer.highestOneBit(header + length) << 1);
                    grown.put(in);
                    connection.in = grown;
                    return;
                }
                break;
            }
            final int from = start + header;
            final int to = from + length;
            switch (b0 & 0x0F)
            {
                case 0x0:
                case 0x1:
                    listener.onText(in, from, to, nowNs, connection);
                    break;
                case 0x9:
                    sendPong(connection, in, from, to);
                    break;
                case 0x8:
                    connection.closed = true;
                    break;
                default:
                    break;
            }
            in.position(to);
        }
        in.compact();
    }

    private static int indexOfHeadersEnd(final ByteBuffer in)
    {
        for (int i = in.position(); i + 3 < in.limit(); i++)
        {
            if (in.get(i) == '\r' && in.get(i + 1) == '\n' && in.get(i + 2) == '\r' && in.get(i + 3) == '\n')
            {
                return i + 4;
            }
        }
        return -1;
    }

    @Override
    public void close()
    {
        running = false;
        for (final Connection connection : connections)
        {
            try
            {
                connection.channel.close();
            }
            catch (final IOException ignored)
            {
                // closing anyway
            }
        }
        try
        {
            thread.join(2_000);
            selector.close();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final IOException ignored)
        {
            // closing anyway
        }
    }
}
