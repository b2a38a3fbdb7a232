package dev.agentwire.server.user;

import dev.agentwire.core.AgentWire;
import dev.agentwire.server.ops.ServerMetrics;

import java.util.concurrent.TimeUnit;

/**
 * What every user socket of one XNIO I/O thread shares: the engine, the registry, metrics, settings and protocol,
 * and the thread's own drain scheduler and heartbeat sweeper. A connection holds one reference to it rather than
 * one to each (eight fields fewer per connection, measured by the memory-per-connection work). Immutable.
 */
final class UserSocketThread
{
    final AgentWire engine;
    final ConnectionRegistry registry;
    final ServerMetrics metrics;
    final UserSocketSettings settings;
    final ClientProtocol protocol;
    final DrainScheduler drainer;
    final HeartbeatSweeper sweeper;
    /** Bytes one drain writes: the send window, within the thread's write buffer. */
    final int drainBytes;
    /**
     * The heartbeat period in nanoseconds. Each connection's first ping comes at a random point of the first period,
     * so a crowd that connected together is not pinged in one tick: 10,000 pings written in a row held every event
     * behind them for 20-40 ms (benchmarks/README.md, 2026-12-05).
     */
    final long pingPeriodNs;

    UserSocketThread(final AgentWire engine, final ConnectionRegistry registry, final ServerMetrics metrics,
        final UserSocketSettings settings, final ClientProtocol protocol, final DrainScheduler drainer,
        final HeartbeatSweeper sweeper, final int writeBufferBytes)
    {
        this.engine = engine;
        this.registry = registry;
        this.metrics = metrics;
        this.settings = settings;
        this.protocol = protocol;
        this.drainer = drainer;
        this.sweeper = sweeper;
        this.drainBytes = Math.min(writeBufferBytes, settings.sendWindowBytes());
        this.pingPeriodNs = TimeUnit.MILLISECONDS.toNanos(settings.heartbeatIntervalMs());
    }
}
