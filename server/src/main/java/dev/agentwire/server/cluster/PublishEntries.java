package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.server.sequencing.RunStateGuard;

import java.util.List;

import static dev.agentwire.server.cluster.StreamCodec.ownerTag;
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
    /** publish.lua's arguments per entry: op, tag, id, run, call, record. */
    static final int PUBLISH_ARGS_PER_ENTRY = 6;
    /** The key an entry is routed by (its tag: every key the script names from it shares its slot). */
    static final int PUBLISH_KEYS_PER_ENTRY = 1;
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] ONE = {'1'};
    private static final byte[] ZERO = {'0'};
    /** An event's run argument without a run: {@link #runPart} of "". */
    private static final byte[] NO_RUN = {'0', ':'};
    private static final char USER = 'u';
    private static final char ROOM = 'r';
    private static final char BROADCAST = 'b';
    private static final char ROOM_ADMIT_ONLY = 'R';
    private static final char BROADCAST_ADMIT_ONLY = 'B';
    private static final char MEMBER = 'm';
    private static final char GUARD = 'g';
    private static final String[] VERBS = {"", "start", "think", "exec", "done_tool", "done_agent"};
    private static final int NO_VERB = 0;
    /** Every op an entry can have, made once: [kind][hasId][success][verb]. */
    private static final byte[][][][][] OPS = ops();

    private PublishEntries()
    {
    }

    /** @return whether the event is checked against the run lifecycle in Redis (strict mode, a lifecycle type). */
    static boolean hasVerb(final EventDraft d, final AgentWireConfig engine)
    {
        return engine.lifecycleMode() == AgentWireConfig.LifecycleMode.STRICT && verbOf(d.type()) != NO_VERB;
    }

    private static String runPart(final EventDraft d)
    {
        final String run = d.runId() == null ? "" : d.runId();
        return run.length() + ":" + run;
    }

    /** @return {@link #runPart} in UTF-8: one array per event with a run, none without. */
    private static byte[] runArgument(final EventDraft d)
    {
        return d.runId() == null ? NO_RUN : utf8(runPart(d));
    }

    /**
     * Writes publish.lua's routing key and arguments for an event to its user.
     *
     * @param tag the user's tag ({@link StreamCodec#ownerTag}), made once per event by the caller.
     */
    static void userEntry(final String tag, final EventDraft d, final byte[] record,
        final String[] keys, final int k, final byte[][] args, final int at)
    {
        keys[k] = tag;
        args[at] = op(USER, d.eventId() != null, d.outcome() == Outcome.SUCCESS, verbOf(d.type()));
        args[at + 1] = utf8(tag);
        args[at + 2] = utf8(d.eventId());
        args[at + 3] = runArgument(d);
        args[at + 4] = utf8(d.toolCallId());
        args[at + 5] = record;
    }

    /**
     * Writes publish.lua's routing key and arguments for a room's or broadcast's event to one member of another
     * shard, with the member's own mark of an event with an id (a retried event is never numbered twice).
     */
    static void memberEntry(final String prefix, final String member, final EventDraft d, final byte[] record,
        final String[] keys, final int k, final byte[][] args, final int at)
    {
        final String tag = userTag(prefix, member);
        keys[k] = tag;
        args[at] = op(MEMBER, d.eventId() != null, false, NO_VERB);
        args[at + 1] = utf8(tag);
        args[at + 2] = d.eventId() == null ? EMPTY : utf8(memberMarkSuffix(prefix, d));
        args[at + 3] = EMPTY;
        args[at + 4] = EMPTY;
        args[at + 5] = record;
    }

    /**
     * Writes publish.lua's routing key and arguments for an event to a room or to everyone.
     *
     * @param owner its owner's tag ({@link StreamCodec#ownerTag}), made once per event by the caller.
     * @param admitOnly true: numbered for none of its members there, every one answered back (the caller numbers
     *                  them on their shards); false: numbered there for the members whose streams are there.
     */
    static void sharedEntry(final String owner, final EventDraft d, final byte[] record, final boolean admitOnly,
        final String[] keys, final int k, final byte[][] args, final int at)
    {
        keys[k] = owner;
        final char kind = d.isToRoom() ? (admitOnly ? ROOM_ADMIT_ONLY : ROOM) :
            (admitOnly ? BROADCAST_ADMIT_ONLY : BROADCAST);
        args[at] = op(kind, d.eventId() != null, d.outcome() == Outcome.SUCCESS, verbOf(d.type()));
        args[at + 1] = utf8(owner);
        args[at + 2] = utf8(d.eventId());
        args[at + 3] = runArgument(d);
        args[at + 4] = utf8(d.toolCallId());
        args[at + 5] = record;
    }

    /**
     * Writes publish.lua's routing key and arguments for one run of a {@link RunStateGuard}: the run's shared state,
     * a hash ({@code v} version, {@code d} state) under its owner's tag, next to the owner's streams or room. Guard
     * entries open their request: publish.lua checks every one before anything of the request is written.
     */
    static void guardEntry(final String prefix, final RunStateGuard guard, final int run,
        final String[] keys, final int k, final byte[][] args, final int at)
    {
        final String key = runStateKey(prefix, guard.owner, guard.runId(run));
        keys[k] = key;
        final byte[] state = guard.newState(run);
        args[at] = op(GUARD, false, state != null, NO_VERB);
        args[at + 1] = utf8(key);
        args[at + 2] = EMPTY;
        args[at + 3] = EMPTY;
        args[at + 4] = utf8(Long.toString(guard.version(run)));
        args[at + 5] = state == null ? EMPTY : state;
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
        // The owner's length in UTF-8 bytes, as publish.lua counts it when it marks the members on its own shard.
        return "rid:" + utf8(owner).length + ":" + owner + ":" + runPart(d) + ":" +
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

    /** @return publish.lua's op for an entry: kind, hasId, success, then the lifecycle verb (made once, shared). */
    private static byte[] op(final char kind, final boolean hasId, final boolean success, final int verb)
    {
        return OPS[kindIndex(kind)][hasId ? 1 : 0][success ? 1 : 0][verb];
    }

    private static byte[][][][][] ops()
    {
        final char[] kinds = {USER, ROOM, BROADCAST, MEMBER, GUARD, ROOM_ADMIT_ONLY, BROADCAST_ADMIT_ONLY};
        final byte[][][][][] ops = new byte[kinds.length][2][2][VERBS.length][];
        for (final char kind : kinds)
        {
            for (int id = 0; id < 2; id++)
            {
                for (int success = 0; success < 2; success++)
                {
                    for (int verb = 0; verb < VERBS.length; verb++)
                    {
                        ops[kindIndex(kind)][id][success][verb] = utf8("" + kind + id + success + VERBS[verb]);
                    }
                }
            }
        }
        return ops;
    }

    private static int kindIndex(final char kind)
    {
        switch (kind)
        {
            case USER:
                return 0;
            case ROOM:
                return 1;
            case BROADCAST:
                return 2;
            case MEMBER:
                return 3;
            case GUARD:
                return 4;
            case ROOM_ADMIT_ONLY:
                return 5;
            default:
                return 6;
        }
    }

    /** The lifecycle step of a type, as an index of publish.lua's verbs; none for custom types. */
    private static int verbOf(final String type)
    {
        switch (type)
        {
            case EventTypes.AGENT_STARTED:
                return 1;
            case EventTypes.AGENT_THINKING:
            case EventTypes.AGENT_ANSWER:
                return 2;
            case EventTypes.TOOL_EXECUTING:
                return 3;
            case EventTypes.TOOL_COMPLETED:
                return 4;
            case EventTypes.AGENT_COMPLETED:
                return 5;
            default:
                return NO_VERB;
        }
    }
}
