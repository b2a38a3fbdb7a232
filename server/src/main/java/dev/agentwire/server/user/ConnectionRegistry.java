package dev.agentwire.server.user;

import dev.agentwire.server.http.TokenBucket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's one registry of open user connections: how many each user and each remote address holds (for the
 * caps), and the set of connections (for shutdown). Delivery is not here: it belongs to the engine's slices.
 * A connection is counted when its socket is established and uncounted exactly once when it closes, so the
 * registry returns to empty when every connection is gone.
 */
public final class ConnectionRegistry
{
    private final ConcurrentHashMap<String, AtomicInteger> perUser = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> perIp = new ConcurrentHashMap<>();
    private final Set<UserConnection> open = ConcurrentHashMap.newKeySet();
    /**
     * Connection rates per user, kept while the user has a connection or a bucket is not full. Every connect costs a
     * token check, an upgrade, a subscription and a replay of what its cursor asks for; a reconnect loop is a resume
     * loop (measured: one user reconnecting 110 times a second, resuming 800 KB each time and never reading, took the
     * server's core and raised other users' p99 eightfold). A cursor-less {@code /v1/ag-ui} connect also reads the
     * user's whole history for its prelude (16 loops against a 60 MB history raised other users' p99 from 11 ms to
     * 362 ms), so those have a bucket of their own.
     */
    private static final class Rates
    {
        final TokenBucket connects;
        final TokenBucket preludes;

        Rates(final int connectBurst, final long nowNs)
        {
            connects = new TokenBucket(CONNECTS_PER_SEC, connectBurst, nowNs);
            preludes = new TokenBucket(PRELUDES_PER_SEC, PRELUDE_BURST, nowNs);
        }
    }

    private final ConcurrentHashMap<String, Rates> rates = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong lastSweepNs =
        new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
    private static final long SWEEP_INTERVAL_NS = 1_000_000_000L;
    /** User sockets one user may open per second. */
    static final int CONNECTS_PER_SEC = 10;
    /** Burst of {@link #CONNECTS_PER_SEC} (at least the user's connection cap: every tab at once). */
    static final int CONNECT_BURST = 20;
    /** Cursor-less AG-UI connects (preludes) one user may open per second. */
    static final int PRELUDES_PER_SEC = 1;
    /** Burst of {@link #PRELUDES_PER_SEC}. */
    static final int PRELUDE_BURST = 2;
    /** {@link #tryConnect}: the connect may go on. */
    static final int CONNECT_ALLOWED = 0;
    /** {@link #tryConnect}: over the user's connect rate. */
    static final int CONNECT_RATE_LIMITED = 1;
    /** {@link #tryConnect}: over the user's rate of cursor-less AG-UI connects. */
    static final int PRELUDE_RATE_LIMITED = 2;
    private final int maxPerUser;
    private final int maxPerIp;

    /**
     * @param maxPerUser connections one user may hold.
     * @param maxPerIp   connections one remote address may hold.
     */
    public ConnectionRegistry(final int maxPerUser, final int maxPerIp)
    {
        this.maxPerUser = maxPerUser;
        this.maxPerIp = maxPerIp;
    }

    /**
     * A run's event stream over HTTP ({@code POST /v1/ag-ui/run}, {@code GET /v1/ag-ui/runs/{runId}}): it takes a
     * token of the user's connect rate and counts against the user's and the address's connection caps, as a socket.
     *
     * @return true when the stream may open; then {@link #closeStream} once it ends.
     */
    public boolean tryOpenStream(final String userId, final String ip, final long nowNs)
    {
        if (tryConnect(userId, false, nowNs) != CONNECT_ALLOWED)
        {
            return false;
        }
        if (!acquire(perUser, userId, maxPerUser))
        {
            return false;
        }
        if (!acquire(perIp, ip, maxPerIp))
        {
            release(perUser, userId);
            return false;
        }
        return true;
    }

    /** A stream {@link #tryOpenStream} opened ended. */
    public void closeStream(final String userId, final String ip)
    {
        release(perIp, ip);
        release(perUser, userId);
    }

    /** A cheap check before the upgrade, so most refusals are a plain 429 without a socket. */
    boolean wouldExceed(final String userId, final String ip)
    {
        return count(perUser, userId) >= maxPerUser || count(perIp, ip) >= maxPerIp;
    }

    /**
     * Takes a token of the user's connect rate, and of its prelude rate for a cursor-less {@code /v1/ag-ui}
     * connect.
     *
     * @return {@link #CONNECT_ALLOWED}, {@link #CONNECT_RATE_LIMITED} or {@link #PRELUDE_RATE_LIMITED}.
     */
    int tryConnect(final String userId, final boolean prelude, final long nowNs)
    {
        // Rates of users with no connection and full buckets are forgotten here, at most once a second, so the map
        // stays bounded by the users seen in the last seconds and a connect storm does not sweep at every connect.
        final long lastSweep = lastSweepNs.get();
        if (rates.size() > 64 && rates.size() > perUser.size() * 2 && nowNs - lastSweep > SWEEP_INTERVAL_NS &&
            lastSweepNs.compareAndSet(lastSweep, nowNs))
        {
            rates.entrySet().removeIf(e -> !perUser.containsKey(e.getKey()) && e.getValue().connects.isFull(nowNs) &&
                e.getValue().preludes.isFull(nowNs));
        }
        final Rates user = rates.computeIfAbsent(userId, u -> new Rates(Math.max(CONNECT_BURST, maxPerUser), nowNs));
        if (prelude && !user.preludes.tryAcquire(1, nowNs))
        {
            return PRELUDE_RATE_LIMITED;
        }
        return user.connects.tryAcquire(1, nowNs) ? CONNECT_ALLOWED : CONNECT_RATE_LIMITED;
    }

    /** @return false (counting nothing) when a cap would be exceeded; the exact check, after the upgrade. */
    boolean register(final UserConnection connection)
    {
        if (!acquire(perUser, connection.userId(), maxPerUser))
        {
            return false;
        }
        if (!acquire(perIp, connection.remoteIp(), maxPerIp))
        {
            release(perUser, connection.userId());
            return false;
        }
        open.add(connection);
        return true;
    }

    void unregister(final UserConnection connection)
    {
        if (open.remove(connection))
        {
            release(perUser, connection.userId());
            release(perIp, connection.remoteIp());
        }
    }

    /** @return users with at least one open connection now. */
    public Set<String> onlineUsers()
    {
        return perUser.keySet();
    }

    /**
     * Closes every open connection of a user from the server side.
     *
     * @param userId the user.
     * @param code   the close code (see {@link CloseCodes}).
     * @return how many connections were told to close.
     */
    public int closeUser(final String userId, final int code)
    {
        int closed = 0;
        for (final UserConnection connection : open)
        {
            if (connection.userId().equals(userId))
            {
                connection.closeWith(code);
                closed++;
            }
        }
        return closed;
    }

    /** Closes every open connection with a code (shutdown's last step). */
    public void closeAll(final int code)
    {
        for (final UserConnection connection : open)
        {
            connection.closeWith(code);
        }
    }

    /**
     * @return bytes written to the open connections' sockets and not yet taken by their clients (read from other
     *         threads than the connections' own: a gauge, not an exact figure).
     */
    public long pendingBytes()
    {
        long bytes = 0;
        for (final UserConnection connection : open)
        {
            bytes += connection.pendingOutputBytes();
        }
        return bytes;
    }

    /** @return user connections open now. */
    public int size()
    {
        return open.size();
    }

    /** @return users and addresses with a count: both empty once every connection is closed. */
    public int trackedKeys()
    {
        return perUser.size() + perIp.size();
    }

    private static int count(final ConcurrentHashMap<String, AtomicInteger> map, final String key)
    {
        final AtomicInteger n = map.get(key);
        return n == null ? 0 : n.get();
    }

    private static boolean acquire(final ConcurrentHashMap<String, AtomicInteger> map, final String key, final int max)
    {
        final boolean[] acquired = new boolean[1];
        map.compute(key, (k, n) ->
        {
            final AtomicInteger count = n == null ? new AtomicInteger() : n;
            if (count.get() < max)
            {
                count.incrementAndGet();
                acquired[0] = true;
            }
            return count.get() == 0 ? null : count;
        });
        return acquired[0];
    }

    private static void release(final ConcurrentHashMap<String, AtomicInteger> map, final String key)
    {
        map.computeIfPresent(key, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
    }
}
