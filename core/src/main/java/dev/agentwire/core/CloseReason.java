package dev.agentwire.core;

/**
 * Why a {@link Subscription} ended. Transports map these to their own close codes.
 */
public final class CloseReason
{
    /** Still open. */
    public static final int NONE = 0;
    /** The transport (or application) closed it. */
    public static final int UNSUBSCRIBED = 1;
    /** Its outbound queue hit its bound (count or bytes): the client should reconnect and resume from history. */
    public static final int SLOW_CONSUMER = 2;
    /** The engine closed after delivering everything it had accepted. */
    public static final int SHUTDOWN = 3;
    /**
     * A replica lost track of the user's stream (the store's epoch changed, or events were lost between the store
     * and this engine): the client must reconnect and resume, and is then told exactly what was recovered.
     */
    public static final int RESUME_REQUIRED = 4;

    private CloseReason()
    {
    }

    /**
     * @param reason a code.
     * @return its snake_case name.
     */
    public static String name(final int reason)
    {
        switch (reason)
        {
            case NONE:
                return "none";
            case UNSUBSCRIBED:
                return "unsubscribed";
            case SLOW_CONSUMER:
                return "slow_consumer";
            case SHUTDOWN:
                return "shutdown";
            case RESUME_REQUIRED:
                return "resume_required";
            default:
                return "unknown_" + reason;
        }
    }
}
