package dev.agentwire.server.user;

import org.xnio.XnioIoThread;

import java.util.concurrent.ConcurrentHashMap;

/**
 * What each XNIO I/O thread keeps for the user connections it serves: one drain scheduler and one heartbeat
 * sweeper, made when the thread's first connection opens.
 */
final class IoThreads
{
    private final long heartbeatIntervalMs;
    private final ConcurrentHashMap<XnioIoThread, DrainScheduler> drainers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<XnioIoThread, HeartbeatSweeper> sweepers = new ConcurrentHashMap<>();

    IoThreads(final long heartbeatIntervalMs)
    {
        this.heartbeatIntervalMs = heartbeatIntervalMs;
    }

    DrainScheduler drainerFor(final XnioIoThread thread)
    {
        return drainers.computeIfAbsent(thread, DrainScheduler::new);
    }

    HeartbeatSweeper sweeperFor(final XnioIoThread thread)
    {
        return sweepers.computeIfAbsent(thread, t -> new HeartbeatSweeper(t, heartbeatIntervalMs));
    }
}
