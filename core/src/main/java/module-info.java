/**
 * AgentWire's engine: one Disruptor ring sequences every event; per-user slices number each user's stream, keep
 * its history and feed its subscriptions. No network code. The one exported package is the engine's API.
 */
module dev.agentwire.core
{
    requires com.lmax.disruptor;
    // The API speaks Agrona's buffers (payloads, inbound messages) and clock.
    requires transitive org.agrona;

    exports dev.agentwire.core;
}
