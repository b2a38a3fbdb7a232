package dev.agentwire.core;

/**
 * How a run ended, carried by {@code agent_completed}. Codes are stable bytes so a draft holds no object.
 */
public final class Outcome
{
    /** No outcome given (every type but {@code agent_completed}). */
    public static final byte NONE = 0;
    /** The run finished and produced its result. */
    public static final byte SUCCESS = 1;
    /** The run failed; open tool calls are implicitly abandoned. */
    public static final byte ERROR = 2;
    /** The run was cancelled; open tool calls are implicitly abandoned. */
    public static final byte CANCELLED = 3;

    private Outcome()
    {
    }

    /**
     * @param name {@code success}, {@code error} or {@code cancelled}.
     * @return the code, or {@link #NONE} when the name is none of them.
     */
    public static byte parse(final String name)
    {
        if (name == null)
        {
            return NONE;
        }
        switch (name)
        {
            case "success":
                return SUCCESS;
            case "error":
                return ERROR;
            case "cancelled":
                return CANCELLED;
            default:
                return NONE;
        }
    }

    /**
     * @param outcome a code.
     * @return its wire name, or null for {@link #NONE} or an unknown code.
     */
    public static String name(final byte outcome)
    {
        switch (outcome)
        {
            case SUCCESS:
                return "success";
            case ERROR:
                return "error";
            case CANCELLED:
                return "cancelled";
            default:
                return null;
        }
    }
}
