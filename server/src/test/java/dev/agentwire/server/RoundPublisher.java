package dev.agentwire.server;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Publishes rounds while a test does something else to the cluster: each round is one request with an event per
 * user (id {@code r<round>}), sent again with the same ids until accepted, so a retry is answered duplicate and
 * every user gets every round once and in order. A daemon thread, bounded in rounds and tries.
 */
final class RoundPublisher
{
    private static final int MAX_TRIES = 200;
    private static final long RETRY_MS = 50;
    private static final long BETWEEN_ROUNDS_MS = 40;

    private final AtomicReference<String> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stopped;
    private volatile int accepted;

    /** Starts publishing {@code rounds} rounds through {@code via} to {@code users}. */
    RoundPublisher(final ServerFixture via, final List<String> users, final int rounds)
    {
        this(via, users, 0, rounds);
    }

    /** Starts publishing rounds {@code firstRound} to {@code rounds} less one (a later publisher's new ids). */
    RoundPublisher(final ServerFixture via, final List<String> users, final int firstRound, final int rounds)
    {
        thread = new Thread(() -> publish(via, users, firstRound, rounds), "round-publisher");
        thread.setDaemon(true);
        thread.start();
    }

    /** Publishes no round after the one under way; {@link #accepted} then says how many were. */
    void stop()
    {
        stopped = true;
    }

    /** @return the round after the last one accepted so far (rounds up to this one less were all accepted). */
    int accepted()
    {
        return accepted;
    }

    /** @return null once every round was accepted (or it was stopped), else why not (or that it still publishes). */
    String await(final long timeoutMs) throws InterruptedException
    {
        thread.join(timeoutMs);
        return thread.isAlive() ? "still publishing after " + timeoutMs + " ms" : failure.get();
    }

    private void publish(final ServerFixture via, final List<String> users, final int firstRound, final int rounds)
    {
        try
        {
            for (int r = firstRound; r < rounds && !stopped; r++)
            {
                final StringBuilder batch = new StringBuilder("[");
                for (int u = 0; u < users.size(); u++)
                {
                    batch.append(u == 0 ? "" : ",").append("{\"user\":\"").append(users.get(u))
                        .append("\",\"type\":\"app.step\",\"id\":\"r").append(r).append("\",\"data\":{}}");
                }
                final String body = batch.append(']').toString();
                int tries = 0;
                while (via.publish(body).statusCode() != 202)
                {
                    if (++tries == MAX_TRIES)
                    {
                        failure.set("round " + r + " not accepted after " + MAX_TRIES + " tries");
                        return;
                    }
                    Thread.sleep(RETRY_MS);
                }
                accepted = r + 1;
                Thread.sleep(BETWEEN_ROUNDS_MS);
            }
        }
        catch (final Exception ex)
        {
            failure.set(ex.toString());
        }
    }
}
