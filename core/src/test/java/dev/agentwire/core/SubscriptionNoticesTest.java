package dev.agentwire.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A subscription's notices are offered by any thread (the slice, and {@code close()} for the last) and read by its
 * transport: every notice is delivered once, and each offering thread's notices in the order it offered them.
 */
@Timeout(60)
class SubscriptionNoticesTest
{
    private static final int PRODUCERS = 4;
    private static final int PER_PRODUCER = 20_000;

    /** Records each producer's notices by the index in their room names ("producer:index"). */
    private static final class Counting implements SubscriptionHandler, SubscriberListener
    {
        final int[] next = new int[PRODUCERS];
        int delivered;
        String outOfOrder;

        @Override
        public void onJoined(final String room)
        {
            final int colon = room.indexOf(':');
            final int producer = Integer.parseInt(room.substring(0, colon));
            final int index = Integer.parseInt(room.substring(colon + 1));
            if (index != next[producer] && outOfOrder == null)
            {
                outOfOrder = room + " after " + producer + ":" + (next[producer] - 1);
            }
            next[producer] = index + 1;
            delivered++;
        }

        @Override
        public void onWelcome(final String userId, final long epoch, final long lastSeq)
        {
        }

        @Override
        public void onResumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
        {
        }

        @Override
        public void onEvent(final AgentEvent event)
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

        @Override
        public void onAvailable(final Subscription subscription)
        {
        }

        @Override
        public void onClosed(final Subscription subscription, final int reason)
        {
        }
    }

    @Test
    void shouldDeliverEveryNoticeOfferedConcurrentlyOnceAndEachThreadsInItsOrder() throws Exception
    {
        final Counting reader = new Counting();
        final Subscription subscription = new Subscription(1, "u", reader, null);
        final CountDownLatch start = new CountDownLatch(1);
        final Thread[] producers = new Thread[PRODUCERS];
        for (int p = 0; p < PRODUCERS; p++)
        {
            final int producer = p;
            producers[p] = new Thread(() ->
            {
                try
                {
                    start.await();
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < PER_PRODUCER; i++)
                {
                    // Before the reader's first seq: each is delivered as soon as it is read.
                    subscription.offerNotice(Notice.joined(producer + ":" + i, -1));
                }
            }, "offer-" + p);
            producers[p].start();
        }

        start.countDown();
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (reader.delivered < PRODUCERS * PER_PRODUCER && System.nanoTime() < deadlineNs)
        {
            if (subscription.poll(reader, 1_024) == 0)
            {
                Thread.onSpinWait();
            }
        }
        for (final Thread producer : producers)
        {
            producer.join(TimeUnit.SECONDS.toMillis(10));
        }

        assertNull(reader.outOfOrder, "a thread's notices out of its order");
        assertEquals(PRODUCERS * PER_PRODUCER, reader.delivered);
        assertEquals(0, subscription.poll(reader, 1_024), "nothing twice");
        for (int p = 0; p < PRODUCERS; p++)
        {
            assertEquals(PER_PRODUCER, reader.next[p], "producer " + p);
        }
    }
}
