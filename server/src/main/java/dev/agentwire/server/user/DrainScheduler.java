package dev.agentwire.server.user;

import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;
import org.xnio.XnioIoThread;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Hands connections that have something to send to their I/O thread, many per wake-up. Waking an I/O thread is a
 * system call and a context switch; doing it once per delivered event cost more than the delivery. The slices add
 * connections here; the first addition after a drain wakes the thread, which then drains every connection queued
 * by then. One per XNIO I/O thread.
 */
final class DrainScheduler implements Runnable
{
    private final XnioIoThread thread;
    private final ManyToOneConcurrentLinkedQueue<UserConnection> pending = new ManyToOneConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    DrainScheduler(final XnioIoThread thread)
    {
        this.thread = thread;
    }

    /** Any thread. */
    void schedule(final UserConnection connection)
    {
        pending.offer(connection);
        if (!scheduled.get() && scheduled.compareAndSet(false, true))
        {
            try
            {
                thread.execute(this);
            }
            catch (final RejectedExecutionException stopping)
            {
                scheduled.set(false);
            }
        }
    }

    /** On the I/O thread. */
    @Override
    public void run()
    {
        scheduled.set(false);
        UserConnection connection;
        while ((connection = pending.poll()) != null)
        {
            connection.drain();
        }
    }
}
