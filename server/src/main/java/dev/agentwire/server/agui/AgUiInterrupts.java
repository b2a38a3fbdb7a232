package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * AG-UI 1.0's interrupt rules (human in the loop), as the server keeps them for every user's thread: a run that ends
 * with {@code RUN_FINISHED} {@code outcome: {type: "interrupt", interrupts: [...]}} leaves its thread waiting; the
 * next input on that thread must answer every one of those interrupts in its {@code resume[]} ({@code resolved} or
 * {@code cancelled}) and nothing else, and an input that answers nothing is not run while the thread waits. An
 * accepted answer closes the wait (a second tab answering again is refused), and so does a new run started on the
 * thread (as the prelude shows it). The wait is kept as a thread's entry among the run states ({@link AgUiRules}),
 * so a cluster shares it like a run's state.
 * <p>
 * Refusals, each the {@code code} of the {@code RUN_ERROR} (or error frame) that answers the input; documented in
 * docs/AG-UI.md, "Human in the loop".
 */
final class AgUiInterrupts
{
    /** The thread waits for answers, and the input carries no {@code resume[]}. */
    static final String OPEN = "interrupt_open";
    /** A {@code resume[]} entry names no interrupt the thread waits for (none waits, or another one). */
    static final String UNKNOWN = "interrupt_unknown";
    /** The {@code resume[]} leaves an interrupt unanswered (omission is not abandonment). */
    static final String UNCOVERED = "interrupt_uncovered";
    /** An interrupt past its {@code expiresAt} is resolved: it can only be cancelled now. */
    static final String EXPIRED = "interrupt_expired";
    /** A {@code resume[]} entry is malformed: not an object, no {@code interruptId}, a status other than
     * {@code resolved} or {@code cancelled}, or an interrupt answered twice. */
    static final String RESUME_INVALID = "resume_invalid";
    /** A {@code RUN_FINISHED}'s interrupt outcome that could not be answered (ingest): no interrupts, more than
     * {@link #MAX_INTERRUPTS}, an id missing, too long or repeated. */
    static final String INTERRUPT_INVALID = "interrupt_invalid";

    /** Interrupts one run may end with: what a thread's entry keeps is bounded. */
    static final int MAX_INTERRUPTS = 64;

    /** The key of a thread's entry among the run states; no run id has a NUL ({@link AgUiPartRules#id}). */
    private static final String ENTRY = "\u0000thread\u0000";

    private AgUiInterrupts()
    {
    }

    /** @return the key of the thread's entry among its owner's run states. */
    static String entryOf(final String threadId)
    {
        return ENTRY + threadId;
    }

    /** @return whether a RUN_FINISHED ends its run on an interrupt. */
    static boolean isInterrupt(final JsonNode runFinished)
    {
        return "interrupt".equals(runFinished.path("outcome").path("type").asText(null));
    }

    /**
     * The thread now waits for the interrupts of {@code runId} (a RUN_FINISHED at {@code events[index]}).
     *
     * @throws AgUiRules.Violation {@link #INTERRUPT_INVALID}: the interrupts could never be answered.
     */
    static void record(final AgUiRun entry, final String runId, final JsonNode runFinished, final int index)
        throws AgUiRules.Violation
    {
        final JsonNode interrupts = runFinished.path("outcome").path("interrupts");
        if (!interrupts.isArray() || interrupts.isEmpty() || interrupts.size() > MAX_INTERRUPTS)
        {
            throw new AgUiRules.Violation(INTERRUPT_INVALID, index, "events[" + index + "].outcome.interrupts must " +
                "list 1.." + MAX_INTERRUPTS + " interrupts");
        }
        final List<String> ids = new ArrayList<>();
        final List<String> expiries = new ArrayList<>();
        for (final JsonNode interrupt : interrupts)
        {
            final String id = interrupt.path("id").asText("");
            if (!interrupt.path("id").isTextual() || id.isEmpty() || id.length() > AgUiRules.MAX_ID_LENGTH ||
                ids.contains(id))
            {
                throw new AgUiRules.Violation(INTERRUPT_INVALID, index, "events[" + index + "]: each interrupt " +
                    "has an id of 1.." + AgUiRules.MAX_ID_LENGTH + " characters, unique within the run");
            }
            ids.add(id);
            expiries.add(interrupt.path("expiresAt").isTextual() ? interrupt.get("expiresAt").asText() : null);
        }
        entry.interruptedRun = runId;
        entry.interruptIds.clear();
        entry.interruptIds.addAll(ids);
        entry.interruptExpiries.clear();
        entry.interruptExpiries.addAll(expiries);
        entry.endedAtMs = 0; // kept for the retention from this change
    }

    /** The thread waits no more: answered, or a new run started on it. */
    static void clear(final AgUiRun entry)
    {
        entry.interruptedRun = null;
        entry.interruptIds.clear();
        entry.interruptExpiries.clear();
        entry.endedAtMs = 0;
    }

    /**
     * Judges an input on a thread against the thread's entry.
     *
     * @param entry  the thread's entry, or null when none is kept.
     * @param resume the input's {@code resume} (missing, null or an array).
     * @param nowMs  the wall clock, for {@code expiresAt}.
     * @return whether the input answers a wait (the entry is then cleared by the caller).
     * @throws AgUiRules.Violation the rule the input breaks.
     */
    static boolean judge(final AgUiRun entry, final JsonNode resume, final long nowMs) throws AgUiRules.Violation
    {
        final boolean waiting = entry != null && entry.interruptedRun != null;
        final int answers = resume != null && resume.isArray() ? resume.size() : 0;
        if (!waiting)
        {
            if (answers > 0)
            {
                throw new AgUiRules.Violation(UNKNOWN, -1, "resume[0].interruptId " +
                    resume.get(0).path("interruptId") + ": no interrupt waits on this thread (answered already, " +
                    "or a later run started)");
            }
            return false;
        }
        if (answers == 0)
        {
            throw new AgUiRules.Violation(OPEN, -1, "run " + entry.interruptedRun + " waits for an answer to " +
                "interrupts " + entry.interruptIds + ": the next input on this thread answers each in resume[] " +
                "(resolved or cancelled)");
        }
        final Set<String> answered = new HashSet<>();
        for (int i = 0; i < answers; i++)
        {
            final JsonNode answer = resume.get(i);
            final String id = answer.path("interruptId").asText(null);
            final String status = answer.path("status").asText("");
            if (id == null || !("resolved".equals(status) || "cancelled".equals(status)) || !answered.add(id))
            {
                throw new AgUiRules.Violation(RESUME_INVALID, i, "resume[" + i + "] needs an interruptId answered " +
                    "once and a status of resolved or cancelled");
            }
            final int at = entry.interruptIds.indexOf(id);
            if (at < 0)
            {
                throw new AgUiRules.Violation(UNKNOWN, i, "resume[" + i + "].interruptId " + id + " is not one of " +
                    "the interrupts run " + entry.interruptedRun + " waits for: " + entry.interruptIds);
            }
            if ("resolved".equals(status) && expired(entry.interruptExpiries.get(at), nowMs))
            {
                throw new AgUiRules.Violation(EXPIRED, i, "resume[" + i + "]: interrupt " + id + " expired at " +
                    entry.interruptExpiries.get(at) + "; it can only be cancelled");
            }
        }
        if (answered.size() < entry.interruptIds.size())
        {
            final List<String> missing = new ArrayList<>(entry.interruptIds);
            missing.removeAll(answered);
            throw new AgUiRules.Violation(UNCOVERED, -1, "resume[] leaves interrupts " + missing + " of run " +
                entry.interruptedRun + " unanswered: answer each (resolved, or cancelled to abandon it)");
        }
        return true;
    }

    /**
     * The spec leaves {@code expiresAt}'s format open: an ISO-8601 date-time is read as one; what does not read as
     * one never expires here (the runtime judges it).
     */
    static boolean expired(final String expiresAt, final long nowMs)
    {
        if (expiresAt == null)
        {
            return false;
        }
        try
        {
            return OffsetDateTime.parse(expiresAt).toInstant().toEpochMilli() <= nowMs;
        }
        catch (final DateTimeParseException unreadable)
        {
            return false;
        }
    }
}
