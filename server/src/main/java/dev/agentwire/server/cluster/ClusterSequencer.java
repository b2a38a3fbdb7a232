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
import io.lettuce.core.RedisCommandTimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * and runs on all its shards at once; with events to rooms or everyone among them, in two rounds (admitted on their
 * owners' shards, then every recipient numbered on its own, in the request's order). On a sharded Redis, when one
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
    /** Events to rooms or everyone admitted per window of {@link #twoRounds}: whose members are held at once. */
    static final int SHARED_EVENTS_PER_WINDOW = 16;
    /**
     * Recipients numbered per second round of {@link #twoRounds}, unless one event has more alone; and members of
     * other shards a step's part answers back before publish.lua stops it (its ELSEWHERE_MAX).
     */
    static final int RECIPIENTS_PER_ROUND = 512;
    private final RedisLink cluster;
    private final ServerMetrics metrics;
    private final AgentWireConfig engine;
    private final AgentWire validator;
    final GroupCommit commits;
    private long lastFailureLogMs = Long.MIN_VALUE / 2;
    private final Consumer<Throwable> onFailure = this::failed;

    ClusterSequencer(final RedisLink cluster, final ServerMetrics metrics, final AgentWire validator)
    {
        this.validator = validator;
        this.cluster = cluster;
        this.metrics = metrics;
        this.engine = validator.config();
        this.commits = new GroupCommit(cluster, engine);
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
            twoRounds(request, 0);
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
     * on other shards are numbered there once the part is answered, all of them together, before the next part (up
     * to {@link #RECIPIENTS_PER_ROUND} members, and the event that passes it: publish.lua stops the part there).
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
                batch.refusal = RedisLink.unwrap((Throwable)answer) instanceof RedisCommandTimeoutException ?
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
            List<Shared> elsewhere = null;
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
                else if (isShared(one))
                {
                    @SuppressWarnings("unchecked")
                    final List<Object> shared = (List<Object>)one;
                    final boolean numbered = takeNumbers(request, index, shared.get(2));
                    @SuppressWarnings("unchecked")
                    final List<Object> others = (List<Object>)shared.get(3);
                    final boolean seen = ((Number)shared.get(1)).longValue() == 1;
                    if (!others.isEmpty())
                    {
                        if (elsewhere == null)
                        {
                            elsewhere = new ArrayList<>();
                        }
                        elsewhere.add(new Shared(index, others, seen, numbered));
                    }
                    else if (!numbered)
                    {
                        // Every member had it already (a retry of an accepted event), or the room is empty.
                        request.take(index, seen ? "duplicate" : List.of());
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
                members(request, elsewhere, () -> then.accept(answered));
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

    private static boolean isShared(final Object answer)
    {
        return answer instanceof List && !((List<?>)answer).isEmpty() &&
            StreamCodec.isWord(((List<?>)answer).get(0), StreamCodec.SHARED);
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

    /**
     * A room's or broadcast's event admitted on its owner's shard whose members on other shards are still to be
     * numbered: who they are, and what the owner's shard answered.
     */
    private static final class Shared
    {
        final int index;
        final List<Object> members;
        final boolean seen;
        boolean numbered;
        /** The first failure of a shard it was to be numbered on, or null. */
        Throwable failure;

        Shared(final int index, final List<Object> members, final boolean seen, final boolean numbered)
        {
            this.index = index;
            this.members = members;
            this.seen = seen;
            this.numbered = numbered;
        }
    }

    /** One shard's entries of a round that numbers recipients: each an event's index and a member, or null. */
    private static final class Recipients
    {
        int[] indexes = new int[8];
        final List<String> members = new ArrayList<>(8);

        void add(final int index, final String member)
        {
            if (members.size() == indexes.length)
            {
                indexes = Arrays.copyOf(indexes, indexes.length * 2);
            }
            indexes[members.size()] = index;
            members.add(member);
        }
    }

    /** Adds each member of a room's or broadcast's event to its shard's entries. */
    private void addMembers(final Map<String, Recipients> byShard, final Shared event)
    {
        for (final Object one : event.members)
        {
            final String member = StreamCodec.text(one);
            byShard.computeIfAbsent(cluster.shards.shardOf(StreamCodec.userTag(cluster.prefix, member)),
                s -> new Recipients()).add(event.index, member);
        }
    }

    /**
     * Numbers the events of one part for their members on other shards; then runs {@code then}. All of the part's
     * events together, so a part of many room events costs two rounds, not two per event.
     */
    private void members(final PublishRequest request, final List<Shared> events, final Runnable then)
    {
        final Map<String, Recipients> byShard = new LinkedHashMap<>();
        for (final Shared event : events)
        {
            addMembers(byShard, event);
        }
        number(request, byShard, events, then, new boolean[1]);
    }

    /**
     * Numbers each shard's entries ({@code u} for an event to its user, {@code m} for a member of a room's or
     * broadcast's event), all shards at once, each shard's in the order given, so each recipient gets them in that
     * order; then settles the {@code shared} events (failed on a shard: outcome unknown; numbered for no one: a
     * duplicate, or no members) and runs {@code then}, with {@code failed[0]} set when a shard's part failed.
     */
    private void number(final PublishRequest request, final Map<String, Recipients> byShard, final List<Shared> shared,
        final Runnable then, final boolean[] failed)
    {
        final Shared[] sharedOf = new Shared[request.events.size()];
        for (final Shared event : shared)
        {
            sharedOf[event.index] = event;
        }
        final int[] pending = {byShard.size()};
        final Runnable settle = () ->
        {
            for (final Shared event : shared)
            {
                if (event.failure != null)
                {
                    request.unfinished(event.index, event.failure);
                }
                else if (!event.numbered)
                {
                    request.take(event.index, event.seen ? "duplicate" : List.of());
                }
            }
            then.run();
        };
        if (byShard.isEmpty())
        {
            settle.run();
            return;
        }
        for (final Recipients some : byShard.values())
        {
            final int count = some.members.size();
            final GroupCommit.Part part = commits.part(count, answer ->
            {
                if (answer instanceof List)
                {
                    // Per entry, in order: its place then the head when numbered, else its status ('duplicate':
                    // the recipient had the event).
                    final List<?> answers = (List<?>)answer;
                    final long[] number = new long[2];
                    for (int j = 0, at = 0; j < count && at < answers.size(); j++)
                    {
                        final int index = some.indexes[j];
                        final String member = some.members.get(j);
                        final Object one = answers.get(at++);
                        if (one instanceof Long)
                        {
                            StreamCodec.readNumbered(one, answers.get(at++), number);
                            request.numbered(index, member != null ? member : request.events.get(index).target(),
                                number[0], number[1]);
                            if (member != null)
                            {
                                sharedOf[index].numbered = true;
                            }
                        }
                        else if (member == null)
                        {
                            request.take(index, one);
                        }
                    }
                }
                else
                {
                    failed[0] = true;
                    for (int j = 0; j < count; j++)
                    {
                        final int index = some.indexes[j];
                        if (some.members.get(j) == null)
                        {
                            request.take(index, answer);
                        }
                        else if (sharedOf[index].failure == null)
                        {
                            sharedOf[index].failure = answer instanceof Throwable ? (Throwable)answer :
                                new IllegalStateException("unexpected answer=" + answer);
                        }
                    }
                }
                if (--pending[0] == 0)
                {
                    settle.run();
                }
            });
            for (int j = 0; j < count; j++)
            {
                final int index = some.indexes[j];
                final String member = some.members.get(j);
                final EventDraft event = request.events.get(index);
                final int k = j * PublishEntries.PUBLISH_KEYS_PER_ENTRY;
                final int at = j * PublishEntries.PUBLISH_ARGS_PER_ENTRY;
                if (member == null)
                {
                    PublishEntries.userEntry(request.tags[index], event, request.records[index], part.keys, k,
                        part.arguments, at);
                }
                else
                {
                    PublishEntries.memberEntry(cluster.prefix, member, event, request.records[index], part.keys, k,
                        part.arguments, at);
                }
            }
            part.send();
        }
    }

    /**
     * A request of events that cannot be refused, some to rooms or everyone, over several shards: in windows of up
     * to {@link #SHARED_EVENTS_PER_WINDOW} such events (and the events to users among them), two rounds each. First
     * each event to a room or everyone is admitted on its owner's shard (duplicate check, its members read) and
     * numbered for no one there, every owner's shard at once; then every recipient is numbered on its own shard,
     * every shard at once, each shard's entries in the request's order, at most {@link #RECIPIENTS_PER_ROUND} at a
     * time (more only for one event that has more alone, as step by step). So each recipient gets the request's
     * events in order, as step by step, where that took two rounds per such event; and what a window holds is
     * bounded (a room's or everyone's members are read for a window's events, not the whole request's). A failure
     * ends the request after the events before it, as a refusal ends a step: the rest stay not attempted.
     */
    private void twoRounds(final PublishRequest request, final int from)
    {
        final int size = request.events.size();
        if (from >= size || request.batch.refusal != 0)
        {
            request.finish();
            return;
        }
        int to = from;
        int sharedEvents = 0;
        while (to < size && (sharedEvents < SHARED_EVENTS_PER_WINDOW || request.events.get(to).isToUser()))
        {
            sharedEvents += request.events.get(to).isToUser() ? 0 : 1;
            to++;
        }
        final int end = to;
        final Map<String, Recipients> owners = new LinkedHashMap<>();
        for (int i = from; i < end; i++)
        {
            if (!request.events.get(i).isToUser())
            {
                owners.computeIfAbsent(request.shards[i], s -> new Recipients()).add(i, null);
            }
        }
        final Shared[] admitted = new Shared[size];
        if (owners.isEmpty())
        {
            recipients(request, admitted, from, end, end);
            return;
        }
        final int[] pending = {owners.size()};
        // The first event of the window that was not admitted (a failure): nothing from it on is numbered.
        final int[] failedAt = {end};
        for (final Recipients some : owners.values())
        {
            final int count = some.members.size();
            final GroupCommit.Part part = commits.part(count, answer ->
            {
                final int answered = answer instanceof List ? Math.min(count, ((List<?>)answer).size()) : count;
                for (int j = 0; j < answered; j++)
                {
                    final int index = some.indexes[j];
                    final Object one = answer instanceof List ? ((List<?>)answer).get(j) : answer;
                    if (isShared(one))
                    {
                        @SuppressWarnings("unchecked")
                        final List<Object> shared = (List<Object>)one;
                        @SuppressWarnings("unchecked")
                        final List<Object> members = (List<Object>)shared.get(3);
                        admitted[index] = new Shared(index, members, ((Number)shared.get(1)).longValue() == 1, false);
                    }
                    else
                    {
                        request.take(index, one);
                        failedAt[0] = Math.min(failedAt[0], index);
                    }
                }
                if (answered < count)
                {
                    // An entry without an answer (one before it refused) stays not attempted.
                    failedAt[0] = Math.min(failedAt[0], some.indexes[answered]);
                }
                if (--pending[0] == 0)
                {
                    recipients(request, admitted, from, failedAt[0], end);
                }
            });
            for (int j = 0; j < count; j++)
            {
                final int index = some.indexes[j];
                PublishEntries.sharedEntry(request.tags[index], request.events.get(index), request.records[index],
                    true, part.keys, j * PublishEntries.PUBLISH_KEYS_PER_ENTRY, part.arguments,
                    j * PublishEntries.PUBLISH_ARGS_PER_ENTRY);
            }
            part.send();
        }
    }

    /**
     * The second round of a {@link #twoRounds} window: the recipients of its events from {@code from} to {@code to}
     * (the window's events before any that failed), in the request's order, on their shards, at most
     * {@link #RECIPIENTS_PER_ROUND} at a time; then the next window from {@code windowEnd}.
     */
    private void recipients(final PublishRequest request, final Shared[] admitted, final int from, final int to,
        final int windowEnd)
    {
        if (from >= to)
        {
            // The window's events before a failure are numbered: the request ends there, or goes on.
            twoRounds(request, to < windowEnd ? request.events.size() : windowEnd);
            return;
        }
        final Map<String, Recipients> byShard = new LinkedHashMap<>();
        final List<Shared> shared = new ArrayList<>();
        int count = 0;
        int next = from;
        while (next < to)
        {
            final boolean toUser = request.events.get(next).isToUser();
            final int recipients = toUser ? 1 : admitted[next].members.size();
            if (next > from && count + recipients > RECIPIENTS_PER_ROUND)
            {
                break;
            }
            count += recipients;
            if (toUser)
            {
                byShard.computeIfAbsent(request.shards[next], s -> new Recipients()).add(next, null);
            }
            else
            {
                shared.add(admitted[next]);
                addMembers(byShard, admitted[next]);
            }
            next++;
        }
        final int done = next;
        final boolean[] failed = {false};
        // A failure ends the request after this round: what follows it stays not attempted, so a member's later
        // events are never numbered ahead of one whose outcome is unknown.
        number(request, byShard, shared, () -> recipients(request, admitted, done, failed[0] ? done : to,
            failed[0] ? Integer.MAX_VALUE : windowEnd), failed);
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
