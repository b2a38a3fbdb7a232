package dev.agentwire.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The raw floor: the physical limit of this machine for the comparison's work. One thread, one selector, plain
 * NIO: a minimal HTTP/1.1 server for the same surface as AgentWire ({@code GET /v1/ws?user=U}, {@code POST
 * /v1/events} with a JSON array, {@code PUT /v1/rooms/{room}/members/{user}}) that finds each event's target and
 * {@code data} with a byte scan (no JSON parsing), writes {@code {"type":..,"seq":N,"data":..}} with a WebSocket
 * header into one reused buffer and hands it to the socket: one write per delivery, nothing else. No auth, no
 * history, no limits, no resume: what any real server costs beyond this is its own.
 * <p>
 * Run: {@code java -cp benchmarks.jar dev.agentwire.bench.RawFloorServer PORT}
 */
public final class RawFloorServer implements AutoCloseable
{
    private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};
    private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /** One TCP connection: HTTP until it upgrades, then a WebSocket that only receives frames from us. */
    private static final class Connection
    {
        final SocketChannel channel;
        ByteBuffer in = ByteBuffer.allocate(8 * 1024);
        ByteBuffer pending;
        String user;
        long seq;

        Connection(final SocketChannel channel)
        {
            this.channel = channel;
        }
    }

    private final Selector selector;
    private final ServerSocketChannel server;
    private final Map<String, List<Connection>> sockets = new HashMap<>();
    private final Map<String, List<String>> rooms = new HashMap<>();
    private final ByteBuffer frame = ByteBuffer.allocateDirect(1 << 20);
    /** Where WebSocket connections' reads go: they keep no buffer of their own. */
    private final ByteBuffer discard = ByteBuffer.allocateDirect(64 * 1024);
    private final MessageDigest sha1;
    private final Thread thread;
    private volatile boolean running = true;

    public RawFloorServer(final String host, final int port) throws IOException
    {
        selector = Selector.open();
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(host, port), 4096);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        try
        {
            sha1 = MessageDigest.getInstance("SHA-1");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
        thread = new Thread(this::run, "raw-floor");
        thread.start();
    }

    public int port() throws IOException
    {
        return ((InetSocketAddress)server.getLocalAddress()).getPort();
    }

    public static void main(final String[] args) throws Exception
    {
        final RawFloorServer floor = new RawFloorServer("127.0.0.1", args.length > 0 ? Integer.parseInt(args[0]) : 8093);
        System.out.println("raw floor listening on " + floor.port());
        Runtime.getRuntime().addShutdownHook(new Thread(floor::close));
        floor.thread.join();
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
                    if (!key.isValid())
                    {
                        continue;
                    }
                    if (key.isAcceptable())
                    {
                        accept();
                        continue;
                    }
                    final Connection connection = (Connection)key.attachment();
                    try
                    {
                        if (key.isWritable())
                        {
                            flushPending(connection, key);
                        }
                        if (key.isValid() && key.isReadable())
                        {
                            read(connection, key);
                        }
                    }
                    catch (final IOException ex)
                    {
                        close(connection, key);
                    }
                }
            }
            catch (final IOException ex)
            {
                if (running)
                {
                    ex.printStackTrace();
                }
            }
        }
    }

    private void accept() throws IOException
    {
        SocketChannel channel;
        while ((channel = server.accept()) != null)
        {
            channel.configureBlocking(false);
            channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            channel.register(selector, SelectionKey.OP_READ, new Connection(channel));
        }
    }

    private void read(final Connection connection, final SelectionKey key) throws IOException
    {
        if (connection.user != null)
        {
            // A WebSocket: the load tool sends nothing that needs an answer but pongs; discard what came.
            discard.clear();
            if (connection.channel.read(discard) < 0)
            {
                close(connection, key);
            }
            return;
        }
        if (!connection.in.hasRemaining())
        {
            final ByteBuffer grown = ByteBuffer.allocate(connection.in.capacity() * 2);
            connection.in.flip();
            grown.put(connection.in);
            connection.in = grown;
        }
        final int n = connection.channel.read(connection.in);
        if (n < 0)
        {
            close(connection, key);
            return;
        }
        while (connection.user == null && handleRequest(connection, key))
        {
            // keep-alive: several requests may have arrived
        }
    }

    /** @return true when a whole request was handled and more bytes may hold another. */
    private boolean handleRequest(final Connection connection, final SelectionKey key) throws IOException
    {
        final ByteBuffer in = connection.in;
        final int headerEnd = RawScan.indexOf(in.array(), 0, in.position(), HEADER_END);
        if (headerEnd < 0)
        {
            return false;
        }
        final String head = new String(in.array(), 0, headerEnd, StandardCharsets.ISO_8859_1);
        final int bodyStart = headerEnd + 4;
        final int contentLength = (int)RawScan.headerValue(head, "content-length", 0);
        if (in.position() < bodyStart + contentLength)
        {
            return false;
        }
        final String requestLine = head.substring(0, head.indexOf('\r'));
        final String[] parts = requestLine.split(" ");
        final String method = parts[0];
        final String target = parts[1];
        if ("POST".equals(method) && target.startsWith("/v1/events"))
        {
            final int accepted = publish(in.array(), bodyStart, bodyStart + contentLength);
            respond(connection, "202 Accepted", "{\"accepted\":" + accepted + "}");
        }
        else if ("PUT".equals(method) && target.startsWith("/v1/rooms/"))
        {
            final String[] path = target.split("/");
            rooms.computeIfAbsent(path[3], r -> new ArrayList<>()).add(path[5]);
            respond(connection, "204 No Content", null);
        }
        else if ("GET".equals(method) && target.startsWith("/v1/ws"))
        {
            upgrade(connection, head, target);
            connection.in = null;
            return false;
        }
        else
        {
            respond(connection, "404 Not Found", "");
        }
        final int consumed = bodyStart + contentLength;
        final int left = in.position() - consumed;
        System.arraycopy(in.array(), consumed, in.array(), 0, left);
        in.position(left);
        return left > 0;
    }

    private void upgrade(final Connection connection, final String head, final String target) throws IOException
    {
        final int at = target.indexOf("user=");
        int end = target.indexOf('&', at);
        end = end < 0 ? target.length() : end;
        connection.user = at < 0 ? "anonymous" : target.substring(at + 5, end);
        final String key = RawScan.headerText(head, "sec-websocket-key");
        final String accept = Base64.getEncoder().encodeToString(
            sha1.digest((key + WS_GUID).getBytes(StandardCharsets.ISO_8859_1)));
        writeAll(connection, ByteBuffer.wrap(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
            "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1)));
        sockets.computeIfAbsent(connection.user, u -> new ArrayList<>(1)).add(connection);
        final byte[] welcome = ("{\"type\":\"welcome\",\"user\":\"" + connection.user + "\"}")
            .getBytes(StandardCharsets.UTF_8);
        frame.clear();
        frame.put((byte)0x81).put((byte)welcome.length).put(welcome).flip();
        writeAll(connection, frame);
    }

    /** Scans a JSON array of events: target and {@code data} found by bytes, one frame per recipient. */
    private int publish(final byte[] body, final int from, final int to) throws IOException
    {
        int count = 0;
        int i = from;
        while (i < to)
        {
            final int start = RawScan.indexOf(body, i, to, '{');
            if (start < 0)
            {
                break;
            }
            final int end = RawScan.matchingBrace(body, start, to);
            final String user = RawScan.stringField(body, start, end, "\"user\":\"");
            final String room = RawScan.stringField(body, start, end, "\"room\":\"");
            final String type = RawScan.stringField(body, start, end, "\"type\":\"");
            final int dataAt = RawScan.indexOf(body, start, end, "\"data\":".getBytes(StandardCharsets.US_ASCII));
            final int dataStart = dataAt + 7;
            final int dataEnd = body[dataStart] == '{' ? RawScan.matchingBrace(body, dataStart, end) + 1 : end;
            if (user != null)
            {
                deliver(user, type, room, body, dataStart, dataEnd);
            }
            else if (room != null)
            {
                for (final String member : rooms.getOrDefault(room, List.of()))
                {
                    deliver(member, type, room, body, dataStart, dataEnd);
                }
            }
            else
            {
                for (final String member : new ArrayList<>(sockets.keySet()))
                {
                    deliver(member, type, null, body, dataStart, dataEnd);
                }
            }
            count++;
            i = end + 1;
        }
        return count;
    }

    private void deliver(
        final String user, final String type, final String room, final byte[] body, final int dataStart, final int dataEnd)
        throws IOException
    {
        final List<Connection> targets = sockets.get(user);
        if (targets == null)
        {
            return;
        }
        for (final Connection connection : targets)
        {
            final long seq = ++connection.seq;
            final String head = "{\"type\":\"" + type + "\",\"seq\":" + seq +
                (room == null ? "" : ",\"room\":\"" + room + "\"") + ",\"data\":";
            final int length = head.length() + (dataEnd - dataStart) + 1;
            frame.clear();
            frame.put((byte)0x81);
            if (length < 126)
            {
                frame.put((byte)length);
            }
            else
            {
                frame.put((byte)126).putShort((short)length);
            }
            for (int c = 0; c < head.length(); c++)
            {
                frame.put((byte)head.charAt(c));
            }
            frame.put(body, dataStart, dataEnd - dataStart).put((byte)'}').flip();
            writeAll(connection, frame);
        }
    }

    private void respond(final Connection connection, final String status, final String body) throws IOException
    {
        final byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        final String head = "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
            bytes.length + "\r\n\r\n";
        final byte[] headBytes = head.getBytes(StandardCharsets.ISO_8859_1);
        final ByteBuffer answer = ByteBuffer.allocate(headBytes.length + bytes.length).put(headBytes).put(bytes);
        answer.flip();
        writeAll(connection, answer);
    }

    /** One write; whatever the socket does not take waits in the connection's pending buffer. */
    private void writeAll(final Connection connection, final ByteBuffer bytes) throws IOException
    {
        if (connection.pending == null)
        {
            connection.channel.write(bytes);
            if (!bytes.hasRemaining())
            {
                return;
            }
            connection.pending = ByteBuffer.allocate(Math.max(64 * 1024, bytes.remaining()));
            connection.channel.keyFor(selector).interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        }
        if (connection.pending.remaining() < bytes.remaining())
        {
            final ByteBuffer grown = ByteBuffer.allocate(
                Math.max(connection.pending.capacity() * 2, connection.pending.position() + bytes.remaining()));
            connection.pending.flip();
            grown.put(connection.pending);
            connection.pending = grown;
        }
        connection.pending.put(bytes);
    }

    private void flushPending(final Connection connection, final SelectionKey key) throws IOException
    {
        if (connection.pending == null)
        {
            key.interestOps(SelectionKey.OP_READ);
            return;
        }
        connection.pending.flip();
        connection.channel.write(connection.pending);
        if (connection.pending.hasRemaining())
        {
            connection.pending.compact();
            return;
        }
        connection.pending = null;
        key.interestOps(SelectionKey.OP_READ);
    }

    private void close(final Connection connection, final SelectionKey key)
    {
        key.cancel();
        try
        {
            connection.channel.close();
        }
        catch (final IOException ignored)
        {
            // closing anyway
        }
        if (connection.user != null)
        {
            final List<Connection> list = sockets.get(connection.user);
            if (list != null)
            {
                list.remove(connection);
                if (list.isEmpty())
                {
                    sockets.remove(connection.user);
                }
            }
        }
    }

    @Override
    public void close()
    {
        running = false;
        selector.wakeup();
        try
        {
            thread.join(2_000);
            server.close();
            selector.close();
        }
        catch (final IOException | InterruptedException ignored)
        {
            // stopping
        }
    }
}
