package dev.agentwire.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The load tool's producer side over HTTP: batches of events to {@code /v1/events}, round robin over the nodes
 * (as a load balancer would), room memberships, and the runs of agent events. Counts every request not answered 202.
 * Thread-safe for {@link #publish}; the rest runs before the ladder.
 */
final class Publisher
{
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final String[] publishBases;
    private final String producerKey;
    private final AtomicLong publishes = new AtomicLong();
    /** Publish requests not answered 202: refused, or no answer at all. */
    final LongAdder refused = new LongAdder();

    Publisher(final String base, final String[] socketBases, final String producerKey)
    {
        this.base = base;
        this.publishBases = socketBases == null || socketBases.length == 0 ? new String[]{base} : socketBases;
        this.producerKey = producerKey;
    }

    HttpClient http()
    {
        return http;
    }

    /** Sends a batch of events (a JSON array), to the next node in turn. */
    CompletableFuture<HttpResponse<Void>> publish(final String batch)
    {
        final String publishBase = publishBases[(int)(publishes.getAndIncrement() % publishBases.length)];
        final HttpRequest request = authorized(HttpRequest.newBuilder(URI.create(publishBase + "/v1/events"))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(batch)));
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
            .whenComplete((response, failure) ->
            {
                if (failure != null || response.statusCode() != 202)
                {
                    refused.increment();
                }
            });
    }

    /** Puts user {@code u} of {@code connections} in room {@code u / 10}. */
    void joinRooms(final int connections) throws Exception
    {
        for (int u = 0; u < connections; u++)
        {
            http.send(authorized(HttpRequest.newBuilder(
                    URI.create(base + "/v1/rooms/room-" + (u / 10) + "/members/load-" + u))
                .PUT(HttpRequest.BodyPublishers.noBody())), HttpResponse.BodyHandlers.discarding());
        }
        Thread.sleep(500);
    }

    /**
     * Starts every user's run (agent events) and waits until each user has received its start, so the ladder's seqs
     * follow it.
     *
     * @param delivered events the receiver has counted so far.
     */
    void startRuns(final EventBodies bodies, final int connections, final LongSupplier delivered) throws Exception
    {
        final long deliveredBefore = delivered.getAsLong();
        for (int from = 0; from < connections; from += 500)
        {
            final StringBuilder body = new StringBuilder().append('[');
            for (int u = from; u < Math.min(connections, from + 500); u++)
            {
                bodies.appendRunStart(body.append(u == from ? "" : ","), u, System.nanoTime());
            }
            publish(body.append(']').toString()).get(30, TimeUnit.SECONDS);
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (delivered.getAsLong() - deliveredBefore < connections && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        final long started = delivered.getAsLong() - deliveredBefore;
        if (started < connections || refused.sum() > 0)
        {
            throw new IllegalStateException("runs started=" + started + " users=" + connections + " refused=" +
                refused.sum());
        }
    }

    private HttpRequest authorized(final HttpRequest.Builder request)
    {
        if (producerKey != null && !producerKey.isEmpty())
        {
            request.header("Authorization", "Bearer " + producerKey);
        }
        return request.build();
    }
}
