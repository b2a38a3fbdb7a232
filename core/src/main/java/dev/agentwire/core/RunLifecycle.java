package dev.agentwire.core;

/**
 * The run lifecycle rules, as a pure check and a separate apply, so a publish can refuse without changing state
 * and change state only once the event has its ring slot.
 * <pre>
 *   (none) --agent_started--&gt; OPEN --agent_thinking / agent_answer / tool_executing(id) / tool_completed(open id)--&gt; OPEN
 *   OPEN --agent_completed(success, no open calls | error | cancelled)--&gt; COMPLETED
 *   COMPLETED --anything--&gt; refused (a new run takes a new run id)
 * </pre>
 */
final class RunLifecycle
{
    private RunLifecycle()
    {
    }

    /**
     * @param run              the run's state, or null when the run is unknown.
     * @param typeCode         one of the five agent type codes of {@link EventTypes}.
     * @param maxOpenToolCalls the most tool calls a run may hold open.
     * @return 0 when allowed, else the {@link PublishStatus} of the rule broken.
     */
    static long check(
        final RunState run, final int typeCode, final String toolCallId, final byte outcome, final int maxOpenToolCalls)
    {
        if (run == null)
        {
            return typeCode == EventTypes.STARTED ? 0 : PublishStatus.RUN_NOT_STARTED;
        }
        if (run.completed)
        {
            return PublishStatus.RUN_COMPLETED;
        }
        switch (typeCode)
        {
            case EventTypes.STARTED:
                return PublishStatus.RUN_ALREADY_STARTED;
            case EventTypes.THINKING:
                return 0;
            case EventTypes.EXECUTING:
                if (run.isOpen(toolCallId))
                {
                    return PublishStatus.TOOL_CALL_DUPLICATE;
                }
                return run.openCount() >= maxOpenToolCalls ? PublishStatus.TOO_MANY_TOOL_CALLS : 0;
            case EventTypes.COMPLETED_TOOL:
                return run.isOpen(toolCallId) ? 0 : PublishStatus.TOOL_CALL_UNKNOWN;
            case EventTypes.COMPLETED_AGENT:
                return outcome == Outcome.SUCCESS && run.openCount() > 0 ? PublishStatus.TOOL_CALLS_OPEN : 0;
            default:
                throw new IllegalArgumentException("typeCode=" + typeCode);
        }
    }

    /**
     * Applies an event that {@link #check} allowed.
     *
     * @return the run's state after the event (a new one for {@code agent_started}).
     */
    static RunState apply(final RunState run, final int typeCode, final String toolCallId, final long nowMs)
    {
        final RunState state = run == null ? new RunState() : run;
        state.lastEventMs = nowMs;
        switch (typeCode)
        {
            case EventTypes.EXECUTING:
                state.open(toolCallId);
                break;
            case EventTypes.COMPLETED_TOOL:
                state.close(toolCallId);
                break;
            case EventTypes.COMPLETED_AGENT:
                state.complete();
                break;
            default:
                break;
        }
        return state;
    }
}
