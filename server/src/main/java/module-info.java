/**
 * AgentWire's gateway: users' WebSockets, producer ingest over HTTP and WebSocket, auth, rooms, limits, resume,
 * metrics, the demo and the Redis cluster mode. The one exported package holds the server's facade, its
 * configuration and the command line; every other package is internal.
 */
module dev.agentwire.server
{
    // The facade hands out the engine, and takes the engine's config and inbound handlers.
    requires transitive dev.agentwire.core;
    requires undertow.core;
    requires xnio.api;
    requires com.fasterxml.jackson.core;
    requires com.fasterxml.jackson.databind;
    requires com.nimbusds.jose.jwt;
    requires info.picocli;
    requires io.prometheus.metrics.core;
    requires io.prometheus.metrics.model;
    requires io.prometheus.writer.text;
    requires lettuce.core;
    // The subscription connection's channel messages are read off Lettuce's Netty pipeline (ChannelMessageHandler).
    requires io.netty.buffer;
    requires io.netty.codec;
    requires io.netty.transport;
    requires org.slf4j;
    // The process's descriptor limit bounds the connections held (AgentWireServer); ZGC's soft max heap (HeapPolicy).
    requires jdk.management;

    exports dev.agentwire.server;

    opens dev.agentwire.server to info.picocli;
}
