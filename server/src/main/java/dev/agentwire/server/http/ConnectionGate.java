package dev.agentwire.server.http;

import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;

import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The door every TCP connection passes before HTTP: it bounds the connections held at once, all kinds together,
 * and the connections one address holds that have not sent a complete request yet ("pending": the shape of a
 * slowloris attack; Undertow's parse timeout then ends each of them). Past the total bound a few connections are
 * still let in, marked, so that {@code /healthz} and {@code /readyz} answer truthfully at capacity while everything
 * else on them is answered 503 and closed; past those the connection is closed at once. Connections from a trusted
 * proxy are not bounded per address (the proxy's address is everyone's). Counted: {@link #refusedAtTotal()},
 * {@link #refusedPerAddress()}. Thread-safe: called on the I/O threads.
 */
public final class ConnectionGate implements ChannelListener<StreamConnection>
{
    /** Connections let in past the total bound to answer health probes and 503s. */
    public static final int OVER_CAPACITY_RESERVE = 32;

    private final ChannelListener<StreamConnection> next;
    private final int maxConnections;
    private final int maxPendingPerAddress;
    private final Set<String> unboundedAddresses;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<String, AtomicInteger> pendingByAddress = new ConcurrentHashMap<>();
    // Keyed by the connection's peer address (address and port: one TCP connection), which the exchange also has.
    private final ConcurrentHashMap<Object, String> pending = new ConcurrentHashMap<>();
    private final Set<Object> overCapacity = ConcurrentHashMap.newKeySet();
    private final LongAdder refusedAtTotal = new LongAdder();
    private final LongAdder refusedPerAddress = new LongAdder();

    /**
     * @param next                 where admitted connections go (Undertow's HTTP open listener).
     * @param maxConnections       connections held at once, all kinds.
     * @param maxPendingPerAddress connections per address that have not completed a request yet.
     * @param unboundedAddresses   addresses not bounded per address (trusted proxies).
     */
    public ConnectionGate(
        final ChannelListener<StreamConnection> next,
        final int maxConnections,
        final int maxPendingPerAddress,
        final Set<String> unboundedAddresses)
    {
        this.next = next;
        this.maxConnections = maxConnections;
        this.maxPendingPerAddress = maxPendingPerAddress;
        this.unboundedAddresses = unboundedAddresses;
    }

    @Override
    public void handleEvent(final StreamConnection connection)
    {
        final int held = open.incrementAndGet();
        if (held > maxConnections + OVER_CAPACITY_RESERVE)
        {
            open.decrementAndGet();
            refusedAtTotal.increment();
            IoUtils.safeClose(connection);
            return;
        }
        final String address = addressOf(connection);
        AtomicInteger byAddress = null;
        if (!unboundedAddresses.contains(address))
        {
            byAddress = pendingByAddress.computeIfAbsent(address, a -> new AtomicInteger());
            if (byAddress.incrementAndGet() > maxPendingPerAddress)
            {
                release(address, byAddress);
                open.decrementAndGet();
                refusedPerAddress.increment();
                IoUtils.safeClose(connection);
                return;
            }
            pending.put(keyOf(connection), address);
        }
        if (held > maxConnections)
        {
            refusedAtTotal.increment();
            overCapacity.add(keyOf(connection));
        }
        next.handleEvent(connection);
        // Undertow set its close listener while it took the connection; ours runs first, then its own.
        final ChannelListener<? super StreamConnection> undertows = connection.getCloseListener();
        connection.setCloseListener(closed ->
        {
            open.decrementAndGet();
            final Object key = keyOf(closed);
            requestArrived(key);
            overCapacity.remove(key);
            if (undertows != null)
            {
                ChannelListeners.invokeChannelListener(closed, undertows);
            }
        });
    }

    /**
     * The connection completed a request: it is no longer pending. Idempotent.
     *
     * @param peer the connection's peer address ({@code exchange.getConnection().getPeerAddress()}).
     */
    public void requestArrived(final Object peer)
    {
        if (peer == null)
        {
            return;
        }
        final String address = pending.remove(peer);
        if (address != null)
        {
            final AtomicInteger byAddress = pendingByAddress.get(address);
            if (byAddress != null)
            {
                release(address, byAddress);
            }
        }
    }

    /** @return true for a connection let in past the total bound: answer it 503 (health probes excepted). */
    public boolean isOverCapacity(final Object peer)
    {
        return peer != null && !overCapacity.isEmpty() && overCapacity.contains(peer);
    }

    /** @return connections held now, all kinds. */
    public int open()
    {
        return open.get();
    }

    /** @return the bound on connections held at once. */
    public int maxConnections()
    {
        return maxConnections;
    }

    /** @return connections refused, or answered 503, because the total bound was reached. */
    public long refusedAtTotal()
    {
        return refusedAtTotal.sum();
    }

    /** @return connections closed because their address held its bound of pending connections. */
    public long refusedPerAddress()
    {
        return refusedPerAddress.sum();
    }

    private void release(final String address, final AtomicInteger byAddress)
    {
        if (byAddress.decrementAndGet() <= 0)
        {
            pendingByAddress.remove(address, byAddress);
        }
    }

    private static Object keyOf(final StreamConnection connection)
    {
        final java.net.SocketAddress peer = connection.getPeerAddress();
        return peer != null ? peer : connection;
    }

    private static String addressOf(final StreamConnection connection)
    {
        final InetSocketAddress peer = connection.getPeerAddress(InetSocketAddress.class);
        return peer == null || peer.getAddress() == null ? "unknown" : peer.getAddress().getHostAddress();
    }
}
