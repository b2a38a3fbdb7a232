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

    /** Starts publishing {@code rounds} rounds through {@code via} to {@code users}. */
    RoundPublisher(final ServerFixture via, final List<String> users, final int rounds)
    {
        thread = new Thread(() -> publish(via, users, rounds), "round-publisher");
        thread.setDaemon(true);
        thread.start();
    }

    /** @return null once every round was accepted, else why not (or that it is still publishing). */
    String await(final long timeoutMs) throws InterruptedException
    {
        thread.join(timeoutMs);
        return thread.isAlive() ? "still publishing after " + timeoutMs + " ms" : failure.get();
    }

    private void publish(final ServerFixture via, final List<String> users, final int rounds)
    {
        try
        {
            for (int r = 0; r < rounds; r++)
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
                Thread.sleep(BETWEEN_ROUNDS_MS);
            }
        }
        catch (final Exception ex)
        {
            failure.set(ex.toString());
        }
    }
}
