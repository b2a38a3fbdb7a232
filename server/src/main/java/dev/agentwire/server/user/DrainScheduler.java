package dev.agentwire.server.user;

import org.xnio.XnioIoThread;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Hands connections that have something to send to their I/O thread, many per wake-up, allocating nothing: the
 * queue is intrusive (a connection is its own node, and in the queue at most once). Waking an I/O thread is a
 * system call and a context switch; doing it once per delivered event cost more than the delivery. The slices push
 * connections here; the push that finds the queue empty wakes the thread, which then drains every connection
 * pushed by then, oldest first. One per XNIO I/O thread.
 */
final class DrainScheduler implements Runnable
{
    private static final VarHandle SCHEDULED;

    static
    {
        try
        {
            SCHEDULED = MethodHandles.lookup().findVarHandle(UserConnection.class, "scheduled", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final XnioIoThread thread;
    /** The most recently pushed connection; the chain runs through {@link UserConnection#nextToDrain}. */
    private final AtomicReference<UserConnection> head = new AtomicReference<>();

    DrainScheduler(final XnioIoThread thread)
    {
        this.thread = thread;
    }

    /** Any thread. */
    void schedule(final UserConnection connection)
    {
        if (!SCHEDULED.compareAndSet(connection, 0, 1))
        {
            return;
        }
        UserConnection previous;
        do
        {
            previous = head.get();
            connection.nextToDrain = previous;
        }
        while (!head.compareAndSet(previous, connection));
        if (previous == null)
        {
            try
            {
                thread.execute(this);
            }
            catch (final RejectedExecutionException stopping)
            {
                // The server is stopping: nothing more will be sent.
                head.set(null);
            }
        }
    }

    /** On the I/O thread. */
    @Override
    public void run()
    {
        // The chain is newest first: reverse it, so connections are drained in the order they became ready.
        UserConnection newest = head.getAndSet(null);
        UserConnection oldest = null;
        while (newest != null)
        {
            final UserConnection next = newest.nextToDrain;
            newest.nextToDrain = oldest;
            oldest = newest;
            newest = next;
        }
        while (oldest != null)
        {
            final UserConnection connection = oldest;
            oldest = connection.nextToDrain;
            connection.nextToDrain = null;
            // Cleared before draining: what becomes ready during the drain schedules the connection again.
            SCHEDULED.setVolatile(connection, 0);
            try
            {
                connection.drain();
            }
            catch (final Throwable failure)
            {
                // One connection's failure must not cost the others their drain: before this guard, an exception
                // here dropped the rest of the queue, and those connections stayed marked as scheduled and were
                // never drained again. The failed connection is closed (1011) and counted; the queue goes on.
                // A VirtualMachineError (OutOfMemoryError) is not survivable: the rest is drained first, then it
                // ends the process (bin/agentwire starts the JVM with -XX:+ExitOnOutOfMemoryError).
                connection.failed(failure);
                if (failure instanceof VirtualMachineError)
                {
                    requeue(oldest);
                    throw (VirtualMachineError)failure;
                }
            }
        }
    }

    private void requeue(final UserConnection first)
    {
        UserConnection next = first;
        while (next != null)
        {
            final UserConnection connection = next;
            next = connection.nextToDrain;
            connection.nextToDrain = null;
            SCHEDULED.setVolatile(connection, 0);
            schedule(connection);
        }
    }
}
