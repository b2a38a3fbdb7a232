package dev.agentwire.bench.handoff;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntConsumer;

import static dev.agentwire.bench.handoff.HandoffBenchmark.HISTORY_MAX_EVENTS;
import static dev.agentwire.bench.handoff.HandoffBenchmark.USERS;

/**
 * Last seq each user's subscriber has in hand; written by the consumer, read by waiting producers. Also how an engine
 * is brought to its steady state before anything is measured ({@link #prefill}), since that is a matter of waiting
 * until every subscriber has seen what was published.
 */
final class Seen
{
    static final int SPINS_BEFORE_YIELD = 100;
    final AtomicLongArray seqs = new AtomicLongArray(USERS);
    /** Events each user had before the measurement: the producers' counts start after them. */
    long base;

    /**
     * Spins briefly, then yields: with more waiting producers than cores, a waiter that only spins takes the
     * core from the very consumer it waits for, and the latency measured becomes the scheduler's time slice.
     */
    void awaitAtLeast(final int user, final long seq)
    {
        final long target = base + seq;
        int spins = 0;
        while (seqs.get(user) < target)
        {
            if (++spins < SPINS_BEFORE_YIELD)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }

    /**
     * What one of these events takes in AgentWire's log: the record header and ids (118 bytes) and the 200-byte
     * payload (the in-process frame is the payload alone), 8-byte aligned.
     */
    static final int RECORD_BYTES = 320;
    /** The prefill overshoots the log by this much, so that it has wrapped whatever small error the above has. */
    static final double PREFILL_OVERSHOOT = 1.25;
    static final long PREFILL_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(120);

    /**
     * Events per user that bring an engine to its steady state before anything is measured: every user's history
     * full (each new event drops the oldest) and AgentWire's log wrapped (each new record overwrites the oldest).
     * Until then AgentWire writes to memory the operating system has never given it, and every first touch of a
     * page faults — on this machine's VM about 13 µs a 4 KiB page (12 records). That is the cost of the log's first
     * fill, once per process; it is reported by the setup (see {@link #prefill}) and kept out of the hand-off's
     * figures.
     */
    static int prefillPerUser(final long logBytes)
    {
        final long events = (long)Math.ceil(PREFILL_OVERSHOOT * logBytes / RECORD_BYTES);
        return (int)Math.max(HISTORY_MAX_EVENTS + 1, (events + USERS - 1) / USERS);
    }

    /**
     * Publishes {@code perUser} events to each user, round-robin as the benchmarks do, waits until every
     * subscriber has them all, and reports the rate, which includes the log's first fill.
     */
    void prefill(final String engine, final int perUser, final IntConsumer publish)
    {
        final long startNs = System.nanoTime();
        for (int round = 0; round < perUser; round++)
        {
            for (int user = 0; user < USERS; user++)
            {
                publish.accept(user);
            }
        }
        for (int user = 0; user < USERS; user++)
        {
            while (seqs.get(user) < perUser)
            {
                if (System.nanoTime() - startNs > PREFILL_TIMEOUT_NS)
                {
                    throw new IllegalStateException("prefill timed out: engine=" + engine + " user=" + user +
                        " seen=" + seqs.get(user) + " perUser=" + perUser);
                }
                Thread.yield();
            }
        }
        base = perUser;
        final long elapsedNs = System.nanoTime() - startNs;
        final long events = (long)perUser * USERS;
        System.out.printf("prefill: engine=%s events=%d elapsedMs=%d eventsPerSecond=%.0f%n", engine, events,
            TimeUnit.NANOSECONDS.toMillis(elapsedNs), events * 1e9 / elapsedNs);
    }
}
