package dev.agentwire.producer;

/**
 * Why an event was not stored: {@link #code()} is the server's status name ({@code run_not_started},
 * {@code ring_full} …) or the client's own ({@code network}, {@code timeout}); {@link #httpStatus()} what the server
 * answered with, or 0. One subclass per kind: {@link Refused}, {@link Unauthorized}, {@link Busy}, {@link Network},
 * {@link Timeout}.
 */
public class AgentWireException extends RuntimeException
{
    private static final long serialVersionUID = 1L;
    private final String code;
    private final int httpStatus;

    AgentWireException(final String code, final String message, final int httpStatus)
    {
        super(code + ": " + message, null, false, false);
        this.code = code;
        this.httpStatus = httpStatus;
    }

    /** @return the server's status name, or the client's ({@code network}, {@code timeout}). */
    public String code()
    {
        return code;
    }

    /** @return the HTTP status the server answered with, or 0. */
    public int httpStatus()
    {
        return httpStatus;
    }

    /** Refused for good: malformed (400), too large (413), a run rule (422). Never retried. */
    public static final class Refused extends AgentWireException
    {
        private static final long serialVersionUID = 1L;
        private final String rule;

        Refused(final String code, final String message, final int httpStatus, final String rule)
        {
            super(code, message, httpStatus);
            this.rule = rule;
        }

        /** @return for native AG-UI ({@code code() == "ag_ui_invalid"}), the AG-UI rule broken; else null. */
        public String rule()
        {
            return rule;
        }
    }

    /** The producer key was refused (401). Never retried. */
    public static final class Unauthorized extends AgentWireException
    {
        private static final long serialVersionUID = 1L;

        Unauthorized(final String message)
        {
            super("unauthorized", message, 401);
        }
    }

    /** Still saturated or stopping after the retries (429, 503: {@code ring_full}, {@code unavailable} …). */
    public static final class Busy extends AgentWireException
    {
        private static final long serialVersionUID = 1L;

        Busy(final String code, final String message, final int httpStatus)
        {
            super(code, message, httpStatus);
        }
    }

    /** Still unreachable, or cut before the answer, after the retries. */
    public static final class Network extends AgentWireException
    {
        private static final long serialVersionUID = 1L;

        Network(final String message)
        {
            super("network", message, 0);
        }
    }

    /** No answer within the timeout: publish again with the same id to be sure (a stored one answers duplicate). */
    public static final class Timeout extends AgentWireException
    {
        private static final long serialVersionUID = 1L;

        Timeout(final String message)
        {
            super("timeout", message, 0);
        }
    }
}
