package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.server.sequencing.RunStateGuard;

import java.util.List;

import static dev.agentwire.server.cluster.StreamCodec.nodesKey;
import static dev.agentwire.server.cluster.StreamCodec.ownerTag;
import static dev.agentwire.server.cluster.StreamCodec.roomMembersKey;
import static dev.agentwire.server.cluster.StreamCodec.userTag;
import static dev.agentwire.server.cluster.StreamCodec.utf8;

/**
 * publish.lua's keys and arguments (the script's header documents them): one entry per event to a user, per room's
 * or broadcast's event, per member of another shard, and per guarded run of native AG-UI; the group's header with the
 * engine's bounds. Records themselves are {@link StreamCodec}'s.
 */
final class PublishEntries
{
    private static final int PUBLISH_HEADER_FIELDS = 10;
    static final int PUBLISH_ARGS_PER_ENTRY = 11;
    static final int PUBLISH_KEYS_PER_ENTRY = 5;
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] ONE = {'1'};
    private static final byte[] ZERO = {'0'};
    private static final byte[] KIND_USER = {'u'};
    private static final byte[] KIND_ROOM = {'r'};
    private static final byte[] KIND_BROADCAST = {'b'};
    private static final byte[] KIND_MEMBER = {'m'};
    private static final byte[] KIND_GUARD = {'g'};
    private static final byte[] VERB_START = utf8("start");
    private static final byte[] VERB_THINK = utf8("think");
    private static final byte[] VERB_EXEC = utf8("exec");
    private static final byte[] VERB_DONE_TOOL = utf8("done_tool");
    private static final byte[] VERB_DONE_AGENT = utf8("done_agent");

    private PublishEntries()
    {
    }

    /** @return whether the event is checked against the run lifecycle in Redis (strict mode, a lifecycle type). */
    static boolean hasVerb(final EventDraft d, final AgentWireConfig engine)
    {
        return engine.lifecycleMode() == AgentWireConfig.LifecycleMode.STRICT && verb(d.type()).length > 0;
    }

    private static String runPart(final EventDraft d)
    {
        final String run = d.runId() == null ? "" : d.runId();
        return run.length() + ":" + run;
    }

    /**
     * Writes publish.lua's keys (5, also into the arguments) and arguments (11) for an event to its user: the user's
     * stream and history, the event's dedup key and its run's keys (the stream hash where it has none).
     */
    static void userEntry(final String prefix, final EventDraft d, final byte[] record,
        final String[] keys, final int k, final byte[][] args, final int at)
    {
        int a = at;
        final String tag = userTag(prefix, d.target());
        final String sk = tag + ":s";
        keys[k] = sk;
        keys[k + 1] = tag + ":l";
        keys[k + 2] = d.eventId() == null ? sk : tag + ":id:" + runPart(d) + ":" + d.eventId();
        keys[k + 3] = tag + ":run:" + runPart(d);
        keys[k + 4] = tag + ":calls:" + runPart(d);
        keyArguments(keys, k, args, a);
        a += PUBLISH_KEYS_PER_ENTRY;
        args[a] = KIND_USER;
        args[a + 1] = verb(d.type());
        args[a + 2] = d.eventId() == null ? ZERO : ONE;
        args[a + 3] = utf8(d.toolCallId());
        args[a + 4] = d.outcome() == Outcome.SUCCESS ? ONE : ZERO;
        args[a + 5] = record;
    }

    /**
     * Writes publish.lua's keys and arguments for a room's or broadcast's event to one member: the member's stream,
     * and, for an event with an id, the member's own mark of it (a retried event is never numbered twice).
     */
    static void memberEntry(final String prefix, final String member, final EventDraft d, final byte[] record,
        final String[] keys, final int k, final byte[][] args, final int at)
    {
        int a = at;
        final String tag = userTag(prefix, member);
        final String sk = tag + ":s";
        keys[k] = sk;
        keys[k + 1] = tag + ":l";
        keys[k + 2] = d.eventId() == null ? sk : tag + ":" + memberMarkSuffix(prefix, d);
        keys[k + 3] = sk;
        keys[k + 4] = sk;
        keyArguments(keys, k, args, a);
        a += PUBLISH_KEYS_PER_ENTRY;
        args[a] = KIND_MEMBER;
        args[a + 1] = EMPTY;
        args[a + 2] = d.eventId() == null ? ZERO : ONE;
        args[a + 3] = EMPTY;
        args[a + 4] = ZERO;
        args[a + 5] = record;
    }

    /** An entry's keys, as publish.lua reads them from its arguments. */
    private static void keyArguments(final String[] keys, final int k, final byte[][] args, final int a)
    {
        for (int i = 0; i < PUBLISH_KEYS_PER_ENTRY; i++)
        {
            args[a + i] = utf8(keys[k + i]);
        }
    }

    /**
     * Writes publish.lua's keys and arguments for an event to a room or to everyone: the owner's dedup key and run
     * keys (under the room's tag, or {n}), the members' set, and the suffix of each member's mark of the event id.
     */
    static void sharedEntry(final String prefix, final EventDraft d, final byte[] record,
        final String[] keys, final int k, final byte[][] args, final int at)
    {
        int a = at;
        final String owner = ownerTag(prefix, d);
        final String run = owner + ":run:" + runPart(d);
        keys[k] = d.eventId() == null ? run : owner + ":id:" + runPart(d) + ":" + d.eventId();
        keys[k + 1] = run;
        keys[k + 2] = owner + ":calls:" + runPart(d);
        keys[k + 3] = d.isToRoom() ? roomMembersKey(prefix, d.target()) : nodesKey(prefix);
        keys[k + 4] = memberMarkSuffix(prefix, d);
        keyArguments(keys, k, args, a);
        a += PUBLISH_KEYS_PER_ENTRY;
        args[a] = d.isToRoom() ? KIND_ROOM : KIND_BROADCAST;
        args[a + 1] = verb(d.type());
        args[a + 2] = d.eventId() == null ? ZERO : ONE;
        args[a + 3] = utf8(d.toolCallId());
        args[a + 4] = d.outcome() == Outcome.SUCCESS ? ONE : ZERO;
        args[a + 5] = record;
    }

    /**
     * Writes publish.lua's keys and arguments for one run of a {@link RunStateGuard}: the run's shared state, a hash
     * ({@code v} version, {@code d} state) under its owner's tag, next to the owner's streams or room. Guard entries
     * open their request: publish.lua checks every one before anything of the request is written.
     */
    static void guardEntry(final String prefix, final RunStateGuard guard, final int run,
        final String[] keys, final int k, final byte[][] args, final int at)
    {
        final String key = runStateKey(prefix, guard.owner, guard.runId(run));
        for (int i = 0; i < PUBLISH_KEYS_PER_ENTRY; i++)
        {
            keys[k + i] = key;
        }
        keyArguments(keys, k, args, at);
        final int a = at + PUBLISH_KEYS_PER_ENTRY;
        final byte[] state = guard.newState(run);
        args[a] = KIND_GUARD;
        args[a + 1] = EMPTY;
        args[a + 2] = ZERO;
        args[a + 3] = utf8(Long.toString(guard.version(run)));
        args[a + 4] = state == null ? ZERO : ONE;
        args[a + 5] = state == null ? EMPTY : state;
    }

    /** @return the key of a native AG-UI run's shared state: {@code <prefix>{<owner>}:agui:<length of runId>:<runId>}. */
    static String runStateKey(final String prefix, final String owner, final String runId)
    {
        return prefix + '{' + owner + "}:agui:" + runId.length() + ':' + runId;
    }

    /** @return what follows {@code {u:<member>}:} in a member's mark of a room's or broadcast's event id. */
    private static String memberMarkSuffix(final String prefix, final EventDraft d)
    {
        final String owner = ownerTag(prefix, d);
        return "rid:" + owner.length() + ":" + owner + ":" + runPart(d) + ":" +
            (d.eventId() == null ? "" : d.eventId());
    }

    /**
     * publish.lua's arguments for a group of requests: the engine's bounds, then each request's entry count and
     * its entries' arguments, in order.
     */
    static byte[][] publishArguments(
        final String prefix,
        final AgentWireConfig engine,
        final String epochCandidate,
        final boolean probe,
        final List<byte[][]> requests,
        final int totalEntries)
    {
        final byte[][] args =
            new byte[PUBLISH_HEADER_FIELDS + requests.size() + PUBLISH_ARGS_PER_ENTRY * totalEntries][];
        int i = 0;
        args[i++] = utf8(prefix);
        args[i++] = utf8(Integer.toString(engine.historyMaxEvents()));
        args[i++] = utf8(Long.toString(engine.userRetentionMs()));
        args[i++] = utf8(Long.toString(engine.dedupWindowMs()));
        args[i++] = utf8(Long.toString(engine.runRetentionMs()));
        args[i++] = engine.lifecycleMode() == AgentWireConfig.LifecycleMode.STRICT ? ONE : ZERO;
        args[i++] = utf8(epochCandidate);
        args[i++] = utf8(Integer.toString(engine.maxToolCallsPerRun()));
        args[i++] = probe ? ONE : ZERO;
        args[i++] = utf8(Integer.toString(requests.size()));
        for (final byte[][] request : requests)
        {
            args[i++] = utf8(Integer.toString(request.length / PUBLISH_ARGS_PER_ENTRY));
            System.arraycopy(request, 0, args, i, request.length);
            i += request.length;
        }
        return args;
    }

    /** The lifecycle step of a type, as publish.lua names it; empty for custom types. */
    private static byte[] verb(final String type)
    {
        switch (type)
        {
            case EventTypes.AGENT_STARTED:
                return VERB_START;
            case EventTypes.AGENT_THINKING:
            case EventTypes.AGENT_ANSWER:
                return VERB_THINK;
            case EventTypes.TOOL_EXECUTING:
                return VERB_EXEC;
            case EventTypes.TOOL_COMPLETED:
                return VERB_DONE_TOOL;
            case EventTypes.AGENT_COMPLETED:
                return VERB_DONE_AGENT;
            default:
                return EMPTY;
        }
    }
}
