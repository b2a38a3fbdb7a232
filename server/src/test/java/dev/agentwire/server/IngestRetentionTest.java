package dev.agentwire.server;

import dev.agentwire.server.ingest.IngestEndpoints;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Nothing the server makes for a producer's request outlives its answer: its exchange, its events' drafts, results
 * and receipts are garbage as soon as the 202 is written. Before, the receipt timeout's task (armed for every
 * request, and never cancelled) kept all of it reachable for {@link IngestEndpoints#RECEIPT_TIMEOUT_MS}, and each
 * ring slot kept its event's receipt until the ring came round: at 20,000 events/s, some 100,000 events' objects that
 * a collector had to treat as live. Measured as the heap live after full collections, before and right after
 * requests that are all answered well inside the receipt timeout.
 */
@Timeout(60)
final class IngestRetentionTest
{
    private static final int REQUESTS = 200;
    private static final int EVENTS_PER_REQUEST = 500;
    /** Each request's objects, kept, came to about 40 KB here (100,000 results, drafts and receipts in all). */
    private static final long RETAINED_BOUND_BYTES = 2L << 20;

    @TempDir
    Path dir;
    private ServerFixture fixture;

    @BeforeEach
    void start()
    {
        fixture = new ServerFixture(dir, b -> b.producerRatePerSec(10_000_000).producerBurst(10_000_000)
            .maxBodyBytes(1 << 20));
    }

    @AfterEach
    void stop()
    {
        fixture.close();
    }

    @Test
    void shouldKeepNothingOfAnAnsweredPublishReachable() throws Exception
    {
        final String body = batch(EVENTS_PER_REQUEST);
        // Warm-up: classes, pools and the user's state made once, so they are in the heap before it is measured.
        for (int i = 0; i < 20; i++)
        {
            assertEquals(202, fixture.publish(body).statusCode());
        }
        final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        final long before = heapAfterGc(memory);
        final long startedNs = System.nanoTime();
        for (int i = 0; i < REQUESTS; i++)
        {
            final HttpResponse<String> answer = fixture.publish(body);
            assertEquals(202, answer.statusCode(), answer.body());
        }
        final long after = heapAfterGc(memory);
        final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNs);
        // Past the receipt timeout a kept request would have been let go anyway: the figure would prove nothing.
        assumeTrue(elapsedMs < IngestEndpoints.RECEIPT_TIMEOUT_MS - 1_000,
            "requests and collections took " + elapsedMs + " ms, too close to the receipt timeout to measure");
        assertTrue(after - before < RETAINED_BOUND_BYTES, "live heap grew by " + (after - before) + " bytes over " +
            REQUESTS + " answered requests of " + EVENTS_PER_REQUEST + " events");
    }

    private static String batch(final int events)
    {
        final StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < events; i++)
        {
            out.append(i == 0 ? "" : ",").append("{\"user\":\"keeper\",\"type\":\"app.note\",\"thread_id\":\"t-")
                .append(i).append("\",\"data\":{\"n\":").append(i).append("}}");
        }
        return out.append(']').toString();
    }

    private static long heapAfterGc(final MemoryMXBean memory) throws InterruptedException
    {
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            Thread.sleep(20);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
