package dev.agentwire.server.websocket;


/**
 * WebSocket close codes the server uses on user and producer sockets, with their reasons: the one table
 * (docs/PROTOCOL.md).
 */
public final class CloseCodes
{
    /** Normal closure. */
    public static final int NORMAL = 1000;
    /** The server is shutting down, after every accepted event was sent. */
    public static final int GOING_AWAY = 1001;
    /** A frame that breaks RFC 6455. */
    public static final int PROTOCOL_ERROR = WebSocketFrames.PROTOCOL_ERROR;
    /** A text message that is not UTF-8. */
    public static final int INVALID_DATA = WebSocketFrames.INVALID_DATA;
    /** Policy: a connection cap reached (a race at the upgrade). */
    public static final int POLICY = 1008;
    /** A message over the size limit. */
    public static final int TOO_BIG = WebSocketFrames.TOO_BIG;
    /** Dropped by the server: reconnect and resume. */
    public static final int SERVICE_RESTART = 1012;
    /** Internal error (a read failure on the socket). */
    public static final int INTERNAL_ERROR = 1011;
    /** The token expired. */
    public static final int TOKEN_EXPIRED = 4001;
    /** Inbound messages over the connection's rate. */
    public static final int RATE_LIMITED = 4002;
    /** Too many bad messages. */
    public static final int BAD_MESSAGE = 4003;
    /** The client did not read fast enough. */
    public static final int SLOW_CONSUMER = 4004;
    /** No pong or frame within the heartbeat timeout. */
    public static final int HEARTBEAT_TIMEOUT = 4005;

    private CloseCodes()
    {
    }

    /** @return the reason sent with the close frame and logged. */
    public static String reason(final int code)
    {
        switch (code)
        {
            case NORMAL:
                return "normal";
            case GOING_AWAY:
                return "server shutting down";
            case POLICY:
                return "policy violation";
            case PROTOCOL_ERROR:
            case INVALID_DATA:
            case TOO_BIG:
                return WebSocketFrames.reason(code);
            case INTERNAL_ERROR:
                return "internal error";
            case SERVICE_RESTART:
                return "dropped by the server, reconnect";
            case TOKEN_EXPIRED:
                return "token expired";
            case RATE_LIMITED:
                return "rate limited";
            case BAD_MESSAGE:
                return "bad message";
            case SLOW_CONSUMER:
                return "slow consumer";
            case HEARTBEAT_TIMEOUT:
                return "heartbeat timeout";
            default:
                return "closed";
        }
    }
}
