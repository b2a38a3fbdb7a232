package dev.agentwire.core;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters one slice writes (single writer, ordered stores) and any thread reads.
 */
final class SliceCounters
{
    final AtomicLong eventsSequenced = new AtomicLong();
    final AtomicLong deliveries = new AtomicLong();
    final AtomicLong slowConsumerCuts = new AtomicLong();
    final AtomicLong resumesRecovered = new AtomicLong();
    final AtomicLong resumesNotRecovered = new AtomicLong();
    final AtomicLong historyEvictedEvents = new AtomicLong();
    final AtomicLong usersFreed = new AtomicLong();
    final AtomicLong usersEvicted = new AtomicLong();
    final AtomicLong handlerErrors = new AtomicLong();
    final AtomicLong historyBytes = new AtomicLong();
    final AtomicLong users = new AtomicLong();
    final AtomicLong subscriptions = new AtomicLong();
    final AtomicLong backfillsRequested = new AtomicLong();
    final AtomicLong streamResets = new AtomicLong();

    static void increment(final AtomicLong counter)
    {
        counter.lazySet(counter.get() + 1);
    }

    static void add(final AtomicLong counter, final long delta)
    {
        counter.lazySet(counter.get() + delta);
    }
}
