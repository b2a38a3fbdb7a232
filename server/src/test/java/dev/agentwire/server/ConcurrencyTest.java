package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many real connections at once: 500 sockets of 250 users (every user on two devices), runs published by 4
 * concurrent producers over HTTP; every socket gets exactly its user's events, in order, and nothing else.
 */
class ConcurrencyTest
{
    private static final int USERS = 250;
    private static final int DEVICES = 2;
    private static final int RUNS_PER_USER = 4;

    @TempDir
    Path dir;
    private ServerFixture fixture;
    private ExecutorService producers;

    @AfterEach
    void tearDown()
    {
        if (producers != null)
        {
            producers.shutdownNow();
        }
        if (fixture != null)
        {
            fixture.close();
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void shouldDeliverEveryUsersRunsInOrderToAllItsDevicesAndNoOneElse() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.maxConnectionsPerIp(10_000).producerRatePerSec(1_000_000)
            .producerBurst(1_000_000));
        final WsClient[][] sockets = new WsClient[USERS][DEVICES];
        for (int u = 0; u < USERS; u++)
        {
            for (int d = 0; d < DEVICES; d++)
            {
                sockets[u][d] = fixture.connect("user-" + u);
            }
        }
        for (int u = 0; u < USERS; u++)
        {
            for (int d = 0; d < DEVICES; d++)
            {
                assertEquals("welcome", sockets[u][d].next(10_000).get("type").asText());
            }
        }
        assertEquals(USERS * DEVICES, fixture.server.connectionCount());

        producers = Executors.newFixedThreadPool(4);
        final List<Future<?>> done = new ArrayList<>();
        for (int p = 0; p < 4; p++)
        {
            final int producer = p;
            done.add(producers.submit(() ->
            {
                // Each producer owns a quarter of the users, so each user's runs come from one producer in order.
                for (int run = 0; run < RUNS_PER_USER; run++)
                {
                    for (int u = producer; u < USERS; u += 4)
                    {
                        final HttpResponse<String> response =
                            fixture.publish(ServerFixture.runBatch("user-" + u, "u" + u + "-r" + run));
                        if (response.statusCode() != 202)
                        {
                            throw new AssertionError(response.statusCode() + " " + response.body());
                        }
                    }
                }
                return null;
            }));
        }
        for (final Future<?> f : done)
        {
            f.get(120, TimeUnit.SECONDS);
        }

        final int expected = RUNS_PER_USER * 5;
        for (int u = 0; u < USERS; u++)
        {
            for (int d = 0; d < DEVICES; d++)
            {
                final List<JsonNode> events = sockets[u][d].collect(WsClient::isEvent, expected, 30_000);
                for (int i = 0; i < expected; i++)
                {
                    final JsonNode e = events.get(i);
                    assertEquals(i + 1, e.get("seq").asLong(), "user " + u + " device " + d);
                    final String runId = e.get("run_id").asText();
                    assertTrue(runId.startsWith("u" + u + "-r"), "foreign event " + runId + " for user-" + u);
                    assertEquals("u" + u + "-r" + (i / 5), runId, "runs in publish order");
                }
            }
        }
        Thread.sleep(300);
        for (int u = 0; u < USERS; u++)
        {
            for (int d = 0; d < DEVICES; d++)
            {
                for (final JsonNode extra : sockets[u][d].messages)
                {
                    throw new AssertionError("unexpected extra message for user-" + u + ": " + extra);
                }
            }
        }
    }
}
