package dev.agentwire.server.ingest;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The run lifecycle of native AG-UI events ({@code POST /v1/ag-ui/events}): the rules AG-UI's {@code verifyEvents}
 * enforces — a run starts once and nothing follows its end; text messages, tool calls, reasoning spans and messages
 * and steps start, continue and end in pairs; a run does not finish with any of them open — kept per run across
 * batches, so what AgentWire delivers of a run on {@code /v1/ag-ui} verifies.
 * <p>
 * A batch is checked whole against a copy of the state it touches and applied only if every event passes:
 * {@link #check} either applies the batch and returns its plan, or throws a {@link Violation} naming the rule and
 * changes nothing. Applying at once serialises concurrent batches of one run; a batch the sequencer then refuses is
 * taken back with {@link #revert}. Runs are bounded ({@code maxRuns}); a finished run's state is kept (so its id is
 * not reused) until the bound evicts it, oldest first. Thread-safe (one lock: ingest is not the fan-out path).
 */
final class AgUiRules
{
    /** The refusal's name: the metric's reason and the HTTP answer's {@code error}. */
    static final String REFUSED = "ag_ui_invalid";

    /** A rule broken: refused whole, nothing delivered. */
    static final class Violation extends Exception
    {
        private static final long serialVersionUID = 1L;
        final String rule;
        final int index;

        Violation(final String rule, final int index, final String message)
        {
            super(message, null, false, false);
            this.rule = rule;
            this.index = index;
        }
    }

    /** One run's open parts. */
    static final class Run
    {
        final String threadId;
        boolean ended;
        final Set<String> textMessages = new HashSet<>();
        final Set<String> toolCalls = new HashSet<>();
        final Set<String> reasoning = new HashSet<>();
        final Set<String> reasoningMessages = new HashSet<>();
        final Set<String> steps = new HashSet<>();

        Run(final String threadId)
        {
            this.threadId = threadId;
        }

        Run copy()
        {
            final Run copy = new Run(threadId);
            copy.ended = ended;
            copy.textMessages.addAll(textMessages);
            copy.toolCalls.addAll(toolCalls);
            copy.reasoning.addAll(reasoning);
            copy.reasoningMessages.addAll(reasoningMessages);
            copy.steps.addAll(steps);
            return copy;
        }
    }

    /** What a checked batch does: the run each event belongs to, and the runs' states after it. */
    static final class Plan
    {
        final String[] runIds;
        final String[] threadIds;
        final Map<String, Run> after = new HashMap<>();
        final Map<String, Run> before = new HashMap<>();

        Plan(final int events)
        {
            runIds = new String[events];
            threadIds = new String[events];
        }
    }

    /** Every AG-UI 1.0 event type; anything else is refused. */
    static final Set<String> TYPES = Set.of("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
        "TEXT_MESSAGE_CHUNK", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_CHUNK",
        "TOOL_CALL_RESULT", "STATE_SNAPSHOT", "STATE_DELTA", "MESSAGES_SNAPSHOT", "ACTIVITY_SNAPSHOT", "ACTIVITY_DELTA",
        "RAW", "CUSTOM", "RUN_STARTED", "RUN_FINISHED", "RUN_ERROR", "STEP_STARTED", "STEP_FINISHED", "REASONING_START",
        "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END", "REASONING_MESSAGE_CHUNK",
        "REASONING_END", "REASONING_ENCRYPTED_VALUE", "SUBAGENT_STARTED", "SUBAGENT_FINISHED", "SUBAGENT_ERROR");

    private final int maxRuns;
    // owner + '\u0000' + runId -> state; insertion order = age, for eviction.
    private final LinkedHashMap<String, Run> runs = new LinkedHashMap<>();

    AgUiRules(final int maxRuns)
    {
        if (maxRuns <= 0)
        {
            throw new IllegalArgumentException("maxRuns=" + maxRuns + " must be > 0");
        }
        this.maxRuns = maxRuns;
    }

    /**
     * @param owner     the recipient the run belongs to ({@code u:alice} or {@code r:room}).
     * @param events    the body's AG-UI events.
     * @param openRunId the run the first events continue when the batch does not start with RUN_STARTED, or null.
     * @return the plan, applied: the run each event belongs to.
     * @throws Violation the first rule an event breaks (nothing applied).
     */
    synchronized Plan check(final String owner, final JsonNode events, final String openRunId) throws Violation
    {
        final Plan plan = new Plan(events.size());
        String current = null;
        if (openRunId != null)
        {
            final Run run = state(plan, owner, openRunId);
            if (run == null || run.ended)
            {
                throw new Violation(run == null ? "run_not_started" : "run_finished", -1,
                    "runId " + openRunId + (run == null ? " has not been started" : " has already ended"));
            }
            current = openRunId;
        }
        for (int i = 0; i < events.size(); i++)
        {
            final JsonNode event = events.get(i);
            final String type = event.path("type").asText("");
            if (!event.isObject() || !TYPES.contains(type))
            {
                throw new Violation("unknown_event_type", i, "events[" + i + "].type is not an AG-UI event type");
            }
            if ("RUN_STARTED".equals(type))
            {
                final String runId = text(event, "runId", i);
                final String threadId = text(event, "threadId", i);
                final Run known = state(plan, owner, runId);
                if (known != null)
                {
                    throw new Violation(known.ended ? "run_finished" : "run_already_started", i,
                        "events[" + i + "]: run " + runId + (known.ended ? " has ended; a new run takes a new runId" :
                        " is already running"));
                }
                if (current != null && !state(plan, owner, current).ended)
                {
                    throw new Violation("run_already_started", i, "events[" + i + "]: RUN_STARTED while run " +
                        current + " is still running");
                }
                plan.after.put(key(owner, runId), new Run(threadId));
                current = runId;
            }
            else
            {
                if (current == null)
                {
                    throw new Violation("run_not_started", i, "events[" + i + "]: " + type +
                        " before RUN_STARTED (or give runId to continue an open run)");
                }
                final Run run = state(plan, owner, current);
                if (run.ended)
                {
                    throw new Violation("run_finished", i, "events[" + i + "]: " + type + " after run " + current +
                        " ended");
                }
                apply(run, event, type, i);
            }
            plan.runIds[i] = current;
            plan.threadIds[i] = state(plan, owner, current).threadId;
        }
        for (final Map.Entry<String, Run> entry : plan.after.entrySet())
        {
            plan.before.put(entry.getKey(), runs.remove(entry.getKey()));
            runs.put(entry.getKey(), entry.getValue());
        }
        while (runs.size() > maxRuns)
        {
            runs.remove(runs.keySet().iterator().next());
        }
        return plan;
    }

    /** Takes back a batch the sequencer refused, where no later batch has built on it. */
    synchronized void revert(final Plan plan)
    {
        for (final Map.Entry<String, Run> entry : plan.after.entrySet())
        {
            if (runs.get(entry.getKey()) == entry.getValue())
            {
                final Run before = plan.before.get(entry.getKey());
                if (before == null)
                {
                    runs.remove(entry.getKey());
                }
                else
                {
                    runs.put(entry.getKey(), before);
                }
            }
        }
    }

    synchronized int size()
    {
        return runs.size();
    }

    private static void apply(final Run run, final JsonNode event, final String type, final int i) throws Violation
    {
        switch (type)
        {
            case "TEXT_MESSAGE_START":
                open(run.textMessages, text(event, "messageId", i), "text_message_already_started", i);
                break;
            case "TEXT_MESSAGE_CONTENT":
                need(run.textMessages, text(event, "messageId", i), "text_message_not_started", i);
                break;
            case "TEXT_MESSAGE_END":
                close(run.textMessages, text(event, "messageId", i), "text_message_not_started", i);
                break;
            case "TOOL_CALL_START":
                text(event, "toolCallName", i);
                open(run.toolCalls, text(event, "toolCallId", i), "tool_call_already_started", i);
                break;
            case "TOOL_CALL_ARGS":
                need(run.toolCalls, text(event, "toolCallId", i), "tool_call_not_started", i);
                break;
            case "TOOL_CALL_END":
                close(run.toolCalls, text(event, "toolCallId", i), "tool_call_not_started", i);
                break;
            case "REASONING_START":
                open(run.reasoning, text(event, "messageId", i), "reasoning_already_started", i);
                break;
            case "REASONING_END":
                close(run.reasoning, text(event, "messageId", i), "reasoning_not_started", i);
                break;
            case "REASONING_MESSAGE_START":
                open(run.reasoningMessages, text(event, "messageId", i), "reasoning_message_already_started", i);
                break;
            case "REASONING_MESSAGE_CONTENT":
                need(run.reasoningMessages, text(event, "messageId", i), "reasoning_message_not_started", i);
                break;
            case "REASONING_MESSAGE_END":
                close(run.reasoningMessages, text(event, "messageId", i), "reasoning_message_not_started", i);
                break;
            case "STEP_STARTED":
                open(run.steps, text(event, "stepName", i), "step_already_started", i);
                break;
            case "STEP_FINISHED":
                close(run.steps, text(event, "stepName", i), "step_not_started", i);
                break;
            case "RUN_FINISHED":
                if (!run.textMessages.isEmpty() || !run.toolCalls.isEmpty() || !run.reasoning.isEmpty() ||
                    !run.reasoningMessages.isEmpty() || !run.steps.isEmpty())
                {
                    throw new Violation("run_has_open_parts", i, "events[" + i + "]: RUN_FINISHED with open " +
                        "text messages " + run.textMessages + ", tool calls " + run.toolCalls + ", reasoning " +
                        run.reasoning + run.reasoningMessages + ", steps " + run.steps);
                }
                run.ended = true;
                break;
            case "RUN_ERROR":
                text(event, "message", i);
                run.ended = true;
                break;
            default:
                break; // results, state, snapshots, chunks, custom, raw, activity, subagents: no pairing here
        }
    }

    private Run state(final Plan plan, final String owner, final String runId)
    {
        final String key = key(owner, runId);
        Run run = plan.after.get(key);
        if (run == null)
        {
            final Run known = runs.get(key);
            if (known == null)
            {
                return null;
            }
            run = known.copy();
            plan.after.put(key, run);
        }
        return run;
    }

    private static void open(final Set<String> open, final String id, final String rule, final int i) throws Violation
    {
        if (!open.add(id))
        {
            throw new Violation(rule, i, "events[" + i + "]: " + id + " is already open");
        }
    }

    private static void need(final Set<String> open, final String id, final String rule, final int i) throws Violation
    {
        if (!open.contains(id))
        {
            throw new Violation(rule, i, "events[" + i + "]: " + id + " was not started");
        }
    }

    private static void close(final Set<String> open, final String id, final String rule, final int i) throws Violation
    {
        if (!open.remove(id))
        {
            throw new Violation(rule, i, "events[" + i + "]: " + id + " was not started");
        }
    }

    private static String text(final JsonNode event, final String field, final int i) throws Violation
    {
        final JsonNode value = event.get(field);
        if (value == null || !value.isTextual() || value.asText().isEmpty())
        {
            throw new Violation("missing_field", i, "events[" + i + "]." + field + " must be a non-empty string");
        }
        return value.asText();
    }

    private static String key(final String owner, final String runId)
    {
        return owner + '\u0000' + runId;
    }
}
