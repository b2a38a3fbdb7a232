package dev.agentwire.server.user;

import dev.agentwire.core.AgentWire;
import dev.agentwire.server.ops.ServerMetrics;

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
    }
}
