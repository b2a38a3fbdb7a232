package dev.agentwire.core;

/**
 * The agent event types whose run lifecycle the engine validates — the five of the golden path and
 * {@code agent_answer}, the answer streamed token by token — and the rule for custom types.
 * <p>
 * A custom type is namespaced: lower-case ASCII segments of {@code [a-z0-9_-]} separated by dots, starting with
 * a letter, with at least one dot, at most {@value #MAX_TYPE_LENGTH} characters, for example {@code app.progress}
 * or {@code ui.card_shown}. Custom types pass through without lifecycle validation.
 */
public final class EventTypes
{
    /** A run began. Needs a run id. */
    public static final String AGENT_STARTED = "agent_started";
    /** Progress or reasoning text of an open run. */
    public static final String AGENT_THINKING = "agent_thinking";
    /**
     * A delta of an open run's answer, streamed as the model writes it (token by token); the run's
     * {@code agent_completed} then says {@code streamed: true} so a front end does not show the answer twice.
     */
    public static final String AGENT_ANSWER = "agent_answer";
    /** The agent called a tool. Needs a tool call id. */
    public static final String TOOL_EXECUTING = "tool_executing";
    /** That tool returned. Needs the same tool call id. */
    public static final String TOOL_COMPLETED = "tool_completed";
    /** The run ended. Needs an outcome. */
    public static final String AGENT_COMPLETED = "agent_completed";

    /** Longest accepted type name. */
    public static final int MAX_TYPE_LENGTH = 64;

    static final int UNKNOWN = -1;
    static final int CUSTOM = 0;
    static final int STARTED = 1;
    /** Content of an open run: {@code agent_thinking} and {@code agent_answer} (the same lifecycle rule). */
    static final int THINKING = 2;
    static final int EXECUTING = 3;
    static final int COMPLETED_TOOL = 4;
    static final int COMPLETED_AGENT = 5;

    private EventTypes()
    {
    }

    /**
     * @param type an event type name.
     * @return true for one of the lifecycle types.
     */
    public static boolean isAgentType(final String type)
    {
        final int code = code(type);
        return code > CUSTOM;
    }

    /**
     * @param type an event type name.
     * @return true when the name matches the custom type pattern.
     */
    public static boolean isCustomType(final String type)
    {
        return code(type) == CUSTOM;
    }

    /** Classifies a type name without allocating. */
    static int code(final String type)
    {
        if (type == null)
        {
            return UNKNOWN;
        }
        switch (type)
        {
            case AGENT_STARTED:
                return STARTED;
            case AGENT_THINKING:
            case AGENT_ANSWER:
                return THINKING;
            case TOOL_EXECUTING:
                return EXECUTING;
            case TOOL_COMPLETED:
                return COMPLETED_TOOL;
            case AGENT_COMPLETED:
                return COMPLETED_AGENT;
            default:
                return isNamespaced(type) ? CUSTOM : UNKNOWN;
        }
    }

    private static boolean isNamespaced(final String type)
    {
        final int length = type.length();
        if (length < 3 || length > MAX_TYPE_LENGTH || !isLower(type.charAt(0)))
        {
            return false;
        }
        boolean sawDot = false;
        char previous = type.charAt(0);
        for (int i = 1; i < length; i++)
        {
            final char c = type.charAt(i);
            if (c == '.')
            {
                if (previous == '.')
                {
                    return false;
                }
                sawDot = true;
            }
            else if (!(isLower(c) || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            {
                return false;
            }
            previous = c;
        }
        return sawDot && previous != '.';
    }

    private static boolean isLower(final char c)
    {
        return c >= 'a' && c <= 'z';
    }
}
