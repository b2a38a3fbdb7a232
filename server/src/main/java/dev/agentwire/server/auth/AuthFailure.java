package dev.agentwire.server;

/**
 * Why a token was refused. The reason goes to metrics and logs (never the token); the client only sees 401.
 */
final class AuthFailure extends Exception
{
    private static final long serialVersionUID = 1L;

    /** Stable reason names. */
    enum Reason
    {
        MISSING("missing"),
        MALFORMED("malformed"),
        EXPIRED("expired"),
        BAD_SIGNATURE("bad_signature"),
        BAD_ALGORITHM("bad_algorithm"),
        BAD_CLAIMS("bad_claims");

        final String label;

        Reason(final String label)
        {
            this.label = label;
        }
    }

    final Reason reason;

    AuthFailure(final Reason reason, final String detail)
    {
        super(reason.label + ": " + detail, null, false, false);
        this.reason = reason;
    }
}
