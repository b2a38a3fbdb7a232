package dev.agentwire.core;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 4 producers publish 1,000,000 events to 1,000 users at random while drainer threads read every subscription:
 * each subscriber must see exactly its user's events, seqs contiguous from 1, and each producer's events to it in
 * the order that producer published them.
 */
class OrderingAndIsolationTest
{
    private static final int PRODUCERS = 4;
    private static final int USERS = 1_000;
    private static final int EVENTS_PER_PRODUCER = 250_000;
    private static final int DRAINERS = 2;

    private AgentWire wire;
    private final List<Thread> threads = new ArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException
    {
        for (final Thread t : threads)
        {
            t.interrupt();
            t.join(5_000);
        }
        if (wire != null)
        {
            wire.close();
        }
    }

    /** Checks one user's stream as it is drained; records the first violation. */
    private static final class StreamChecker implements SubscriberListener, SubscriptionHandler
    {
        final String userId;
        final int[] nextCounter = new int[PRODUCERS];
        long expectedSeq = 1;
        volatile long received;
        volatile String violation;
        volatile int closedReason;
        Subscription subscription;

        StreamChecker(final String userId)
        {
            this.userId = userId;
        }

        @Override
        public void onAvailable(final Subscription s)
        {
            // Drainer threads poll on their own schedule.
        }

        @Override
        public void onClosed(final Subscription s, final int reason)
        {
            closedReason = reason;
        }

        @Override
        public void onWelcome(final String user, final long epoch, final long lastSeq)
        {
        }

        @Override
        public void onResumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
        {
        }

        @Override
        public void onEvent(final AgentEvent event)
        {
            if (violation != null)
            {
                return;
            }
            if (!userId.equals(event.userId()))
            {
                violation = "foreign event for " + event.userId() + " reached " + userId;
                return;
            }
            if (event.seq() != expectedSeq)
            {
                violation = userId + " expected seq " + expectedSeq + " got " + event.seq();
                return;
            }
            expectedSeq++;
            final byte[] payload = event.payloadBytes();
            final UnsafeBuffer buffer = new UnsafeBuffer(payload);
            final int producer = buffer.getInt(0);
            final int counter = buffer.getInt(4);
            final int target = buffer.getInt(8);
            if (target != Integer.parseInt(userId.substring(5)))
            {
                violation = "payload for user-" + target + " reached " + userId;
                return;
            }
            if (counter != nextCounter[producer])
            {
                violation = userId + " producer " + producer + " expected " + nextCounter[producer] + " got " + counter;
                return;
            }
            nextCounter[producer]++;
            received++;
        }

        @Override
        public void onJoined(final String room)
        {
        }

        @Override
        public void onLeft(final String room)
        {
        }

        @Override
        public void onClosed(final int reason)
        {
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void shouldKeepEveryUsersEventsOrderedAndIsolatedUnderConcurrentProducers() throws Exception
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(2).ringSize(1 << 14).build());
        final StreamChecker[] checkers = new StreamChecker[USERS];
        for (int u = 0; u < USERS; u++)
        {
            checkers[u] = new StreamChecker("user-" + u);
            checkers[u].subscription = wire.subscribe(checkers[u].userId, checkers[u]);
        }

        final AtomicBoolean producing = new AtomicBoolean(true);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int d = 0; d < DRAINERS; d++)
        {
            final int drainer = d;
            startThread("drainer-" + d, () ->
            {
                while (!Thread.currentThread().isInterrupted())
                {
                    int polled = 0;
                    for (int u = drainer; u < USERS; u += DRAINERS)
                    {
                        polled += checkers[u].subscription.poll(checkers[u], 512);
                    }
                    if (polled == 0)
                    {
                        if (!producing.get() && allReceived(checkers))
                        {
                            return;
                        }
                        Thread.onSpinWait();
                    }
                }
            }, failure);
        }

        final CountDownLatch producersDone = new CountDownLatch(PRODUCERS);
        final int[][] expectedPerUser = new int[PRODUCERS][USERS];
        for (int p = 0; p < PRODUCERS; p++)
        {
            final int producer = p;
            startThread("producer-" + p, () ->
            {
                final SplittableRandom random = new SplittableRandom(42 + producer);
                final EventDraft draft = new EventDraft();
                final UnsafeBuffer payload = new UnsafeBuffer(new byte[12]);
                final int[] counters = expectedPerUser[producer];
                final String[] userIds = new String[USERS];
                for (int u = 0; u < USERS; u++)
                {
                    userIds[u] = "user-" + u;
                }
                for (int i = 0; i < EVENTS_PER_PRODUCER; i++)
                {
                    final int u = random.nextInt(USERS);
                    payload.putInt(0, producer);
                    payload.putInt(4, counters[u]++);
                    payload.putInt(8, u);
                    draft.reset().toUser(userIds[u]).type("test.seq").payload(payload, 0, 12);
                    final long status = wire.publish(draft);
                    if (status < 0)
                    {
                        throw new AssertionError("publish refused: " + PublishStatus.name(status));
                    }
                }
                producersDone.countDown();
            }, failure);
        }

        assertTrue(producersDone.await(150, TimeUnit.SECONDS), "producers finished");
        producing.set(false);
        RecordingSubscriber.await(() -> allReceived(checkers) || failure.get() != null || anyViolation(checkers) != null,
            60_000, "all events received");
        assertNull(failure.get());
        assertNull(anyViolation(checkers));

        long total = 0;
        for (int u = 0; u < USERS; u++)
        {
            int expected = 0;
            for (int p = 0; p < PRODUCERS; p++)
            {
                expected += expectedPerUser[p][u];
                assertEquals(expectedPerUser[p][u], checkers[u].nextCounter[p], "user " + u + " producer " + p);
            }
            assertEquals(expected, checkers[u].received, "user " + u);
            assertEquals(CloseReason.NONE, checkers[u].closedReason);
            total += checkers[u].received;
        }
        assertEquals((long)PRODUCERS * EVENTS_PER_PRODUCER, total);
        assertEquals(total, wire.stats().deliveries);
    }

    private static boolean allReceived(final StreamChecker[] checkers)
    {
        long total = 0;
        for (final StreamChecker c : checkers)
        {
            total += c.received;
        }
        return total == (long)PRODUCERS * EVENTS_PER_PRODUCER;
    }

    private static String anyViolation(final StreamChecker[] checkers)
    {
        for (final StreamChecker c : checkers)
        {
            if (c.violation != null)
            {
                return c.violation;
            }
        }
        return null;
    }

    private void startThread(final String name, final Runnable body, final AtomicReference<Throwable> failure)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                body.run();
            }
            catch (final Throwable t)
            {
                failure.compareAndSet(null, t);
            }
        }, name);
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }
}
