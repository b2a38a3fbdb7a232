package dev.agentwire.server.user;

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

    /** A cheap check before the upgrade, so most refusals are a plain 429 without a socket. */
    boolean wouldExceed(final String userId, final String ip)
    {
        return count(perUser, userId) >= maxPerUser || count(perIp, ip) >= maxPerIp;
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
