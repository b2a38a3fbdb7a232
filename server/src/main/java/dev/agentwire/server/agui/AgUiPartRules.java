package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.agui.AgUiRules.Violation;

import java.util.Map;
import java.util.Set;

/**
 * What one event of a running native AG-UI run does to the run's open parts (text messages, tool calls, reasoning,
 * steps), and the field checks every event goes through: the per-event half of {@link AgUiRules}, which keeps the
 * runs and checks batches whole. Stateless apart from its bound; called under {@link AgUiRules}' lock.
 */
final class AgUiPartRules
{
    /** Open ids a refusal names at most (a run may hold thousands). */
    private static final int IDS_NAMED = 8;

    private final int maxOpenParts;

    /** @param maxOpenParts parts one run may hold open ({@code run_too_many_open_parts} above). */
    AgUiPartRules(final int maxOpenParts)
    {
        this.maxOpenParts = maxOpenParts;
    }

    /**
     * Applies one event of a running run: its part opens ({@code <kind>_already_started} when open), continues or
     * closes ({@code <kind>_not_started} when not open), as {@link AgUiVocabulary} pairs them; a run finishes with
     * nothing open ({@code run_has_open_parts}). Results, state, snapshots, chunks, custom, raw, activity and
     * subagents pair with nothing here.
     */
    void apply(final AgUiRun run, final JsonNode event, final String type, final int i) throws Violation
    {
        final String opens = AgUiVocabulary.OPENS.get(type);
        if (opens != null)
        {
            if ("TOOL_CALL_START".equals(type))
            {
                id(event, "toolCallName", i);
            }
            open(run, run.open.get(type), id(event, opens, i), AgUiVocabulary.kind(type) + "_already_started", i);
            return;
        }
        final String continued = AgUiVocabulary.CONTINUES.get(type);
        final String closed = AgUiVocabulary.CLOSES.get(type);
        final String start = continued != null ? continued : closed;
        if (start != null)
        {
            final Set<String> open = run.open.get(start);
            final String id = id(event, AgUiVocabulary.OPENS.get(start), i);
            if (!(continued != null ? open.contains(id) : open.remove(id)))
            {
                throw new Violation(AgUiVocabulary.kind(start) + "_not_started", i,
                    "events[" + i + "]: " + id + " was not started");
            }
            return;
        }
        if (AgUiVocabulary.RUN_FINISHED.equals(type))
        {
            if (run.openParts() > 0)
            {
                final StringBuilder named = new StringBuilder();
                for (final Map.Entry<String, Set<String>> kind : run.open.entrySet())
                {
                    named.append(named.length() == 0 ? "" : ", ").append(AgUiVocabulary.kind(kind.getKey()))
                        .append(' ').append(some(kind.getValue()));
                }
                throw new Violation("run_has_open_parts", i, "events[" + i + "]: RUN_FINISHED with open parts: " +
                    named);
            }
            run.ended = true;
        }
        else if (AgUiVocabulary.RUN_ERROR.equals(type))
        {
            text(event, "message", i);
            run.ended = true;
        }
    }

    private void open(final AgUiRun run, final Set<String> open, final String id, final String rule, final int i)
        throws Violation
    {
        if (!open.contains(id) && run.openParts() >= maxOpenParts)
        {
            throw new Violation("run_too_many_open_parts", i, "events[" + i + "]: " + id + " would be more than " +
                maxOpenParts + " parts open in one run");
        }
        if (!open.add(id))
        {
            throw new Violation(rule, i, "events[" + i + "]: " + id + " is already open");
        }
    }

    static String text(final JsonNode event, final String field, final int i) throws Violation
    {
        final JsonNode value = event.get(field);
        if (value == null || !value.isTextual() || value.asText().isEmpty())
        {
            throw new Violation("missing_field", i, "events[" + i + "]." + field + " must be a non-empty string");
        }
        return value.asText();
    }

    /**
     * A {@link #text} that names something (a run, a message, a tool call, a step): at most
     * {@link AgUiRules#MAX_ID_LENGTH} characters, and no NUL (a thread's entry among the run states is keyed with
     * one: {@link AgUiInterrupts#entryOf}).
     */
    static String id(final JsonNode event, final String field, final int i) throws Violation
    {
        final String id = text(event, field, i);
        if (id.length() > AgUiRules.MAX_ID_LENGTH)
        {
            throw new Violation("field_too_long", i, "events[" + i + "]." + field + " is longer than " +
                AgUiRules.MAX_ID_LENGTH + " characters");
        }
        if (id.indexOf('\u0000') >= 0)
        {
            throw new Violation("field_invalid", i, "events[" + i + "]." + field + " has a NUL character");
        }
        return id;
    }

    /** A set's first few ids and how many there are: a refusal stays short when a run holds thousands. */
    private static String some(final Set<String> ids)
    {
        if (ids.size() <= IDS_NAMED)
        {
            return ids.toString();
        }
        final StringBuilder named = new StringBuilder("[");
        int n = 0;
        for (final String id : ids)
        {
            if (n++ == IDS_NAMED)
            {
                break;
            }
            named.append(n == 1 ? "" : ", ").append(id);
        }
        return named.append(", … ").append(ids.size()).append(" in all]").toString();
    }
}
