package dev.agentwire.server.sequencing;

import dev.agentwire.core.PublishStatus;

/**
 * The one table of what a sequencer can refuse: each status code with its name (on the wire and in metrics), the
 * HTTP status that answers it, and the message a producer reads. The engine's codes are {@link PublishStatus}'s,
 * named by it; the server adds the one status the engine cannot have, {@link #UNAVAILABLE}. Every path that answers
 * a refusal (HTTP ingest, producer sockets, room changes, users' join and leave) reads this table.
 */
public final class Refusals
{
    /** A cluster node's Redis could not be reached or did not answer in time. */
    public static final long UNAVAILABLE = -100;
    /** An event of a batch after the one refused: it was not tried (a batch stops at its first refusal). */
    public static final long NOT_ATTEMPTED = -101;
    /**
     * A cluster's Redis took the events but did not answer in time, or an event to a room or everyone was numbered
     * for some of its members when numbering it on another member's shard failed: they may have been stored (and
     * will then be delivered) or not. Each event of such a batch is {@code unknown}; a retry with the same event
     * ids is safe.
     */
    public static final long OUTCOME_UNKNOWN = -102;
    /**
     * A cluster's shared run state (native AG-UI runs, {@link RunStateGuard}) was not what this node checked the
     * batch against: another node changed the run first. Nothing of the batch was stored; ingest checks it again
     * against the current state and retries, and answers this only when the run kept changing under it.
     */
    public static final long RUN_STATE_CHANGED = -103;

    /** One row of the table: a refusal's code, the HTTP status that answers it and what a producer reads. */
    private static final class Row
    {
        final long code;
        final int httpStatus;
        final String message;

        Row(final long code, final int httpStatus, final String message)
        {
            this.code = code;
            this.httpStatus = httpStatus;
            this.message = message;
        }
    }

    private static final Row[] ROWS = {
        new Row(PublishStatus.CLOSED, 503, "the server is shutting down"),
        new Row(PublishStatus.RING_FULL, 503, "the event spine is full; retry after the Retry-After delay"),
        new Row(PublishStatus.INVALID_ARGUMENT, 400, "the event was refused: invalid_argument"),
        new Row(PublishStatus.DUPLICATE, 400, "the event was refused: duplicate"),
        new Row(PublishStatus.RUN_NOT_STARTED, 422,
            "lifecycle rule run_not_started: the run has no agent_started yet"),
        new Row(PublishStatus.RUN_ALREADY_STARTED, 422,
            "lifecycle rule run_already_started: agent_started was already published for this run"),
        new Row(PublishStatus.RUN_COMPLETED, 422,
            "lifecycle rule run_completed: the run has completed; a new run needs a new run_id"),
        new Row(PublishStatus.TOOL_CALL_UNKNOWN, 422,
            "lifecycle rule tool_call_unknown: tool_completed names no open tool_executing call"),
        new Row(PublishStatus.TOOL_CALL_DUPLICATE, 422,
            "lifecycle rule tool_call_duplicate: this tool_call_id is already open"),
        new Row(PublishStatus.TOOL_CALLS_OPEN, 422,
            "lifecycle rule tool_calls_open: agent_completed with outcome success while tool calls are open"),
        new Row(PublishStatus.TOO_MANY_RUNS, 503, "limit too_many_runs: the server holds its most runs (maxRuns); " +
            "retry after the Retry-After delay, as runs complete and their retention ends"),
        new Row(PublishStatus.TOO_MANY_TOOL_CALLS, 422, "limit too_many_tool_calls: the run holds its most open " +
            "tool calls (maxToolCallsPerRun); complete some with tool_completed first"),
        new Row(UNAVAILABLE, 503, "the cluster's Redis is unreachable: nothing from this event on was stored; " +
            "retry after the Retry-After delay, with the same event ids"),
        new Row(OUTCOME_UNKNOWN, 503, "the cluster's Redis did not answer in time, or failed part-way through an " +
            "event's members on other shards: these events may or may not " +
            "have been stored (stored ones are delivered); retry after the Retry-After delay with the same event " +
            "ids, which answers duplicate for each one already stored"),
        new Row(RUN_STATE_CHANGED, 503, "the run kept changing through other nodes while this batch was checked: " +
            "nothing of it was stored; retry after the Retry-After delay")};

    private Refusals()
    {
    }

    /**
     * @param status 0 or a position for accepted, else a refusal.
     * @return {@code accepted}, or the refusal's name.
     */
    public static String name(final long status)
    {
        if (status == UNAVAILABLE)
        {
            return "unavailable";
        }
        if (status == OUTCOME_UNKNOWN)
        {
            return "outcome_unknown";
        }
        if (status == RUN_STATE_CHANGED)
        {
            return "run_state_changed";
        }
        return status == NOT_ATTEMPTED ? "not_attempted" : PublishStatus.name(status);
    }

    /**
     * @param name a status's name, as {@link #name(long)} gives it.
     * @return its code (0 for accepted), or {@link PublishStatus#INVALID_ARGUMENT} for a name not in the table.
     */
    public static long code(final String name)
    {
        if ("accepted".equals(name))
        {
            return 0;
        }
        if ("not_attempted".equals(name))
        {
            return NOT_ATTEMPTED;
        }
        for (final Row row : ROWS)
        {
            if (name(row.code).equals(name))
            {
                return row.code;
            }
        }
        return PublishStatus.INVALID_ARGUMENT;
    }

    /**
     * @param status 0 for a batch with no refusal, else a refusal.
     * @return the HTTP status answering it: 202, 400, 422 (lifecycle) or 503 (retry later).
     */
    public static int httpStatus(final long status)
    {
        if (status >= 0)
        {
            return 202;
        }
        final Row row = row(status);
        return row == null ? 400 : row.httpStatus;
    }

    /** @return true when the refusal is temporary: answered 503 with {@code Retry-After}. */
    public static boolean isRetryable(final long status)
    {
        return httpStatus(status) == 503;
    }

    /** @return the message a producer reads for this refusal. */
    public static String message(final long status)
    {
        final Row row = row(status);
        return row == null ? "the event was refused: " + name(status) : row.message;
    }

    private static Row row(final long status)
    {
        for (final Row row : ROWS)
        {
            if (row.code == status)
            {
                return row;
            }
        }
        return null;
    }
}
