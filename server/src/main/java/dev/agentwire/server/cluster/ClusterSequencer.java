package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishStatus;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.RunStateGuard;
import dev.agentwire.server.sequencing.Sequencer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Publishes through the cluster's sequencer with group commit, shard by shard. An event to a user is numbered on
 * its user's shard (every key of a user's stream shares the hash tag {@code {u:<user>}}); an event to a room or to
 * everyone is admitted on its owner's shard (publish.lua: duplicate check, run lifecycle, members) and numbered
 * there for the members that shard holds, then for the others on their shards. A single Redis is one shard: the
 * same path serves both.
 * <p>
 * Group commit: each shard has one script call in Redis at a time; requests for that shard that arrive meanwhile
 * wait and go together in the next call (up to {@code commitMaxEvents} entries), so the group grows with the load
 * and Redis's cost per event falls as it does. No thread waits for Redis: callers return at once and are answered
 * on the cluster's thread, which also carries each request from one step to the next.
 * <p>
 * Batch rule: a request whose events can be refused (lifecycle events) runs its events step by step in order and
 * stops at the first refusal, as on one node; so does one that reaches rooms or everyone with all its events on one
 * shard (every request on a single Redis: one step). A request of events that cannot be refused is split by shard
 * and runs on all its shards at once; with events to rooms or everyone among them, in windows of two rounds
 * ({@link MemberRounds}: admitted on their owners' shards, then every recipient numbered on its own, in the
 * request's order). On a sharded Redis, when one
 * shard is unreachable its events are answered {@code unavailable} while those of the other shards may be accepted,
 * and each event's status says which.
 * <p>
 * Redis unreachable (the command is refused before it is sent): {@link Refusals#UNAVAILABLE}, nothing stored. No
 * answer within the command timeout: {@link Refusals#OUTCOME_UNKNOWN} (the events may have been stored): producers
 * retry with the same event ids, which is safe — also for a room event, whose members each keep their own mark.
 * The slot map moved (a failover, a migration): the step is sent again to the right shard, nothing having run.
 */
final class ClusterSequencer implements Sequencer
{
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSequencer.class);
    private final RedisLink cluster;
    private final ServerMetrics metrics;
    private final AgentWireConfig engine;
    private final AgentWire validator;
    final GroupCommit commits;
    private final MemberRounds rounds;
    private long lastFailureLogMs = Long.MIN_VALUE / 2;
    private final Consumer<Throwable> onFailure = this::failed;

    ClusterSequencer(final RedisLink cluster, final ServerMetrics metrics, final AgentWire validator)
    {
        this.validator = validator;
        this.cluster = cluster;
        this.metrics = metrics;
        this.engine = validator.config();
        this.commits = new GroupCommit(cluster, engine);
        this.rounds = new MemberRounds(cluster, commits);
    }

    /** Logs a failed step at most once a second (Redis away fails every publish): the cause, never the data. */
    private void failed(final Throwable error)
    {
        final long nowMs = System.currentTimeMillis();
        if (nowMs - lastFailureLogMs >= 1_000)
        {
            lastFailureLogMs = nowMs;
            LOG.warn("publish to redis failed: node={} cause={}", cluster.settings.nodeId,
                String.valueOf(RedisLink.unwrap(error)));
        }
    }

    @Override
    public boolean sharesRunState()
    {
        return true;
    }

    @Override
    public void publish(final List<EventDraft> events, final RunStateGuard guard, final Done done)
    {
        if (events.isEmpty())
        {
            verify(guard, done);
            return;
        }
        publish(events, guard, done, batch -> { });
    }

    @Override
    public void publish(final List<EventDraft> events, final Done done, final Done published)
    {
        publish(events, null, done, published);
    }

    private void publish(final List<EventDraft> events, final RunStateGuard guard, final Done done,
        final Done published)
    {
        final BatchResult batch = new BatchResult(events.size());
        final byte[][] records = new byte[events.size()][];
        final String[] shards = new String[events.size()];
        final String[] tags = new String[events.size()];
        final long nowMs = engine.clock().time();
        boolean shared = false;
        boolean refusable = false;
        String onlyShard = null;
        for (int i = 0; i < events.size(); i++)
        {
            final EventDraft event = events.get(i);
            if (validator.check(event) != 0)
            {
                // The parser checks these already; the engine's rules are the one statement of them.
                batch.results.get(i).status = PublishStatus.INVALID_ARGUMENT;
                batch.refusal = PublishStatus.INVALID_ARGUMENT;
                metrics.refused(Refusals.name(PublishStatus.INVALID_ARGUMENT));
                done.onDone(batch);
                return;
            }
            records[i] = StreamCodec.record(event, event.timestampMs() == 0 ? nowMs : event.timestampMs());
            shared |= !event.isToUser();
            refusable |= PublishEntries.hasVerb(event, engine);
            tags[i] = StreamCodec.ownerTag(cluster.prefix, event);
            shards[i] = cluster.shards.shardOf(tags[i]);
            onlyShard = i == 0 || shards[i].equals(onlyShard) ? shards[i] : null;
        }
        final PublishRequest request = new PublishRequest(events, records, tags, shards, batch, done, metrics,
            onFailure);
        request.guard = guard;
        // Planned on the caller's thread: the request is only touched again by answers, on the cluster's thread,
        // after its first part was sent. A guarded request goes step by step: its guard opens the first part, and
        // nothing else may be written before the guard held.
        if (shared && !refusable && guard == null && onlyShard == null)
        {
            rounds.twoRounds(request, 0);
        }
        else if (shared || guard != null || refusable && onlyShard == null)
        {
            step(request, 0);
        }
        else
        {
            allAtOnce(request);
        }
    }

    /**
     * Events that cannot be refused, or all on one shard: one part per shard, all sent at once. Grouped without a
     * map or a boxed index: a request's shards are few (one on a single Redis), its events many.
     */
    private void allAtOnce(final PublishRequest request)
    {
        final int size = request.events.size();
        final List<String> shards = new ArrayList<>(1);
        for (int i = 0; i < size; i++)
        {
            if (!shards.contains(request.shards[i]))
            {
                shards.add(request.shards[i]);
            }
        }
        request.pendingParts = shards.size();
        final int[] found = new int[size];
        for (final String shard : shards)
        {
            int count = 0;
            for (int i = 0; i < size; i++)
            {
                if (shard.equals(request.shards[i]))
                {
                    found[count++] = i;
                }
            }
            // On a single Redis the one part is the whole request: its indexes as found.
            final int[] indexes = count == size ? found : Arrays.copyOf(found, count);
            part(request, indexes, answered ->
            {
                if (--request.pendingParts == 0)
                {
                    request.finish();
                }
            }).send();
        }
    }

    /**
     * Runs the request from event {@code from} on: the next run of events for one shard as one part, then on to the
     * rest unless something stopped it. A part stops at a refusal. Its events to rooms or to everyone with members
     * on other shards are numbered there once the part is answered, all of them together, before the next part
     * ({@link MemberRounds#members}; up to {@link MemberRounds#RECIPIENTS_PER_ROUND} members, and the event that
     * passes it: publish.lua stops the part there).
     */
    private void step(final PublishRequest request, final int from)
    {
        if (from >= request.events.size() || request.batch.refusal != 0)
        {
            request.finish();
            return;
        }
        int to = from + 1;
        while (to < request.events.size() && request.shards[to].equals(request.shards[from]))
        {
            to++;
        }
        final int[] indexes = new int[to - from];
        for (int i = 0; i < indexes.length; i++)
        {
            indexes[i] = from + i;
        }
        part(request, indexes, answered -> step(request, from + answered)).send();
    }

    /** A guard alone (no events): each run's version is verified, and its current state told when it changed. */
    private void verify(final RunStateGuard guard, final Done done)
    {
        final BatchResult batch = new BatchResult(0);
        final PublishRequest request = new PublishRequest(List.of(), new byte[0][], new String[0], new String[0],
            batch, done, metrics, onFailure);
        request.guard = guard;
        final GroupCommit.Part part = commits.part(guard.size(), answer ->
        {
            if (answer instanceof List)
            {
                @SuppressWarnings("unchecked")
                final List<Object> answers = (List<Object>)answer;
                request.takeGuard(answers);
            }
            else
            {
                failed((Throwable)answer);
                batch.refusal = RedisLink.mayHaveRun((Throwable)answer) ?
                    Refusals.OUTCOME_UNKNOWN : Refusals.UNAVAILABLE;
            }
            request.finish();
        });
        for (int i = 0; i < guard.size(); i++)
        {
            PublishEntries.guardEntry(cluster.prefix, guard, i, part.keys, i * PublishEntries.PUBLISH_KEYS_PER_ENTRY,
                part.arguments, i * PublishEntries.PUBLISH_ARGS_PER_ENTRY);
        }
        part.send();
    }

    /**
     * A part of events for one shard, in order; {@code then} is told how many events it settled (every one when
     * nothing stopped it, up to and including the one that did: a refusal, or the event that brought the members of
     * other shards answered back to publish.lua's bound), once their answers, and the numbers of members on other
     * shards, are in. The request's guard, if any, opens its first part.
     */
    private GroupCommit.Part part(final PublishRequest request, final int[] indexes,
        final java.util.function.IntConsumer then)
    {
        final int guards = request.guard != null && indexes[0] == 0 ? request.guard.size() : 0;
        final GroupCommit.Part part = commits.part(guards + indexes.length, answer ->
        {
            if (!(answer instanceof List))
            {
                for (final int index : indexes)
                {
                    request.take(index, answer);
                }
                then.accept(indexes.length);
                return;
            }
            @SuppressWarnings("unchecked")
            final List<Object> all = (List<Object>)answer;
            if (guards > 0 && !request.takeGuard(all))
            {
                then.accept(request.events.size());
                return;
            }
            int at = guards;
            final long[] number = new long[2];
            List<MemberRounds.Shared> elsewhere = null;
            int settled = 0;
            for (int j = 0; j < indexes.length && at < all.size(); j++, settled++)
            {
                final int index = indexes[j];
                final Object one = all.get(at++);
                if (one instanceof Long)
                {
                    // To a user: numbered in its stream, so its name is known; its place, then the head.
                    StreamCodec.readNumbered(one, all.get(at++), number);
                    request.numbered(index, request.events.get(index).target(), number[0], number[1]);
                }
                else if (MemberRounds.isShared(one))
                {
                    final MemberRounds.Shared event = MemberRounds.Shared.read(index, one,
                        takeNumbers(request, index, ((List<?>)one).get(2)));
                    if (event.members.isEmpty())
                    {
                        // Every member is on this shard: answered now.
                        event.settle(request);
                    }
                    else
                    {
                        if (elsewhere == null)
                        {
                            elsewhere = new ArrayList<>();
                        }
                        elsewhere.add(event);
                    }
                }
                else
                {
                    request.take(index, one);
                }
            }
            // The script stops a part at a refusal, or once it answered back ELSEWHERE_MAX members of other shards:
            // the events after that one are sent next, in a part of their own.
            // (No answer at all, and nothing refused, is not the script's: its events stay not attempted.)
            final int answered = settled == 0 && request.batch.refusal == 0 ? indexes.length : settled;
            if (elsewhere != null)
            {
                // Before the request's next part: a member's events of this part come before those of the next.
                rounds.members(request, elsewhere, () -> then.accept(answered));
                return;
            }
            then.accept(answered);
        });
        for (int g = 0; g < guards; g++)
        {
            PublishEntries.guardEntry(cluster.prefix, request.guard, g, part.keys, g * PublishEntries.PUBLISH_KEYS_PER_ENTRY,
                part.arguments, g * PublishEntries.PUBLISH_ARGS_PER_ENTRY);
        }
        for (int j = 0; j < indexes.length; j++)
        {
            final int index = indexes[j];
            final int entry = guards + j;
            final EventDraft event = request.events.get(index);
            if (event.isToUser())
            {
                PublishEntries.userEntry(request.tags[index], event, request.records[index], part.keys,
                    entry * PublishEntries.PUBLISH_KEYS_PER_ENTRY, part.arguments,
                    entry * PublishEntries.PUBLISH_ARGS_PER_ENTRY);
            }
            else
            {
                PublishEntries.sharedEntry(request.tags[index], event, request.records[index], false, part.keys,
                    entry * PublishEntries.PUBLISH_KEYS_PER_ENTRY, part.arguments,
                    entry * PublishEntries.PUBLISH_ARGS_PER_ENTRY);
            }
        }
        return part;
    }

    /** @return whether the answer numbered anyone: {member, place, head, ...}. */
    private static boolean takeNumbers(final PublishRequest request, final int index, final Object numbers)
    {
        final List<?> flat = (List<?>)numbers;
        final long[] number = new long[2];
        for (int i = 0; i + 2 < flat.size(); i += 3)
        {
            StreamCodec.readNumbered(flat.get(i + 1), flat.get(i + 2), number);
            request.numbered(index, StreamCodec.text(flat.get(i)), number[0], number[1]);
        }
        return !flat.isEmpty();
    }

    @Override
    public void membership(final boolean join, final String userId, final String room, final LongConsumer status)
    {
        if (userId == null || userId.isEmpty() || room == null || room.isEmpty())
        {
            status.accept(PublishStatus.INVALID_ARGUMENT);
            return;
        }
        cluster.membership(join, userId, room).whenComplete((reply, error) -> status.accept(error == null ? 0 : Refusals.UNAVAILABLE));
    }
}
