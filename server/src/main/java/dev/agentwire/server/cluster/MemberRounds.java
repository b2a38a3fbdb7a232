package dev.agentwire.server.cluster;

import dev.agentwire.core.EventDraft;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Numbers events to rooms and to everyone for their members on other shards, for {@link ClusterSequencer}: after a
 * step (the members its room events' shards answered back), or for a whole request that cannot be refused, in
 * windows of two rounds (admitted on the rooms' shards, then every recipient numbered on its own). Each shard's
 * entries go in the request's order, so each recipient gets the request's events in order. On the cluster's thread
 * (answers), once a request's plan is handed over.
 */
final class MemberRounds
{
    /** Events to rooms or everyone admitted per window of {@link #twoRounds}: whose members are held at once. */
    static final int SHARED_EVENTS_PER_WINDOW = 16;
    /**
     * Recipients numbered per second round of {@link #twoRounds}, unless one event has more alone; and members of
     * other shards a step's part answers back before publish.lua stops it (its ELSEWHERE_MAX).
     */
    static final int RECIPIENTS_PER_ROUND = 512;

    /** Told, once a round's shards have all answered, whether any of them failed. */
    private interface RoundDone
    {
        void done(boolean failed);
    }

    private final RedisLink cluster;
    private final GroupCommit commits;

    MemberRounds(final RedisLink cluster, final GroupCommit commits)
    {
        this.cluster = cluster;
        this.commits = commits;
    }

    /** @return whether a publish.lua answer is a room's or broadcast's: {'shared', seen, numbered, elsewhere}. */
    static boolean isShared(final Object answer)
    {
        return answer instanceof List && !((List<?>)answer).isEmpty() &&
            StreamCodec.isWord(((List<?>)answer).get(0), StreamCodec.SHARED);
    }

    /**
     * A room's or broadcast's event admitted on its owner's shard whose members on other shards are still to be
     * numbered: who they are, and what the owner's shard answered.
     */
    static final class Shared
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

        /**
         * @param answer   publish.lua's answer for the event ({@link #isShared}): 'shared', seen, numbered there,
         *                 the members of other shards.
         * @param numbered whether the owner's shard numbered it for anyone.
         */
        @SuppressWarnings("unchecked")
        static Shared read(final int index, final Object answer, final boolean numbered)
        {
            final List<Object> shared = (List<Object>)answer;
            return new Shared(index, (List<Object>)shared.get(3), ((Number)shared.get(1)).longValue() == 1, numbered);
        }

        /**
         * Answers the event once every shard it was to be numbered on did: outcome unknown when one failed; when it
         * was numbered for no one, a duplicate (every member had it) or accepted with no one to number (no members).
         */
        void settle(final PublishRequest request)
        {
            if (failure != null)
            {
                request.unfinished(index, failure);
            }
            else if (!numbered)
            {
                request.take(index, seen ? "duplicate" : List.of());
            }
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
    void members(final PublishRequest request, final List<Shared> events, final Runnable then)
    {
        final Map<String, Recipients> byShard = new LinkedHashMap<>();
        for (final Shared event : events)
        {
            addMembers(byShard, event);
        }
        number(request, byShard, events, failed -> then.run());
    }

    /**
     * Numbers each shard's entries ({@code u} for an event to its user, {@code m} for a member of a room's or
     * broadcast's event), all shards at once, each shard's in the order given, so each recipient gets them in that
     * order; then settles the {@code shared} events (failed on a shard: outcome unknown; numbered for no one: a
     * duplicate, or no members) and tells {@code then} whether a shard's part failed.
     */
    private void number(final PublishRequest request, final Map<String, Recipients> byShard, final List<Shared> shared,
        final RoundDone then)
    {
        final boolean[] failed = {false};
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
                event.settle(request);
            }
            then.done(failed[0]);
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
    void twoRounds(final PublishRequest request, final int from)
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
                        admitted[index] = Shared.read(index, one, false);
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
            // The window's events before a failed admission are numbered: the request ends there, or goes on.
            if (to < windowEnd)
            {
                request.finish();
            }
            else
            {
                twoRounds(request, windowEnd);
            }
            return;
        }
        final Map<String, Recipients> byShard = new LinkedHashMap<>();
        final List<Shared> shared = new ArrayList<>();
        int count = 0;
        int next = from;
        while (next < to)
        {
            final boolean toUser = request.events.get(next).isToUser();
            final int adds = toUser ? 1 : admitted[next].members.size();
            if (next > from && count + adds > RECIPIENTS_PER_ROUND)
            {
                break;
            }
            count += adds;
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
        // A failure ends the request after this round: what follows it stays not attempted, so a member's later
        // events are never numbered ahead of one whose outcome is unknown.
        number(request, byShard, shared, failed ->
        {
            if (failed)
            {
                request.finish();
            }
            else
            {
                recipients(request, admitted, done, to, windowEnd);
            }
        });
    }
}
