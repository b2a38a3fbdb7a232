package dev.agentwire.server.user;

import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;

import java.util.ArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The clock of one XNIO I/O thread's connections: one periodic task walks them and lets each ping, time out or
 * expire its token. A timer per connection (two, with the token's expiry) kept 20,000 entries in the thread's
 * timer tree at 10,000 connections and allocated on every ping; this keeps an array. Confined to its I/O thread.
 */
final class HeartbeatSweeper implements Runnable
{
    /**
     * Connections ping at phases of their own (UserConnection), so a tick pings those whose period ended since the
     * last one: the shorter the tick, the fewer writes in a row (at 10,000 connections and 15 s, about 170 a tick),
     * for a walk of the array four times a second.
     */
    private static final long MAX_TICK_MS = 250;

    private final XnioIoThread thread;
    private final long tickMs;
    private final ArrayList<UserConnection> connections = new ArrayList<>();
    private XnioExecutor.Key key;

    HeartbeatSweeper(final XnioIoThread thread, final long heartbeatIntervalMs)
    {
        this.thread = thread;
        // Pings and expiries are at most one tick late.
        this.tickMs = Math.max(10, Math.min(MAX_TICK_MS, heartbeatIntervalMs / 2));
    }

    /** On the I/O thread. */
    void add(final UserConnection connection)
    {
        connection.sweepIndex = connections.size();
        connections.add(connection);
        if (key == null)
        {
            try
            {
                key = thread.executeAtInterval(this, tickMs, TimeUnit.MILLISECONDS);
            }
            catch (final RejectedExecutionException stopping)
            {
                // The server is stopping: nothing to keep alive.
            }
        }
    }

    /** Idempotent; from another thread it is handed to the I/O thread. */
    void remove(final UserConnection connection)
    {
        if (Thread.currentThread() != thread)
        {
            try
            {
                thread.execute(() -> remove(connection));
            }
            catch (final RejectedExecutionException stopping)
            {
                // The thread is gone, and its array with it.
            }
            return;
        }
        final int at = connection.sweepIndex;
        if (at < 0)
        {
            return;
        }
        final int last = connections.size() - 1;
        final UserConnection moved = connections.get(last);
        connections.set(at, moved);
        moved.sweepIndex = at;
        connections.remove(last);
        connection.sweepIndex = -1;
        if (connections.isEmpty() && key != null)
        {
            // Nothing to tick for: an idle thread stays asleep, and a stopping server's worker finds no task that
            // asks to run again (XNIO logs such a task as failed once its thread is terminating).
            key.remove();
            key = null;
        }
    }

    @Override
    public void run()
    {
        final long nowNs = System.nanoTime();
        final long nowMs = System.currentTimeMillis();
        // A connection may end during its tick and leave the array: walk from the end, as a removal only moves
        // the last one into the slot of the one removed.
        for (int i = connections.size() - 1; i >= 0; i--)
        {
            if (i < connections.size())
            {
                connections.get(i).onTick(nowNs, nowMs);
            }
        }
    }
}
