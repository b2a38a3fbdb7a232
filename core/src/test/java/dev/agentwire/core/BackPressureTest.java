package dev.agentwire.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
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
        stallTheSlice();

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

    @Test
    void shouldNotHoldPublishersOfOtherOwnersBehindOneWaitingForTheRing() throws Exception
    {
        // One stripe: every owner shares the lock that orders publishes.
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).ringSize(64).publishStripes(1).build());
        stallTheSlice();
        fillTheRing();
        final AtomicLong waiterStatus = new AtomicLong(Long.MIN_VALUE);
        final Thread waiter = startWaiter(waiterStatus);

        final EventDraft draft = new EventDraft();
        final long other = assertTimeoutPreemptively(Duration.ofSeconds(5),
            () -> wire.tryPublish(Drafts.custom(draft, "other", "{}")), "a tryPublish beside a waiting publish");
        assertEquals(PublishStatus.RING_FULL, other);

        release.countDown();
        waiter.join(10_000);
        assertTrue(waiterStatus.get() >= 0, "the waiter got its slot: " + waiterStatus.get());
    }

    @Test
    void shouldAnswerClosedToAPublisherWaitingForTheRingWhenTheEngineCloses() throws Exception
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).ringSize(64).build());
        stallTheSlice();
        fillTheRing();
        final AtomicLong waiterStatus = new AtomicLong(Long.MIN_VALUE);
        final Thread waiter = startWaiter(waiterStatus);

        final Thread closer = new Thread(wire::close, "closer");
        closer.start();
        // The slice is still stalled: the answer cannot wait for a free slot.
        RecordingSubscriber.await(() -> waiterStatus.get() != Long.MIN_VALUE, 5_000, "the waiter answered");
        assertEquals(PublishStatus.CLOSED, waiterStatus.get());

        release.countDown();
        closer.join(10_000);
        waiter.join(10_000);
        assertTrue(wire.isTerminated(), "closed once the slice ran again");
    }

    @Test
    void shouldNotHoldPublishersBehindASubscribeWaitingForTheRing() throws Exception
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).ringSize(64).publishStripes(1).build());
        stallTheSlice();
        fillTheRing();
        final RecordingSubscriber late = RecordingSubscriber.inline();
        final Thread subscriber = new Thread(() -> late.subscribe(wire, "late"), "subscriber");
        subscriber.setDaemon(true);
        subscriber.start();
        RecordingSubscriber.await(() -> subscriber.getState() == Thread.State.TIMED_WAITING, 5_000,
            "the subscribe waiting for a slot");

        final EventDraft draft = new EventDraft();
        final long other = assertTimeoutPreemptively(Duration.ofSeconds(5),
            () -> wire.tryPublish(Drafts.custom(draft, "other", "{}")), "a tryPublish beside a waiting subscribe");
        assertEquals(PublishStatus.RING_FULL, other);

        release.countDown();
        RecordingSubscriber.await(() -> late.welcomeEpoch > 0, 10_000, "the late subscriber welcomed");
    }

    @Test
    void shouldNotHoldPublishersBehindOneWaitingForALargePayloadBuffer() throws Exception
    {
        // Room in the ring, none for large payloads: a 4 KiB payload borrows from a pool bounded at 16 KiB.
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).ringSize(64).publishStripes(1)
            .maxPayloadBytes(4096).largePayloadMaxBytes(16 * 1024).build());
        stallTheSlice();
        final byte[] large = new byte[4096];
        java.util.Arrays.fill(large, (byte)'x');
        final EventDraft draft = new EventDraft();
        int lent = 0;
        while (wire.tryPublish(draft.reset().toUser("reader").type("app.blob").payload(large, 0, large.length)) >= 0)
        {
            lent++;
            assertTrue(lent <= 4, "a 16 KiB pool lends at most four 4 KiB buffers");
        }
        assertTrue(wire.stats().ringRemainingCapacity > 0, "the ring itself has room");

        final AtomicLong waiterStatus = new AtomicLong(Long.MIN_VALUE);
        final Thread waiter = new Thread(() -> waiterStatus.set(wire.publish(
            new EventDraft().toUser("waiter").type("app.blob").payload(large, 0, large.length))), "waiter");
        waiter.setDaemon(true);
        waiter.start();
        RecordingSubscriber.await(() -> waiter.getState() == Thread.State.TIMED_WAITING, 5_000,
            "waiting for a large payload buffer");

        final long small = assertTimeoutPreemptively(Duration.ofSeconds(5),
            () -> wire.tryPublish(Drafts.custom(draft, "other", "{}")), "a small tryPublish beside the waiter");
        assertTrue(small >= 0, "a small event needs no pool buffer and the ring has room: " + small);

        release.countDown();
        waiter.join(10_000);
        assertTrue(waiterStatus.get() >= 0, "the waiter got its buffer: " + waiterStatus.get());
    }

    /** A listener that blocks stalls its slice: the ring then fills, as behind a slow consumer. */
    private void stallTheSlice() throws InterruptedException
    {
        final CountDownLatch stalled = new CountDownLatch(1);
        new RecordingSubscriber(false)
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
        }.subscribe(wire, "blocker");
        assertTrue(stalled.await(5, TimeUnit.SECONDS), "slice stalled on the welcome");
    }

    private void fillTheRing()
    {
        final EventDraft draft = new EventDraft();
        int accepted = 0;
        while (wire.tryPublish(Drafts.custom(draft, "reader", "{}")) >= 0)
        {
            accepted++;
            assertTrue(accepted <= 64, "a 64-slot ring cannot take more");
        }
        assertEquals(0, wire.stats().ringRemainingCapacity);
    }

    /** Starts a blocking publish and returns once it waits for a slot (parked with a timeout, between tries). */
    private Thread startWaiter(final AtomicLong status)
    {
        final Thread waiter = new Thread(
            () -> status.set(wire.publish(Drafts.custom(new EventDraft(), "waiter", "{}"))), "waiter");
        waiter.setDaemon(true);
        waiter.start();
        RecordingSubscriber.await(() -> waiter.getState() == Thread.State.TIMED_WAITING, 5_000, "waiting for a slot");
        return waiter;
    }
}
