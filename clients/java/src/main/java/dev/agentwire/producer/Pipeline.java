package dev.agentwire.producer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The publishing pipeline: events wait in order, go out in batches (by linger time, count and bytes) from one sender
 * thread, are retried on what a retry can help with (backoff with full jitter, the server's Retry-After as the
 * floor), and never more than {@code maxInFlight} are unanswered: {@link #submit} waits past that. Thread-safe.
 */
final class Pipeline implements AutoCloseable
{
    private static final class Pending
    {
        final String id;
        final byte[] encoded;
        final CompletableFuture<Published> future = new CompletableFuture<>();
        final long queuedNs = System.nanoTime();
        final long deadlineNs;
        int attempts;
        AgentWireException lastError;

        Pending(final String id, final byte[] encoded, final long timeoutMs)
        {
            this.id = id;
            this.encoded = encoded;
            this.deadlineNs = queuedNs + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        }
    }

    private final ProducerConfig config;
    final Transport transport;
    private final Semaphore slots;
    private final LinkedBlockingDeque<Pending> queue = new LinkedBlockingDeque<>();
    private final Thread sender;
    private final Object idle = new Object();
    private final AtomicLong unanswered = new AtomicLong();
    private volatile boolean closed;
    /** Batches sent and the events in them, retries included. */
    final AtomicLong batchesSent = new AtomicLong();
    final AtomicLong eventsSent = new AtomicLong();

    Pipeline(final ProducerConfig config, final Transport transport)
    {
        this.config = config;
        this.transport = transport;
        this.slots = new Semaphore(config.maxInFlight);
        this.sender = new Thread(this::run, "agentwire-producer-sender");
        sender.setDaemon(true);
        sender.start();
    }

    /**
     * @return the event's answer, to come.
     * @throws InterruptedException interrupted while waiting for room (maxInFlight unanswered).
     */
    CompletableFuture<Published> submit(final String id, final byte[] encoded) throws InterruptedException
    {
        if (closed)
        {
            return CompletableFuture.failedFuture(new AgentWireException.Network("the producer is closed"));
        }
        if (!slots.tryAcquire(config.timeoutMs, TimeUnit.MILLISECONDS))
        {
            return CompletableFuture.failedFuture(new AgentWireException.Timeout(
                config.maxInFlight + " events unanswered for " + config.timeoutMs + " ms"));
        }
        final Pending pending = new Pending(id, encoded, config.timeoutMs);
        unanswered.incrementAndGet();
        pending.future.whenComplete((published, error) ->
        {
            slots.release();
            if (unanswered.decrementAndGet() == 0)
            {
                synchronized (idle)
                {
                    idle.notifyAll();
                }
            }
        });
        queue.add(pending);
        return pending.future;
    }

    /** @return events published and not yet answered (at most maxInFlight). */
    long unanswered()
    {
        return unanswered.get();
    }

    /** Waits until every event published so far is answered. */
    void flush() throws InterruptedException
    {
        synchronized (idle)
        {
            while (unanswered.get() > 0)
            {
                idle.wait(100);
            }
        }
    }

    private void run()
    {
        try
        {
            while (!closed || !queue.isEmpty())
            {
                final Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first != null)
                {
                    final List<Pending> batch = batchFrom(first);
                    try
                    {
                        send(batch);
                    }
                    catch (final RuntimeException bug)
                    {
                        // Never a silent hang: what this batch waited for fails, and the sender goes on.
                        for (final Pending pending : batch)
                        {
                            pending.future.completeExceptionally(bug);
                        }
                    }
                }
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** The first event and those that join it within the linger, up to the count and byte bounds. */
    private List<Pending> batchFrom(final Pending first) throws InterruptedException
    {
        final List<Pending> batch = new ArrayList<>();
        batch.add(first);
        long bytes = first.encoded.length;
        final long lingerEndNs = first.queuedNs + TimeUnit.MILLISECONDS.toNanos(config.lingerMs);
        while (batch.size() < config.maxBatchEvents)
        {
            final long waitNs = lingerEndNs - System.nanoTime();
            final Pending next = waitNs > 0 ? queue.poll(waitNs, TimeUnit.NANOSECONDS) : queue.poll();
            if (next == null)
            {
                break;
            }
            if (bytes + next.encoded.length > config.maxBatchBytes)
            {
                queue.addFirst(next);
                break;
            }
            bytes += next.encoded.length;
            batch.add(next);
        }
        return batch;
    }

    private void send(final List<Pending> batch) throws InterruptedException
    {
        List<Pending> todo = batch;
        int round = 0;
        while (!todo.isEmpty())
        {
            batchesSent.incrementAndGet();
            eventsSent.addAndGet(todo.size());
            final List<String> ids = new ArrayList<>(todo.size());
            final List<byte[]> encoded = new ArrayList<>(todo.size());
            for (final Pending pending : todo)
            {
                ids.add(pending.id);
                encoded.add(pending.encoded);
            }
            List<Answers.Outcome> outcomes;
            try
            {
                outcomes = transport.send(ids, encoded);
            }
            catch (final AgentWireException.Unauthorized ex)
            {
                outcomes = repeat(Answers.Outcome.failed(ex), todo.size());
            }
            catch (final AgentWireException ex)
            {
                // The outcome is unknown (the connection broke): all again, with the same ids.
                outcomes = repeat(Answers.Outcome.again(ex, 0), todo.size());
            }
            final List<Pending> again = new ArrayList<>();
            boolean failedAgain = false;
            long hintMs = 0;
            for (int i = 0; i < todo.size(); i++)
            {
                final Pending pending = todo.get(i);
                final Answers.Outcome outcome = outcomes.get(i);
                if (outcome.published != null)
                {
                    pending.future.complete(outcome.published);
                }
                else if (!outcome.retry)
                {
                    pending.future.completeExceptionally(outcome.error);
                }
                else
                {
                    if (outcome.error != null)
                    {
                        failedAgain = true;
                        pending.attempts++;
                        pending.lastError = outcome.error;
                        hintMs = Math.max(hintMs, outcome.retryAfterMs);
                    }
                    if (System.nanoTime() - pending.deadlineNs >= 0)
                    {
                        pending.future.completeExceptionally(new AgentWireException.Timeout(
                            "no answer within " + config.timeoutMs + " ms; last: " + pending.lastError));
                    }
                    else if (pending.attempts >= config.maxAttempts)
                    {
                        pending.future.completeExceptionally(pending.lastError);
                    }
                    else
                    {
                        again.add(pending);
                    }
                }
            }
            todo = again;
            if (!todo.isEmpty() && failedAgain)
            {
                round++;
                final long boundMs = Math.min(config.maxBackoffMs, config.initialBackoffMs << Math.min(round, 20));
                final long waitMs = Math.max(hintMs, ThreadLocalRandom.current().nextLong(boundMs + 1));
                long soonestNs = Long.MAX_VALUE;
                for (final Pending pending : todo)
                {
                    soonestNs = Math.min(soonestNs, pending.deadlineNs - System.nanoTime());
                }
                Thread.sleep(Math.max(0, Math.min(waitMs, TimeUnit.NANOSECONDS.toMillis(soonestNs))));
            }
        }
    }

    private static List<Answers.Outcome> repeat(final Answers.Outcome outcome, final int n)
    {
        final List<Answers.Outcome> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++)
        {
            out.add(outcome);
        }
        return out;
    }

    /** Sends what is queued (within each event's timeout), then stops the sender. */
    @Override
    public void close()
    {
        closed = true;
        try
        {
            sender.join(config.timeoutMs + 5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        transport.close();
    }
}
