package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.sequencing.RunStateGuard;

import java.util.Map;

/**
 * The run lifecycle of native AG-UI events ({@code POST /v1/ag-ui/events}): the rules AG-UI's {@code verifyEvents}
 * enforces — a run starts once and nothing follows its end; text messages, tool calls, reasoning spans and messages
 * and steps start, continue and end in pairs; a run does not finish with any of them open — kept per run across
 * batches, so what AgentWire delivers of a run on {@code /v1/ag-ui} verifies.
 * <p>
 * A batch is checked whole against a copy of the state it touches and applied only if every event passes:
 * {@link #check} either applies the batch and returns its plan, or throws a {@link Violation} naming the rule and
 * changes nothing. Applying at once serialises concurrent batches of one run; a batch the sequencer then refuses is
 * taken back with {@link #revert}, or, when the sequencer accepted a prefix of it, cut back to that prefix with
 * {@link #keepPrefix}, so a retry from the first event not accepted continues the run.
 * <p>
 * Bounded like the engine's runs: at most {@code maxRuns} runs (oldest forgotten first), at most
 * {@code maxOpenParts} parts open in one run ({@code run_too_many_open_parts}), ids of at most
 * {@link #MAX_ID_LENGTH} characters ({@code field_too_long}), and a finished run's state kept (so its id is not
 * reused) for {@code retentionMs} after it ended. Thread-safe (one lock: ingest is not the fan-out path).
 */
public final class AgUiRules
{
    /** The refusal's name: the metric's reason and the HTTP answer's {@code error}. */
    public static final String REFUSED = "ag_ui_invalid";

    /** A rule broken: refused whole, nothing delivered. */
    public static final class Violation extends Exception
    {
        private static final long serialVersionUID = 1L;
        /** The rule broken (the answer's {@code rule}). */
        public final String rule;
        /** The event that broke it, or -1 for the batch as a whole. */
        public final int index;

        Violation(final String rule, final int index, final String message)
        {
            super(message, null, false, false);
            this.rule = rule;
            this.index = index;
        }
    }

    /** Longest id (runId, threadId, messageId, toolCallId, stepName, toolCallName) a native event may carry. */
    static final int MAX_ID_LENGTH = 256;

    private final AgUiPartRules parts;
    private final long repeatWindowMs;
    private final AgUiRunTable runs;

    /**
     * @param maxRuns      runs whose state is kept at most (the oldest changed is forgotten past it).
     * @param maxOpenParts parts (text messages, tool calls, reasoning, steps) one run may hold open.
     * @param retentionMs  how long a finished run's state is kept.
     */
    AgUiRules(final int maxRuns, final int maxOpenParts, final long retentionMs, final long repeatWindowMs)
    {
        if (maxRuns <= 0 || maxOpenParts <= 0 || retentionMs <= 0 || repeatWindowMs <= 0)
        {
            throw new IllegalArgumentException("maxRuns=" + maxRuns + " maxOpenParts=" + maxOpenParts +
                " retentionMs=" + retentionMs + " repeatWindowMs=" + repeatWindowMs + " must all be > 0");
        }
        this.repeatWindowMs = repeatWindowMs;
        this.parts = new AgUiPartRules(maxOpenParts);
        this.runs = new AgUiRunTable(maxRuns, retentionMs);
    }

    /** @see #check(String, JsonNode, String, String, long) without a batch key, now. */
    AgUiPlan check(final String owner, final JsonNode events, final String openRunId) throws Violation
    {
        return check(owner, events, openRunId, null, System.currentTimeMillis());
    }

    /**
     * @param owner     the recipient the run belongs to ({@code u:alice} or {@code r:room}).
     * @param events    the body's AG-UI events.
     * @param openRunId the run the first events continue when the batch does not start with RUN_STARTED, or null.
     * @param batchKey  the producer's idempotency key of this batch, or null: a batch sent again with the key of
     *                  the last batch applied to its run passes over the events that batch had accepted (the engine
     *                  answers them {@code duplicate}) and checks the rest.
     * @param nowMs     the wall clock, for the retention of finished runs.
     * @return the plan, applied: the run each event belongs to.
     * @throws Violation the first rule an event breaks (nothing applied).
     */
    synchronized AgUiPlan check(final String owner, final JsonNode events, final String openRunId,
        final String batchKey,
        final long nowMs) throws Violation
    {
        runs.expire(nowMs);
        final AgUiPlan plan = new AgUiPlan(events.size());
        plan.owner = owner;
        plan.events = events;
        plan.openRunId = openRunId;
        plan.batchKey = batchKey;
        final int repeated = batchKey == null ? 0 : repeatedEvents(owner, events, openRunId, batchKey, nowMs);
        plan.repeated = repeated;
        String current = null;
        if (openRunId != null)
        {
            final AgUiRun run = runs.state(plan, owner, openRunId);
            // A keyed batch sent again may have ended its run the first time: its accepted events are passed over.
            if (run == null || (run.ended && repeated == 0))
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
            if (i < repeated)
            {
                // Accepted with this key before: the run's state already holds it, and the engine answers it
                // duplicate (same event id, within its dedup window). It is not re-checked, but it must still be an
                // AG-UI event: its draft needs a type (a fuzzer found a keyed resend whose repeated part had none).
                if (!event.isObject() || !AgUiVocabulary.TYPES.contains(type))
                {
                    throw new Violation("unknown_event_type", i, "events[" + i + "].type is not an AG-UI event type");
                }
                if ("RUN_STARTED".equals(type))
                {
                    current = event.path("runId").asText();
                }
                final AgUiRun known = current == null ? null : runs.state(plan, owner, current);
                if (known == null)
                {
                    // Not what this key's first batch did (a fuzzer found a key resent with another run): a batch key
                    // names one batch, and its events' ids were taken by the first one.
                    throw new Violation("batch_key_reused", i, "events[" + i + "] is not the event the batch first " +
                        "sent with id " + batchKey + " had there; a batch key names one batch");
                }
                plan.runIds[i] = current;
                plan.threadIds[i] = known.threadId;
                continue;
            }
            if (!event.isObject() || !AgUiVocabulary.TYPES.contains(type))
            {
                throw new Violation("unknown_event_type", i, "events[" + i + "].type is not an AG-UI event type");
            }
            if ("RUN_STARTED".equals(type))
            {
                final String runId = AgUiPartRules.id(event, "runId", i);
                final String threadId = AgUiPartRules.id(event, "threadId", i);
                final AgUiRun known = runs.state(plan, owner, runId);
                if (known != null)
                {
                    throw new Violation(known.ended ? "run_finished" : "run_already_started", i,
                        "events[" + i + "]: run " + runId + (known.ended ? " has ended; a new run takes a new runId" :
                        " is already running"));
                }
                if (current != null && !runs.state(plan, owner, current).ended)
                {
                    throw new Violation("run_already_started", i, "events[" + i + "]: RUN_STARTED while run " +
                        current + " is still running");
                }
                plan.after.put(AgUiRunTable.key(owner, runId), new AgUiRun(threadId));
                current = runId;
                supersede(plan, owner, threadId);
            }
            else
            {
                if (current == null)
                {
                    throw new Violation("run_not_started", i, "events[" + i + "]: " + type +
                        " before RUN_STARTED (or give runId to continue an open run)");
                }
                final AgUiRun run = runs.state(plan, owner, current);
                if (run.ended)
                {
                    throw new Violation("run_finished", i, "events[" + i + "]: " + type + " after run " + current +
                        " ended");
                }
                parts.apply(run, event, type, i);
                if ("RUN_FINISHED".equals(type) && AgUiInterrupts.isInterrupt(event))
                {
                    waitFor(plan, owner, run.threadId, current, event, i);
                }
            }
            plan.runIds[i] = current;
            plan.threadIds[i] = runs.state(plan, owner, current).threadId;
        }
        runs.commit(plan, batchKey, events.size(), nowMs);
        return plan;
    }

    /**
     * Judges a user's input on a thread against AG-UI's interrupt rules ({@link AgUiInterrupts}) and, when it answers
     * the thread's wait, applies that (a second answer is refused).
     *
     * @param owner    {@code u:<user>}.
     * @param resume   the input's {@code resume} (missing, null or an array).
     * @return the plan, applied: the thread's entry answered, or only read ({@link AgUiPlan#verified}).
     * @throws Violation the rule the input breaks (nothing applied).
     */
    synchronized AgUiPlan checkInput(final String owner, final String threadId, final JsonNode resume,
        final long nowMs) throws Violation
    {
        runs.expire(nowMs);
        final AgUiPlan plan = new AgUiPlan(0);
        plan.owner = owner;
        final String key = AgUiRunTable.key(owner, AgUiInterrupts.entryOf(threadId));
        final AgUiRun known = runs.get(key);
        if (AgUiInterrupts.judge(known, resume, nowMs))
        {
            final AgUiRun answered = known.copy();
            AgUiInterrupts.clear(answered);
            plan.after.put(key, answered);
            runs.commit(plan, null, 0, nowMs);
        }
        else
        {
            plan.verified.put(key, known == null ? 0 : known.version);
        }
        return plan;
    }

    /**
     * Takes back an input's answer that no runtime took after all: the thread waits again. Where a later change
     * built on it, nothing is taken back.
     *
     * @return for a cluster, the guard that writes the wait back (one version on from the answer).
     */
    synchronized RunStateGuard giveBack(final AgUiPlan plan)
    {
        final RunStateGuard guard = new RunStateGuard(plan.owner);
        for (final Map.Entry<String, AgUiRun> entry : plan.after.entrySet())
        {
            final AgUiRun before = plan.before.get(entry.getKey());
            if (runs.get(entry.getKey()) == entry.getValue() && before != null)
            {
                guard.add(AgUiRunTable.runIdOf(plan.owner, entry.getKey()), entry.getValue().version, before.toBytes());
            }
        }
        revert(plan);
        return guard;
    }

    /** @return a guard that only verifies this node's version of a thread's entry (a refused input's). */
    synchronized RunStateGuard verifyInputGuard(final String owner, final String threadId)
    {
        final AgUiRun known = runs.get(AgUiRunTable.key(owner, AgUiInterrupts.entryOf(threadId)));
        return new RunStateGuard(owner).add(AgUiInterrupts.entryOf(threadId), known == null ? 0 : known.version,
            null);
    }

    /** A run started on the thread: whatever the thread waited for was answered, or given up, by its input. */
    private void supersede(final AgUiPlan plan, final String owner, final String threadId)
    {
        final String entry = AgUiInterrupts.entryOf(threadId);
        final AgUiRun waiting = runs.state(plan, owner, entry);
        if (waiting == null)
        {
            plan.verified.put(AgUiRunTable.key(owner, entry), 0L); // none here; another node may hold one
        }
        else if (waiting.interruptedRun != null)
        {
            AgUiInterrupts.clear(waiting);
        }
    }

    /** The run ended on an interrupt: its thread waits for the answers. */
    private void waitFor(final AgUiPlan plan, final String owner, final String threadId, final String runId,
        final JsonNode runFinished, final int index) throws Violation
    {
        final String entry = AgUiInterrupts.entryOf(threadId);
        AgUiRun waiting = runs.state(plan, owner, entry);
        if (waiting == null)
        {
            waiting = new AgUiRun(threadId);
            waiting.ended = true; // an entry is kept for the retention of an ended run, from its last change
            plan.after.put(AgUiRunTable.key(owner, entry), waiting);
            plan.verified.remove(AgUiRunTable.key(owner, entry));
        }
        AgUiInterrupts.record(waiting, runId, runFinished, index);
    }

    /**
     * The sequencer accepted only the first {@code accepted} events of a checked batch (the ring filled, or the
     * engine refused one): the run state is taken back to what those events did, so a retry from the first event
     * not accepted (with the batch's {@code runId}) continues the run, and a retry of the whole batch with the same
     * key passes over what was accepted. Where a later batch already built on this one, nothing is taken back.
     */
    synchronized void keepPrefix(final AgUiPlan plan, final int accepted)
    {
        if (accepted <= plan.repeated)
        {
            revert(plan);
            restoreKeyedCount(plan, accepted);
            return;
        }
        for (final Map.Entry<String, AgUiRun> entry : plan.after.entrySet())
        {
            if (runs.get(entry.getKey()) != entry.getValue())
            {
                return; // built on since: its state is the later batch's, which saw these events as accepted
            }
        }
        revert(plan);
        final com.fasterxml.jackson.databind.node.ArrayNode prefix =
            com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        for (int i = 0; i < accepted; i++)
        {
            prefix.add(plan.events.get(i));
        }
        try
        {
            // With the batch's key, so the events an earlier send of it had accepted are passed over again; the
            // key's count becomes this prefix.
            check(plan.owner, prefix, plan.openRunId, plan.batchKey, System.currentTimeMillis());
        }
        catch (final Violation impossible)
        {
            // The prefix passed as part of the whole batch a moment ago, under this lock: it cannot fail alone.
            throw new IllegalStateException("a checked batch's prefix broke a rule: " + impossible.getMessage());
        }
    }

    private void restoreKeyedCount(final AgUiPlan plan, final int accepted)
    {
        if (plan.batchKey == null)
        {
            return;
        }
        for (final String key : plan.after.keySet())
        {
            final AgUiRun run = runs.get(key);
            if (run != null && plan.batchKey.equals(run.lastBatchKey))
            {
                run.lastBatchAccepted = Math.max(run.lastBatchAccepted, accepted);
            }
        }
    }

    /** @return how many leading events of a batch sent again with its key were already accepted. */
    private int repeatedEvents(
        final String owner, final JsonNode events, final String openRunId, final String batchKey, final long nowMs)
    {
        String runId = openRunId;
        if (runId == null && events.size() > 0 && "RUN_STARTED".equals(events.get(0).path("type").asText()))
        {
            runId = events.get(0).path("runId").asText(null);
        }
        if (runId == null)
        {
            return 0;
        }
        final AgUiRun run = runs.get(AgUiRunTable.key(owner, runId));
        // Only within the engine's dedup window: past it the repeated events would be delivered again, unchecked.
        if (run == null || !batchKey.equals(run.lastBatchKey) || nowMs - run.lastBatchAtMs > repeatWindowMs)
        {
            return 0;
        }
        return Math.min(run.lastBatchAccepted, events.size());
    }

    /**
     * @return a guard that only verifies the versions this node holds of the runs a batch names (its open run and
     *         the runs it starts): a refusal by a rule stands only if it was made against the current state.
     */
    synchronized RunStateGuard verifyGuard(final String owner, final JsonNode events, final String openRunId)
    {
        final java.util.Set<String> named = new java.util.LinkedHashSet<>();
        if (openRunId != null)
        {
            named.add(openRunId);
        }
        for (final JsonNode event : events)
        {
            final JsonNode runId = event.path("runId");
            if ("RUN_STARTED".equals(event.path("type").asText()) && runId.isTextual() && !runId.asText().isEmpty() &&
                runId.asText().length() <= MAX_ID_LENGTH)
            {
                named.add(runId.asText());
            }
        }
        final RunStateGuard guard = new RunStateGuard(owner);
        for (final String runId : named)
        {
            final AgUiRun known = runs.get(AgUiRunTable.key(owner, runId));
            guard.add(runId, known == null ? 0 : known.version, null);
        }
        return guard;
    }

    /** @return runs forgotten, at the maxRuns bound or past their retention. */
    synchronized long forgotten()
    {
        return runs.forgotten();
    }

    /** Takes back a batch the sequencer refused, where no later batch has built on it. */
    synchronized void revert(final AgUiPlan plan)
    {
        runs.revert(plan);
    }

    synchronized int size()
    {
        return runs.size();
    }

    /**
     * @return the guard of a checked batch: each run it touched, the version it was checked at and the state it
     *         leaves, and each state it only read (a cluster stores the batch only if those versions are current).
     */
    synchronized RunStateGuard guard(final AgUiPlan plan)
    {
        return runs.guard(plan);
    }

    /**
     * Takes the runs' current shared state a guard was answered with (another node changed them): this node's
     * copy becomes that state, or is dropped where none is kept.
     *
     * @throws IllegalArgumentException a state that is not one {@link AgUiRun#toBytes()} made.
     */
    synchronized void refresh(final RunStateGuard guard)
    {
        runs.refresh(guard);
    }

    /**
     * Drops this node's copy of the runs a batch touched: the cluster's answer left unknown what it stored (the
     * next batch of those runs is checked against the shared state, which a refusal verifies).
     */
    synchronized void forget(final AgUiPlan plan)
    {
        runs.forget(plan);
    }
}
