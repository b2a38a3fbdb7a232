package dev.agentwire.server.runtime;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tells each producer socket who is online on this node, and never loses a user's latest state to a full backlog.
 * A presence frame a runtime's backlog cannot take is owed instead: the user's latest state (online or offline) is
 * kept for that socket and sent, with everything else it is owed, once its backlog has room again
 * ({@link #roomFor}), {@link #FRAMES_PER_TURN} at a time. A socket that connects is owed every user online at that
 * moment (the frames that did not fit its backlog were once dropped: with more users than one backlog holds, about
 * 50,000 with 36-character ids, the list was cut short). Frames are idempotent, so a state may be told twice; what a
 * runtime ends up told is each user's latest. What is owed is one entry per user, dropped with the socket.
 * Thread-safe: each socket's debt under its own lock, which orders a user's change against the sending of what is
 * owed.
 */
final class PresenceFeed
{
    /**
     * Frames sent per turn: what a socket is owed goes out a turn at a time (the next when its backlog is below half
     * again, as each frame written makes it), so a user's change on a slice thread never waits long for the lock.
     */
    static final int FRAMES_PER_TURN = 256;

    /** What one socket is owed: each user's latest state, oldest first. Under its own lock. */
    private static final class Debt
    {
        final LinkedHashMap<String, Boolean> owed = new LinkedHashMap<>();
    }

    private final ConcurrentHashMap<RuntimeChannel, Debt> debts = new ConcurrentHashMap<>();
    /** Sockets owed anything: a socket with room asks for its debt only when this is not 0. */
    private final AtomicInteger indebted = new AtomicInteger();

    /** A socket connected: it is owed every user in {@code online}, and is sent what its backlog takes now. */
    void attach(final RuntimeChannel channel, final Iterable<String> online)
    {
        final Debt debt = new Debt();
        synchronized (debt)
        {
            // Registered before the users are read: a change from now on waits for this lock and overrides.
            debts.put(channel, debt);
            for (final String userId : online)
            {
                debt.owed.put(userId, Boolean.TRUE);
            }
            if (!debt.owed.isEmpty())
            {
                indebted.incrementAndGet();
                pay(channel, debt);
            }
        }
    }

    /** A socket closed: what it was owed goes with it. */
    void detach(final RuntimeChannel channel)
    {
        final Debt debt = debts.remove(channel);
        if (debt != null)
        {
            synchronized (debt)
            {
                if (!debt.owed.isEmpty())
                {
                    debt.owed.clear();
                    indebted.decrementAndGet();
                }
            }
        }
    }

    /** A user came online or went offline on this node: every socket is told, or owed it. */
    void changed(final String userId, final boolean online)
    {
        byte[] frame = null;
        for (final Map.Entry<RuntimeChannel, Debt> entry : debts.entrySet())
        {
            final Debt debt = entry.getValue();
            synchronized (debt)
            {
                if (debt.owed.isEmpty())
                {
                    frame = frame != null ? frame : frame(userId, online);
                    if (entry.getKey().sendPresence(frame))
                    {
                        continue;
                    }
                    indebted.incrementAndGet();
                }
                // Behind what it is owed already: owed too, so a later state never overtakes an earlier one.
                debt.owed.put(userId, online);
            }
        }
    }

    /** The socket's backlog has room: sends what it is owed, as far as the backlog takes. Any thread. */
    void roomFor(final RuntimeChannel channel)
    {
        if (indebted.get() == 0)
        {
            return;
        }
        final Debt debt = debts.get(channel);
        if (debt != null)
        {
            synchronized (debt)
            {
                if (!debt.owed.isEmpty())
                {
                    pay(channel, debt);
                }
            }
        }
    }

    /** @return sockets owed presence now. */
    int indebted()
    {
        return indebted.get();
    }

    /**
     * Under the debt's lock, which is owed something. {@link RuntimeChannel#send} only queues a frame (a producer
     * socket hands it to its I/O thread), so it never calls back here while the loop runs.
     */
    private void pay(final RuntimeChannel channel, final Debt debt)
    {
        final Iterator<Map.Entry<String, Boolean>> owed = debt.owed.entrySet().iterator();
        for (int turn = 0; owed.hasNext(); turn++)
        {
            final Map.Entry<String, Boolean> next = owed.next();
            if (turn == FRAMES_PER_TURN || !channel.sendPresence(frame(next.getKey(), next.getValue())))
            {
                return;
            }
            owed.remove();
        }
        indebted.decrementAndGet();
    }

    /** {@code {"type":"presence","user":…,"state":…}}. */
    private static byte[] frame(final String userId, final boolean online)
    {
        return InboundRouter.presenceFrame(userId, online ? "online" : "offline");
    }
}
