package dev.agentwire.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class BackPressureTest
{
    private AgentWire wire;
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown()
    {
        release.countDown();
        if (wire != null)
        {
            wire.close();
        }
    }

    @Test
    void shouldReturnRingFullWhileTheSliceIsStalledAndDeliverAllAcceptedAfter() throws Exception
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).ringSize(64).build());
        final CountDownLatch stalled = new CountDownLatch(1);
        // A listener that blocks stalls its slice: exactly the misbehaviour the ring must absorb.
        final RecordingSubscriber blocker = new RecordingSubscriber(false)
        {
            @Override
            public void onAvailable(final Subscription s)
            {
                stalled.countDown();
                try
                {
                    release.await(30, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
        };
        blocker.subscribe(wire, "blocker");
        assertTrue(stalled.await(5, TimeUnit.SECONDS), "slice stalled on the welcome");

        final RecordingSubscriber reader = RecordingSubscriber.manual().subscribe(wire, "reader");
        final EventDraft draft = new EventDraft();
        int accepted = 0;
        long status;
        while ((status = wire.tryPublish(Drafts.custom(draft, "reader", "{\"n\":" + accepted + "}"))) >= 0)
        {
            accepted++;
            assertTrue(accepted <= 64, "a 64-slot ring cannot take more");
        }
        assertEquals(PublishStatus.RING_FULL, status);
        assertEquals("ring_full", PublishStatus.name(status));
        assertEquals(0, wire.stats().ringRemainingCapacity);

        release.countDown();
        final int expected = accepted;
        RecordingSubscriber.await(() ->
        {
            reader.drain();
            return reader.events.size() == expected;
        }, 10_000, "every accepted event");
        for (int i = 0; i < expected; i++)
        {
            assertEquals("{\"n\":" + i + "}", reader.events.get(i).payloadAsString());
        }
        assertTrue(wire.tryPublish(Drafts.custom(draft, "reader", "{}")) >= 0, "accepting again");
    }
}
