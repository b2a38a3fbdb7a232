package dev.agentwire.producer;

import java.util.List;

/** A way to the server: sends events (each encoded once) and reads one outcome per event. On the sender thread. */
interface Transport extends AutoCloseable
{
    /**
     * @param ids     each event's idempotency key, in order.
     * @param encoded each event's JSON, in order.
     * @return one outcome per event.
     * @throws AgentWireException.Network the connection broke before the answer: every event's outcome is unknown.
     */
    List<Answers.Outcome> send(List<String> ids, List<byte[]> encoded) throws InterruptedException;

    @Override
    void close();
}
