package dev.agentwire.bench.handoff;

import dev.agentwire.core.AgentWire;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The baseline: a connection "manager" of the kind AgentWire replaces. A ConcurrentHashMap of users to their
 * subscribers, and producers that number, record and fan out each event themselves under one lock. It does the
 * same work per event as AgentWire's slice (seq, a copy of the payload, a bounded history, hand-off to every
 * subscriber), so the comparison measures the architecture, not a handicap.
 */
final class NaiveManager
{
    /** What a subscriber of the naive manager receives. */
    interface Subscriber
    {
        void deliver(NaiveEvent event);
    }

    /** The naive event: one object per delivery. */
    static final class NaiveEvent
    {
        final String userId;
        final long seq;
        final String type;
        final String runId;
        final byte[] payload;

        NaiveEvent(final String userId, final long seq, final String type, final String runId, final byte[] payload)
        {
            this.userId = userId;
            this.seq = seq;
            this.type = type;
            this.runId = runId;
            this.payload = payload;
        }
    }

    private static final class UserEntry
    {
        long seq;
        final ArrayDeque<NaiveEvent> history = new ArrayDeque<>();
        final List<Subscriber> subscribers = new ArrayList<>(2);
    }

    private final ConcurrentHashMap<String, UserEntry> users = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final int historyMaxEvents;

    NaiveManager(final int historyMaxEvents)
    {
        this.historyMaxEvents = historyMaxEvents;
    }

    void subscribe(final String userId, final Subscriber subscriber)
    {
        lock.lock();
        try
        {
            users.computeIfAbsent(userId, u -> new UserEntry()).subscribers.add(subscriber);
        }
        finally
        {
            lock.unlock();
        }
    }

    long publish(final String userId, final String type, final String runId, final byte[] payload, final int length)
    {
        lock.lock();
        try
        {
            final UserEntry user = users.computeIfAbsent(userId, u -> new UserEntry());
            final NaiveEvent event = new NaiveEvent(userId, ++user.seq, type, runId, Arrays.copyOf(payload, length));
            user.history.addLast(event);
            if (user.history.size() > historyMaxEvents)
            {
                user.history.removeFirst();
            }
            for (int i = 0, n = user.subscribers.size(); i < n; i++)
            {
                user.subscribers.get(i).deliver(event);
            }
            return event.seq;
        }
        finally
        {
            lock.unlock();
        }
    }
}
