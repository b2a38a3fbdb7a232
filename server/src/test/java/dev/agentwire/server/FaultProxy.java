package dev.agentwire.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy between clients and the server, on loopback, that the fault suite makes into a bad network: it delays
 * every chunk it forwards (latency), can hold all traffic for a while (a stall: a route flap), and can cut every
 * connection through it at once, with a reset (a dead link). The kernel's netem would also drop packets; it is not
 * in every kernel (not in this machine's), and TCP hides packet loss as latency anyway, which the delay stands in
 * for. Closed by its test.
 */
final class FaultProxy implements AutoCloseable
{
    private final ServerSocket listener;
    private volatile int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile long delayMs;
    private volatile long stalledUntilMs;
    private volatile boolean running = true;

    FaultProxy(final int targetPort) throws IOException
    {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "fault-proxy");
        this.acceptor.setDaemon(true);
        this.acceptor.start();
    }

    int port()
    {
        return listener.getLocalPort();
    }

    /** New connections go to another port from now on (as a DNS name moved to another server); open ones stay. */
    void retarget(final int port)
    {
        targetPort = port;
    }

    /** Every chunk forwarded waits this long first, each way. */
    void delay(final long ms)
    {
        delayMs = ms;
    }

    /** Nothing is forwarded for this long. */
    void stall(final long ms)
    {
        stalledUntilMs = System.currentTimeMillis() + ms;
    }

    /** Resets every connection through the proxy (both sides see the link die). */
    void cut()
    {
        for (final Socket socket : sockets)
        {
            try
            {
                socket.setSoLinger(true, 0);
                socket.close();
            }
            catch (final IOException ignored)
            {
                // already gone
            }
        }
        sockets.clear();
    }

    private void accept()
    {
        while (running)
        {
            try
            {
                final Socket client = listener.accept();
                final Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                pump(client, server);
                pump(server, client);
            }
            catch (final IOException ex)
            {
                if (!running)
                {
                    return;
                }
            }
        }
    }

    private void pump(final Socket from, final Socket to)
    {
        final Thread thread = new Thread(() ->
        {
            final byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream())
            {
                int n;
                while ((n = in.read(buffer)) >= 0)
                {
                    final long delay = delayMs;
                    if (delay > 0)
                    {
                        Thread.sleep(delay);
                    }
                    while (System.currentTimeMillis() < stalledUntilMs)
                    {
                        Thread.sleep(10);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
            catch (final IOException | InterruptedException ended)
            {
                // the link is gone: so is its other direction
            }
            finally
            {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }, "fault-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(final Socket socket)
    {
        try
        {
            socket.close();
        }
        catch (final IOException ignored)
        {
            // already closed
        }
    }

    @Override
    public void close() throws IOException
    {
        running = false;
        listener.close();
        cut();
    }
}
