package dev.agentwire.server.user;

import org.xnio.XnioIoThread;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What each XNIO I/O thread keeps for the user connections it serves ({@link UserSocketThread}: its drain
 * scheduler and heartbeat sweeper, with the services every socket shares), made when the thread's first
 * connection opens.
 */
final class IoThreads
{
    private final Function<XnioIoThread, UserSocketThread> factory;
    private final ConcurrentHashMap<XnioIoThread, UserSocketThread> threads = new ConcurrentHashMap<>();

    IoThreads(final Function<XnioIoThread, UserSocketThread> factory)
    {
        this.factory = factory;
    }

    UserSocketThread threadFor(final XnioIoThread thread)
    {
        return threads.computeIfAbsent(thread, factory);
    }
}
