package dev.agentwire.core;

/**
 * Status codes returned by {@link AgentWire#publish(EventDraft)} and {@link AgentWire#tryPublish(EventDraft)}.
 * <p>
 * A publish returns a {@code long}: a value {@code >= 0} means the event was accepted and is the position the
 * spine assigned to it (a global, strictly increasing number, useful to correlate and to measure lag); a negative
 * value is one of the constants below and means nothing was taken. The codes are stable and part of the API.
 * Lifecycle violations each have their own code so that the rule broken can be named to the caller;
 * {@link #isLifecycleViolation(long)} tells them apart and {@link #name(long)} names any code.
 */
public final class PublishStatus
{
    /** The engine is closed, or closing: the event was not taken. */
    public static final long CLOSED = -1;
    /** The ring is full (back-pressure, from {@code tryPublish} only): nothing was taken, try again later. */
    public static final long RING_FULL = -2;
    /** The draft is not a valid event (missing target, unknown type, missing field, payload too large). */
    public static final long INVALID_ARGUMENT = -3;
    /** The draft's event id was already accepted within the dedup window: dropped idempotently. */
    public static final long DUPLICATE = -4;

    /** Lifecycle: an event other than {@code agent_started} for a run that never started. */
    public static final long RUN_NOT_STARTED = -10;
    /** Lifecycle: {@code agent_started} for a run that is already open. */
    public static final long RUN_ALREADY_STARTED = -11;
    /** Lifecycle: any event for a run that has completed; a new run needs a new run id. */
    public static final long RUN_COMPLETED = -12;
    /** Lifecycle: {@code tool_completed} naming no open {@code tool_executing} call id. */
    public static final long TOOL_CALL_UNKNOWN = -13;
    /** Lifecycle: {@code tool_executing} reusing a call id that is still open in this run. */
    public static final long TOOL_CALL_DUPLICATE = -14;
    /** Lifecycle: {@code agent_completed} with outcome success while tool calls are still open. */
    public static final long TOOL_CALLS_OPEN = -15;

    /**
     * Limit: {@code agent_started} while the engine holds {@link AgentWireConfig#maxRuns()} runs (open, or
     * completed and within their retention); retry once runs complete and age out.
     */
    public static final long TOO_MANY_RUNS = -20;
    /** Limit: {@code tool_executing} while the run holds {@link AgentWireConfig#maxToolCallsPerRun()} open calls. */
    public static final long TOO_MANY_TOOL_CALLS = -21;

    private PublishStatus()
    {
    }

    /**
     * @param status a value returned by a publish.
     * @return true when the event was accepted.
     */
    public static boolean isAccepted(final long status)
    {
        return status >= 0;
    }

    /**
     * @param status a value returned by a publish.
     * @return true when the status is one of the run lifecycle rules.
     */
    public static boolean isLifecycleViolation(final long status)
    {
        return status <= RUN_NOT_STARTED && status >= TOOL_CALLS_OPEN;
    }

    /**
     * Stable snake_case name of a status, as used on the wire and in metrics.
     *
     * @param status a value returned by a publish.
     * @return {@code "accepted"} for any position, else the code's name.
     */
    public static String name(final long status)
    {
        if (status >= 0)
        {
            return "accepted";
        }
        if (status == CLOSED)
        {
            return "closed";
        }
        if (status == RING_FULL)
        {
            return "ring_full";
        }
        if (status == INVALID_ARGUMENT)
        {
            return "invalid_argument";
        }
        if (status == DUPLICATE)
        {
            return "duplicate";
        }
        if (status == RUN_NOT_STARTED)
        {
            return "run_not_started";
        }
        if (status == RUN_ALREADY_STARTED)
        {
            return "run_already_started";
        }
        if (status == RUN_COMPLETED)
        {
            return "run_completed";
        }
        if (status == TOOL_CALL_UNKNOWN)
        {
            return "tool_call_unknown";
        }
        if (status == TOOL_CALL_DUPLICATE)
        {
            return "tool_call_duplicate";
        }
        if (status == TOOL_CALLS_OPEN)
        {
            return "tool_calls_open";
        }
        if (status == TOO_MANY_RUNS)
        {
            return "too_many_runs";
        }
        if (status == TOO_MANY_TOOL_CALLS)
        {
            return "too_many_tool_calls";
        }
        return "unknown_status_" + status;
    }
}
