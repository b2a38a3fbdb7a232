package dev.agentwire.core;

/**
 * Builds the drafts of a complete agent run, the way a runtime would.
 */
final class Drafts
{
    private Drafts()
    {
    }

    static EventDraft started(final EventDraft d, final String user, final String run)
    {
        return d.reset().toUser(user).type(EventTypes.AGENT_STARTED).runId(run).threadId("t-" + run)
            .payload("{\"agent\":\"helper\"}");
    }

    static EventDraft thinking(final EventDraft d, final String user, final String run, final String text)
    {
        return d.reset().toUser(user).type(EventTypes.AGENT_THINKING).runId(run).payload("{\"text\":\"" + text + "\"}");
    }

    static EventDraft executing(final EventDraft d, final String user, final String run, final String call)
    {
        return d.reset().toUser(user).type(EventTypes.TOOL_EXECUTING).runId(run).toolCallId(call)
            .payload("{\"tool_call_id\":\"" + call + "\",\"tool\":\"search\",\"args\":{}}");
    }

    static EventDraft toolCompleted(final EventDraft d, final String user, final String run, final String call)
    {
        return d.reset().toUser(user).type(EventTypes.TOOL_COMPLETED).runId(run).toolCallId(call)
            .payload("{\"tool_call_id\":\"" + call + "\",\"result\":\"ok\"}");
    }

    static EventDraft completed(final EventDraft d, final String user, final String run, final byte outcome)
    {
        return d.reset().toUser(user).type(EventTypes.AGENT_COMPLETED).runId(run).outcome(outcome)
            .payload("{\"outcome\":\"" + Outcome.name(outcome) + "\"}");
    }

    static EventDraft custom(final EventDraft d, final String user, final String payload)
    {
        return d.reset().toUser(user).type("test.note").payload(payload);
    }

    /** Publishes a full, valid run of five events and returns the last status. */
    static long fullRun(final AgentWire wire, final EventDraft d, final String user, final String run)
    {
        long status = wire.publish(started(d, user, run));
        status = Math.min(status, wire.publish(thinking(d, user, run, "hmm")));
        status = Math.min(status, wire.publish(executing(d, user, run, "c1")));
        status = Math.min(status, wire.publish(toolCompleted(d, user, run, "c1")));
        status = Math.min(status, wire.publish(completed(d, user, run, Outcome.SUCCESS)));
        return status;
    }
}
