package dev.agentwire.server;

/**
 * WebSocket close codes the server uses (documented in docs/PROTOCOL.md).
 */
final class CloseCodes
{
    static final int NORMAL = 1000;
    static final int GOING_AWAY = 1001;
    static final int POLICY = 1008;
    static final int TOO_BIG = 1009;
    static final int SERVICE_RESTART = 1012;
    static final int INTERNAL_ERROR = 1011;
    static final int TOKEN_EXPIRED = 4001;
    static final int RATE_LIMITED = 4002;
    static final int BAD_MESSAGE = 4003;
    static final int SLOW_CONSUMER = 4004;
    static final int HEARTBEAT_TIMEOUT = 4005;

    private CloseCodes()
    {
    }

    static String reason(final int code)
    {
        switch (code)
        {
            case NORMAL:
                return "normal";
            case GOING_AWAY:
                return "server shutting down";
            case POLICY:
                return "policy violation";
            case TOO_BIG:
                return "message too big";
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
