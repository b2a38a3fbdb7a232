package dev.agentwire.server.auth;

/**
 * Why a token was refused. The reason goes to metrics and logs (never the token); the client only sees 401.
 */
public final class AuthFailure extends Exception
{
    private static final long serialVersionUID = 1L;

    /** Stable reason names. */
    public enum Reason
    {
        MISSING("missing"),
        MALFORMED("malformed"),
        EXPIRED("expired"),
        BAD_SIGNATURE("bad_signature"),
        BAD_ALGORITHM("bad_algorithm"),
        BAD_CLAIMS("bad_claims");

        /** The reason's stable name, as in metrics. */
        public final String label;

        Reason(final String label)
        {
            this.label = label;
        }
    }

    /** Why. */
    public final Reason reason;

    AuthFailure(final Reason reason, final String detail)
    {
        super(reason.label + ": " + detail, null, false, false);
        this.reason = reason;
    }
}
