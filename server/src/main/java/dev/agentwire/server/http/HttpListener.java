package dev.agentwire.server.http;

import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The server's one HTTP listener: Undertow's HTTP/1.1 on an XNIO worker, set up as {@code Undertow.start()} would,
 * with a {@link ConnectionGate} in front of Undertow's open listener (Undertow's builder has no place for one) and
 * the timeouts that bound slow clients: a request's line and headers must arrive within the parse timeout, and an
 * idle keep-alive connection is closed after the idle timeout.
 */
public final class HttpListener implements AutoCloseable
{
    /** The settings of the listener. */
    public static final class Settings
    {
        final String host;
        final int port;
        final int ioThreads;
        final long requestParseTimeoutMs;
        final long idleTimeoutMs;
        final long maxEntityBytes;
        final int maxHeaderBytes;
        final int maxConnections;
        final int maxPendingPerAddress;
        final Set<String> trustedProxies;

        /**
         * @param host                  address to bind.
         * @param port                  port, 0 for any.
         * @param ioThreads             XNIO I/O threads.
         * @param requestParseTimeoutMs longest a request's head may take to arrive.
         * @param idleTimeoutMs         longest a connection may wait for its next request.
         * @param maxEntityBytes        Undertow's bound on a request body.
         * @param maxHeaderBytes        bound on a request's headers.
         * @param maxConnections        connections held at once, all kinds.
         * @param maxPendingPerAddress  connections per address that have not completed a request.
         * @param trustedProxies        addresses not bounded per address.
         */
        public Settings(
            final String host,
            final int port,
            final int ioThreads,
            final long requestParseTimeoutMs,
            final long idleTimeoutMs,
            final long maxEntityBytes,
            final int maxHeaderBytes,
            final int maxConnections,
            final int maxPendingPerAddress,
            final Set<String> trustedProxies)
        {
            this.host = host;
            this.port = port;
            this.ioThreads = ioThreads;
            this.requestParseTimeoutMs = requestParseTimeoutMs;
            this.idleTimeoutMs = idleTimeoutMs;
            this.maxEntityBytes = maxEntityBytes;
            this.maxHeaderBytes = maxHeaderBytes;
            this.maxConnections = maxConnections;
            this.maxPendingPerAddress = maxPendingPerAddress;
            this.trustedProxies = trustedProxies;
        }
    }

    private final XnioWorker worker;
    private final ByteBufferPool buffers;
    private final AcceptingChannel<StreamConnection> server;
    private final ConnectionGate gate;

    private HttpListener(
        final XnioWorker worker, final ByteBufferPool buffers, final AcceptingChannel<StreamConnection> server,
        final ConnectionGate gate)
    {
        this.worker = worker;
        this.buffers = buffers;
        this.server = server;
        this.gate = gate;
    }

    /**
     * Binds and starts accepting.
     *
     * @param settings       the listener's settings.
     * @param root           handles every request of an admitted connection.
     * @param overCapacity   makes, given the gate, the handler of every request of a connection let in past the
     *                       total bound (health probes answered truthfully, anything else 503).
     * @return the running listener; {@link #close()} it.
     * @throws IOException when the address cannot be bound.
     */
    public static HttpListener start(
        final Settings settings, final HttpHandler root,
        final java.util.function.Function<ConnectionGate, HttpHandler> overCapacity)
        throws IOException
    {
        final Xnio xnio = Xnio.getInstance(io.undertow.Undertow.class.getClassLoader());
        final XnioWorker worker = xnio.createWorker(OptionMap.builder()
            .set(Options.WORKER_IO_THREADS, settings.ioThreads)
            .set(Options.CONNECTION_HIGH_WATER, 1_000_000)
            .set(Options.CONNECTION_LOW_WATER, 1_000_000)
            .set(Options.WORKER_TASK_CORE_THREADS, Math.max(2, settings.ioThreads))
            .set(Options.WORKER_TASK_MAX_THREADS, Math.max(2, settings.ioThreads))
            .set(Options.TCP_NODELAY, true)
            .set(Options.CORK, true)
            .getMap());
        final ByteBufferPool buffers = new DefaultByteBufferPool(true, 16 * 1024, -1, 4);
        try
        {
            final OptionMap undertowOptions = OptionMap.builder()
                .set(UndertowOptions.BUFFER_PIPELINED_DATA, true)
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, (int)settings.idleTimeoutMs)
                .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, (int)settings.requestParseTimeoutMs)
                .set(UndertowOptions.MAX_ENTITY_SIZE, settings.maxEntityBytes)
                .set(UndertowOptions.MAX_HEADER_SIZE, settings.maxHeaderBytes)
                .getMap();
            final HttpOpenListener http = new HttpOpenListener(buffers, undertowOptions);
            final ConnectionGate gate = new ConnectionGate(
                http, settings.maxConnections, settings.maxPendingPerAddress, settings.trustedProxies);
            final HttpHandler atCapacity = overCapacity.apply(gate);
            http.setRootHandler(exchange ->
            {
                final Object connection = exchange.getConnection().getPeerAddress();
                gate.requestArrived(connection);
                if (gate.isOverCapacity(connection))
                {
                    exchange.setPersistent(false);
                    atCapacity.handleRequest(exchange);
                    return;
                }
                root.handleRequest(exchange);
            });
            final ChannelListener<AcceptingChannel<StreamConnection>> accept = ChannelListeners.openListenerAdapter(gate);
            final AcceptingChannel<StreamConnection> server = worker.createStreamConnectionServer(
                new InetSocketAddress(InetAddress.getByName(settings.host), settings.port), accept, OptionMap.builder()
                    .set(Options.WORKER_IO_THREADS, worker.getIoThreadCount())
                    .set(Options.TCP_NODELAY, true)
                    .set(Options.REUSE_ADDRESSES, true)
                    .set(Options.BALANCING_TOKENS, 1)
                    .set(Options.BALANCING_CONNECTIONS, 2)
                    .set(Options.BACKLOG, 1000)
                    .getMap());
            server.resumeAccepts();
            return new HttpListener(worker, buffers, server, gate);
        }
        catch (final IOException | RuntimeException ex)
        {
            worker.shutdownNow();
            buffers.close();
            throw ex;
        }
    }

    /** @return the port listened on. */
    public int port()
    {
        return server.getLocalAddress(InetSocketAddress.class).getPort();
    }

    /** @return the gate: its counts and bounds. */
    public ConnectionGate gate()
    {
        return gate;
    }

    /** Stops accepting, closes every connection and stops the I/O threads. */
    @Override
    public void close()
    {
        IoUtils.safeClose(server);
        worker.shutdownNow();
        try
        {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        buffers.close();
    }
}
