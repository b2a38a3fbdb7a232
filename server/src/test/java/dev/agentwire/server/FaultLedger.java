package dev.agentwire.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fault suite's record of the whole history, and its verdict. Producers note every event the server
 * acknowledged (a 202's seqs: user, epoch, seq, key); sessions note every event frame they receive and every gap the
 * server announced ({@code resumed} with {@code recovered: false}, or a new epoch). At the end every acknowledged
 * event must have reached its user's session once, in order, or lie in an announced gap; nothing may reach anyone
 * else. Thread-safe.
 */
final class FaultLedger
{
    /** One user's view: what was acknowledged for it, what its session received, and the gaps announced to it. */
    private static final class Stream
    {
        final Map<Long, Map<Long, String>> acknowledged = new HashMap<>(); // epoch -> seq -> key
        final Map<Long, Set<Long>> received = new HashMap<>();             // epoch -> seqs
        final List<long[]> announced = new ArrayList<>();                  // {epoch, fromSeq, toSeq} lost, inclusive
        long duplicates;
        long reordered;
        /** The first (epoch, seq) received twice or out of order, and the one before it, to say which. */
        String firstBreach;
        long lastEpoch = -1;
        long lastSeq = -1;
        long newestAcknowledgedEpoch = -1;
        final Map<Long, Long> firstSeenAt = new HashMap<>(); // epoch -> order it was first acknowledged or told
    }

    private final java.util.concurrent.atomic.AtomicLong order = new java.util.concurrent.atomic.AtomicLong();

    private final ConcurrentHashMap<String, Stream> streams = new ConcurrentHashMap<>();
    private long foreign;
    private final Map<String, Long> faults = new java.util.LinkedHashMap<>();

    private Stream stream(final String user)
    {
        return streams.computeIfAbsent(user, u -> new Stream());
    }

    /** The server acknowledged an event for a user: it owes the user this (epoch, seq). */
    void acknowledged(final String user, final long epoch, final long seq, final String key)
    {
        final Stream s = stream(user);
        synchronized (s)
        {
            s.acknowledged.computeIfAbsent(epoch, e -> new HashMap<>()).put(seq, key);
            s.newestAcknowledgedEpoch = epoch;
            s.firstSeenAt.computeIfAbsent(epoch, e -> order.incrementAndGet());
        }
    }

    /** A session received an event frame. */
    void received(final String sessionUser, final String eventUser, final long epoch, final long seq)
    {
        if (!sessionUser.equals(eventUser))
        {
            synchronized (this)
            {
                foreign++;
            }
            return;
        }
        final Stream s = stream(sessionUser);
        synchronized (s)
        {
            final boolean duplicate = !s.received.computeIfAbsent(epoch, e -> new HashSet<>()).add(seq);
            final boolean reordered = epoch == s.lastEpoch && seq <= s.lastSeq;
            if (duplicate)
            {
                s.duplicates++;
            }
            if (reordered)
            {
                s.reordered++;
            }
            if ((duplicate || reordered) && s.firstBreach == null)
            {
                s.firstBreach = sessionUser + (duplicate ? " twice" : " out of order") + ": epoch=" + epoch + " seq=" +
                    seq + " after epoch=" + s.lastEpoch + " seq=" + s.lastSeq;
            }
            s.lastEpoch = epoch;
            s.lastSeq = seq;
        }
    }

    /**
     * A session resumed from (epoch, after) and was told what the server still holds: events after the cursor that
     * the answer does not cover are announced lost.
     */
    void resumed(final String user, final long cursorEpoch, final long after, final long answerEpoch,
        final boolean recovered, final long from)
    {
        final Stream s = stream(user);
        synchronized (s)
        {
            if (cursorEpoch != answerEpoch)
            {
                // A new stream: everything of the old one after the cursor is gone, and said so; of the new one,
                // what the answer starts after (its history's first seq) is gone too.
                s.announced.add(new long[] {cursorEpoch, after + 1, Long.MAX_VALUE});
                if (from > 1)
                {
                    s.announced.add(new long[] {answerEpoch, 1, from - 1});
                }
                // Epochs that began after the cursor's and before the answer's (Redis restarted empty twice while
                // the session was away) were never seen by it: the jump announces them too.
                final long after0 = s.firstSeenAt.getOrDefault(cursorEpoch, 0L);
                final long before = s.firstSeenAt.getOrDefault(answerEpoch, Long.MAX_VALUE);
                s.firstSeenAt.forEach((epoch, at) ->
                {
                    if (epoch != cursorEpoch && epoch != answerEpoch && at > after0 && at < before)
                    {
                        s.announced.add(new long[] {epoch, 1, Long.MAX_VALUE});
                    }
                });
            }
            else if (!recovered && from > after + 1)
            {
                s.announced.add(new long[] {cursorEpoch, after + 1, from - 1});
            }
            s.firstSeenAt.computeIfAbsent(answerEpoch, e -> order.incrementAndGet());
            // The replay restarts the order check at the cursor.
            s.lastEpoch = answerEpoch;
            s.lastSeq = cursorEpoch == answerEpoch ? Math.max(after, from - 1) : 0;
        }
    }

    /** A session connected fresh (no cursor): it owes nothing before the welcome's seq. */
    void startedAt(final String user, final long epoch, final long seq)
    {
        final Stream s = stream(user);
        synchronized (s)
        {
            s.announced.add(new long[] {epoch, 1, seq}); // not lost: never owed to a session that started after it
            s.firstSeenAt.computeIfAbsent(epoch, e -> order.incrementAndGet());
            s.lastEpoch = epoch;
            s.lastSeq = seq;
        }
    }

    private volatile long healedInMs = -1;

    /** How long every session took to catch up once the faults stopped, for the report. */
    void healedInMs(final long ms)
    {
        healedInMs = ms;
    }

    long healedInMs()
    {
        return healedInMs;
    }

    /** Counts a fault injected, for the report. */
    synchronized void fault(final String name)
    {
        faults.merge(name, 1L, Long::sum);
    }

    /** @return the highest acknowledged seq of a user in an epoch (0 when none). */
    long highestAcknowledged(final String user, final long epoch)
    {
        final Stream s = stream(user);
        synchronized (s)
        {
            final Map<Long, String> seqs = s.acknowledged.get(epoch);
            return seqs == null ? 0 : seqs.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
        }
    }

    /**
     * @return true when a session on this epoch has not yet been moved to the epoch of the user's newest acknowledged
     *         event (it was first seen before that one).
     */
    boolean isBehind(final String user, final long sessionEpoch)
    {
        final Stream s = stream(user);
        synchronized (s)
        {
            if (s.newestAcknowledgedEpoch < 0 || s.newestAcknowledgedEpoch == sessionEpoch)
            {
                return false;
            }
            return s.firstSeenAt.getOrDefault(sessionEpoch, 0L) < s.firstSeenAt.get(s.newestAcknowledgedEpoch);
        }
    }

    /** @return the epochs the user's events were acknowledged in. */
    Set<Long> epochs(final String user)
    {
        final Stream s = stream(user);
        synchronized (s)
        {
            return new HashSet<>(s.acknowledged.keySet());
        }
    }

    /** The verdict. */
    static final class Verdict
    {
        long acknowledged;
        long delivered;
        long announcedLost;
        long silentlyLost;
        long duplicated;
        long reordered;
        long foreign;
        final List<String> examples = new ArrayList<>();

        boolean clean()
        {
            return silentlyLost == 0 && duplicated == 0 && reordered == 0 && foreign == 0;
        }
    }

    synchronized Verdict verdict()
    {
        final Verdict v = new Verdict();
        v.foreign = foreign;
        for (final Map.Entry<String, Stream> entry : streams.entrySet())
        {
            final Stream s = entry.getValue();
            synchronized (s)
            {
                v.duplicated += s.duplicates;
                v.reordered += s.reordered;
                if (s.firstBreach != null && v.examples.size() < 5)
                {
                    v.examples.add(s.firstBreach);
                }
                for (final Map.Entry<Long, Map<Long, String>> byEpoch : s.acknowledged.entrySet())
                {
                    final long epoch = byEpoch.getKey();
                    final Set<Long> got = s.received.getOrDefault(epoch, Set.of());
                    for (final long seq : byEpoch.getValue().keySet())
                    {
                        v.acknowledged++;
                        if (got.contains(seq))
                        {
                            v.delivered++;
                        }
                        else if (isAnnounced(s, epoch, seq))
                        {
                            v.announcedLost++;
                        }
                        else
                        {
                            v.silentlyLost++;
                            if (v.examples.size() < 5)
                            {
                                v.examples.add(entry.getKey() + " epoch=" + epoch + " seq=" + seq);
                            }
                        }
                    }
                }
            }
        }
        return v;
    }

    synchronized Map<String, Long> faults()
    {
        return new java.util.LinkedHashMap<>(faults);
    }

    private static boolean isAnnounced(final Stream s, final long epoch, final long seq)
    {
        for (final long[] gap : s.announced)
        {
            if (gap[0] == epoch && seq >= gap[1] && seq <= gap[2])
            {
                return true;
            }
        }
        return false;
    }
}
