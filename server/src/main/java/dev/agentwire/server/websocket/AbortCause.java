package dev.agentwire.server.websocket;

/** Why a {@link WebSocketConnection} ended without a close handshake (its {@code onAbort}). */
public enum AbortCause
{
    /** The client closed the socket without a close frame. */
    PEER_GONE,
    /** Reading failed. */
    READ_FAILED,
    /** Writing failed. */
    WRITE_FAILED
}
