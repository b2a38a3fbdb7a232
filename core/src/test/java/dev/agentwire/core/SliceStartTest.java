package dev.agentwire.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A slice thread the operating system starts late must not lose what was accepted before a close: Disruptor 4's
 * shutdown skips consumers whose thread has not started yet, so {@link AgentWire#start} returns only once every
 * slice runs. The slice threads here are made to start late on purpose, which made the loss certain before.
 */
@Timeout(60)
class SliceStartTest
{
    /** Starts each thread only after a delay: what a busy machine does to a new thread now and then. */
    private static final class LateThreads implements ThreadFactory
    {
        final AtomicInteger made = new AtomicInteger();

        @Override
        public Thread newThread(final Runnable task)
        {
            made.incrementAndGet();
            final Thread thread = new Thread(() ->
            {
                try
                {
                    TimeUnit.MILLISECONDS.sleep(300);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
                task.run();
            }, "late-slice");
            thread.setDaemon(true);
            return thread;
        }
    }

    @Test
    void shouldDeliverEverythingAcceptedWhenCloseFollowsStartAtOnce()
    {
        final LateThreads threads = new LateThreads();
        final AgentWire wire = AgentWire.start(
            AgentWireConfig.builder().sliceCount(2).threadFactory(threads).build());
        final EventDraft draft = new EventDraft();
        final RecordingSubscriber frank = RecordingSubscriber.manual().subscribe(wire, "frank");
        for (int i = 0; i < 1_000; i++)
        {
            assertTrue(wire.publish(Drafts.custom(draft, "frank", "{\"i\":" + i + "}")) >= 0);
        }
        wire.close();

        assertTrue(wire.isTerminated());
        frank.drain();
        assertEquals(1_000, frank.events.size(), "every accepted event delivered");
        assertEquals(CloseReason.SHUTDOWN, frank.queueClosedReason, "the closing notice came after the last event");
        assertEquals(2, threads.made.get(), "the configured factory made the slice threads");
    }
}
