package dev.agentwire.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.Backfill;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one statement of how events and room changes are stored in Redis, both directions: the arguments the
 * scripts ({@code src/main/resources/cluster/*.lua}) take, and the fields of the entries they write — the shared
 * log's entries and each user's history entries — as read back into {@link EventDraft}s and {@link Backfill}s.
 * The scripts spell the same field names; they and this class change together.
 * <pre>
 *   log entry, event:        k=e rc=[user, epoch, seq, ...] t r th i ts b rm bc p
 *   log entry, room change:  k=j|l u rm
 *   history entry:           s t r th i ts b rm bc p
 *     t type, r run id, th thread id, i event id, ts epoch ms, b binary (1|0), rm room, bc broadcast (1|0),
 *     p payload bytes, s the seq in the user's stream; an absent string is stored empty
 * </pre>
 */
final class LogEntryCodec
{
    /** Kinds of log entry ({@code k}). */
    static final String EVENT = "e";
    static final String JOIN = "j";
    static final String LEAVE = "l";

    private static final String KIND = "k";
    private static final String RECIPIENTS = "rc";
    private static final String USER = "u";
    private static final String TYPE = "t";
    private static final String RUN = "r";
    private static final String THREAD = "th";
    private static final String ID = "i";
    private static final String TIMESTAMP = "ts";
    private static final String BINARY = "b";
    private static final String ROOM = "rm";
    private static final String BROADCAST = "bc";
    private static final String PAYLOAD = "p";
    private static final String SEQ = "s";

    private static final int PUBLISH_HEADER_FIELDS = 10;
    private static final int PUBLISH_FIELDS_PER_EVENT = 12;
    private static final byte[] EMPTY = new byte[0];

    private LogEntryCodec()
    {
    }

    /** publish.lua's arguments: the engine's bounds and lifecycle mode, then twelve fields per event. */
    static byte[][] publishArguments(
        final String prefix,
        final AgentWireConfig engine,
        final long logMaxEntries,
        final String epochCandidate,
        final List<EventDraft> events)
    {
        final byte[][] args = new byte[PUBLISH_HEADER_FIELDS + PUBLISH_FIELDS_PER_EVENT * events.size()][];
        int i = 0;
        args[i++] = utf8(prefix);
        args[i++] = utf8(Integer.toString(engine.historyMaxEvents()));
        args[i++] = utf8(Long.toString(engine.userRetentionMs()));
        args[i++] = utf8(Long.toString(engine.dedupWindowMs()));
        args[i++] = utf8(Long.toString(engine.runRetentionMs()));
        args[i++] = utf8(engine.lifecycleMode() == AgentWireConfig.LifecycleMode.STRICT ? "1" : "0");
        args[i++] = utf8(Long.toString(logMaxEntries));
        args[i++] = utf8(epochCandidate);
        args[i++] = utf8(Integer.toString(engine.maxToolCallsPerRun()));
        args[i++] = utf8(Integer.toString(events.size()));
        for (final EventDraft d : events)
        {
            args[i++] = utf8(d.isToUser() ? "u" : d.isToRoom() ? "r" : "b");
            args[i++] = utf8(d.isBroadcast() ? "" : d.target());
            args[i++] = utf8(d.type());
            args[i++] = utf8(verb(d.type()));
            args[i++] = utf8(d.runId());
            args[i++] = utf8(d.threadId());
            args[i++] = utf8(d.eventId());
            args[i++] = utf8(d.toolCallId());
            args[i++] = utf8(d.outcome() == Outcome.SUCCESS ? "1" : "0");
            args[i++] = utf8(d.isBinary() ? "1" : "0");
            args[i++] = utf8(Long.toString(d.timestampMs()));
            args[i++] = d.payloadBytes();
        }
        return args;
    }

    /** membership.lua's arguments. */
    static byte[][] membershipArguments(
        final String prefix, final boolean join, final String userId, final String room, final long logMaxEntries)
    {
        return utf8(prefix, join ? JOIN : LEAVE, userId, room, Long.toString(logMaxEntries));
    }

    /** fetch.lua's arguments. */
    static byte[][] fetchArguments(
        final String prefix,
        final String userId,
        final long epoch,
        final long afterSeq,
        final AgentWireConfig engine,
        final String epochCandidate)
    {
        return utf8(prefix, userId, Long.toString(epoch), Long.toString(afterSeq),
            Long.toString(engine.historyMaxAgeMs()), Long.toString(engine.userRetentionMs()), epochCandidate);
    }

    /**
     * Reads publish.lua's answer into the batch: one {status, [user, epoch, seq, ...]} per event attempted.
     *
     * @return the names of the refusals met, for metrics (at most one: the first refusal stops the batch).
     */
    static String readPublishReply(final List<Object> reply, final BatchResult batch)
    {
        String refused = null;
        for (int i = 0; i < reply.size(); i++)
        {
            @SuppressWarnings("unchecked")
            final List<Object> one = (List<Object>)reply.get(i);
            final String status = text(one.get(0));
            final EventResult result = batch.results.get(i);
            result.status = Refusals.code(status);
            if ("accepted".equals(status))
            {
                batch.accepted++;
                @SuppressWarnings("unchecked")
                final List<Object> numbered = (List<Object>)one.get(1);
                for (int r = 0; r + 2 < numbered.size(); r += 3)
                {
                    result.onSequenced(text(numbered.get(r)), Long.parseLong(text(numbered.get(r + 1))),
                        ((Number)numbered.get(r + 2)).longValue());
                }
            }
            else if (!"duplicate".equals(status))
            {
                refused = status;
            }
        }
        return refused;
    }

    /** @return the kind of a log entry: {@link #EVENT}, {@link #JOIN}, {@link #LEAVE}, or what else it says. */
    static String kind(final Map<String, byte[]> entry)
    {
        return text(entry.get(KIND));
    }

    /** @return a room change's user. */
    static String user(final Map<String, byte[]> entry)
    {
        return text(entry.get(USER));
    }

    /** @return a room change's room. */
    static String room(final Map<String, byte[]> entry)
    {
        return text(entry.get(ROOM));
    }

    /**
     * Fills a draft from an event entry of the log, with each recipient's (epoch, seq).
     *
     * @throws IllegalArgumentException when the recipients cannot be read.
     */
    static void readLogEvent(final Map<String, byte[]> entry, final EventDraft draft)
    {
        final JsonNode recipients;
        try
        {
            recipients = Json.MAPPER.readTree(entry.get(RECIPIENTS));
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("unreadable recipients in log entry", ex);
        }
        fill(draft.reset(), entry, recipients.get(0).asText());
        for (int i = 0; i + 2 < recipients.size(); i += 3)
        {
            draft.recipient(recipients.get(i).asText(), Long.parseLong(recipients.get(i + 1).asText()),
                Long.parseLong(recipients.get(i + 2).asText()));
        }
    }

    /** Reads fetch.lua's answer: {epoch, firstSeq, lastSeq, [[field, value, ...], ...]}. */
    static Backfill readBackfill(final String userId, final List<Object> reply)
    {
        final long epoch = Long.parseLong(text(reply.get(0)));
        final long first = ((Number)reply.get(1)).longValue();
        final long last = ((Number)reply.get(2)).longValue();
        final Backfill backfill = new Backfill(userId, epoch, first, last);
        @SuppressWarnings("unchecked")
        final List<Object> events = (List<Object>)reply.get(3);
        final EventDraft draft = new EventDraft();
        for (final Object entry : events)
        {
            @SuppressWarnings("unchecked")
            final List<Object> flat = (List<Object>)entry;
            final Map<String, byte[]> fields = new HashMap<>();
            for (int i = 0; i + 1 < flat.size(); i += 2)
            {
                final Object value = flat.get(i + 1);
                fields.put(text(flat.get(i)), value instanceof byte[] ? (byte[])value :
                    String.valueOf(value).getBytes(StandardCharsets.UTF_8));
            }
            fill(draft.reset(), fields, userId);
            backfill.add(draft, Long.parseLong(text(fields.get(SEQ))));
        }
        return backfill;
    }

    /** A stored event's fields (a log entry or a history entry) into a draft addressed as it was sent. */
    private static void fill(final EventDraft draft, final Map<String, byte[]> fields, final String userId)
    {
        final String room = text(fields.get(ROOM));
        if (!room.isEmpty())
        {
            draft.toRoom(room);
        }
        else if ("1".equals(text(fields.get(BROADCAST))))
        {
            draft.toBroadcast();
        }
        else
        {
            draft.toUser(userId);
        }
        final byte[] payload = fields.get(PAYLOAD) == null ? EMPTY : fields.get(PAYLOAD);
        draft.type(text(fields.get(TYPE)))
            .runId(emptyToNull(text(fields.get(RUN))))
            .threadId(emptyToNull(text(fields.get(THREAD))))
            .eventId(emptyToNull(text(fields.get(ID))))
            .binary("1".equals(text(fields.get(BINARY))))
            .timestampMs(Long.parseLong(text(fields.get(TIMESTAMP))))
            .payload(payload, 0, payload.length);
    }

    /** The lifecycle step of a type, as publish.lua names it; empty for custom types. */
    private static String verb(final String type)
    {
        switch (type)
        {
            case EventTypes.AGENT_STARTED:
                return "start";
            case EventTypes.AGENT_THINKING:
                return "think";
            case EventTypes.TOOL_EXECUTING:
                return "exec";
            case EventTypes.TOOL_COMPLETED:
                return "done_tool";
            case EventTypes.AGENT_COMPLETED:
                return "done_agent";
            default:
                return "";
        }
    }

    /** @return a Redis reply value as text (empty for null). */
    static String text(final Object value)
    {
        if (value == null)
        {
            return "";
        }
        if (value instanceof byte[])
        {
            return new String((byte[])value, StandardCharsets.UTF_8);
        }
        return String.valueOf(value);
    }

    private static String emptyToNull(final String value)
    {
        return value.isEmpty() ? null : value;
    }

    private static byte[] utf8(final String value)
    {
        return value == null ? EMPTY : value.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[][] utf8(final String... values)
    {
        final byte[][] out = new byte[values.length][];
        for (int i = 0; i < values.length; i++)
        {
            out[i] = utf8(values[i]);
        }
        return out;
    }
}
