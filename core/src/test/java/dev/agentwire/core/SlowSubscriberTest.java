package dev.agentwire.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscriber that stops reading never slows the spine or anyone else, and holds no memory while it lags: it is a
 * cursor into the history. It is cut only once its user's history no longer holds what it has not read — and its
 * resume then says so ({@code recovered: false}), never a silent gap.
 */
@Timeout(60)
class SlowSubscriberTest
{
    private AgentWire wire;
    private final EventDraft draft = new EventDraft();

    @AfterEach
    void tearDown()
    {
        if (wire != null)
        {
            wire.close();
        }
    }

    @Test
    void shouldCutASubscriberThatNeverDrainsOnceHistoryPassesItWhileOthersReceiveEverything()
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(2).historyMaxEvents(32).build());
        final RecordingSubscriber stuck = RecordingSubscriber.manual().subscribe(wire, "room-user-stuck");
        final RecordingSubscriber[] others = new RecordingSubscriber[100];
        for (int i = 0; i < others.length; i++)
        {
            others[i] = RecordingSubscriber.inline().subscribe(wire, "room-user-" + i);
            wire.join("room-user-" + i, "lobby");
        }
        wire.join("room-user-stuck", "lobby");

        final int events = 1_000;
        for (int i = 0; i < events; i++)
        {
            assertTrue(wire.publish(draft.reset().toRoom("lobby").type("app.tick").payload("{}")) >= 0);
        }

        for (final RecordingSubscriber other : others)
        {
            RecordingSubscriber.await(() -> other.events.size() == events, 10_000, "everything for the others");
            assertEquals(CloseReason.NONE, other.listenerClosedReason);
        }
        RecordingSubscriber.await(() -> stuck.listenerClosedReason == CloseReason.SLOW_CONSUMER, 5_000, "cut");
        assertTrue(stuck.subscription.isClosed());
        assertEquals(CloseReason.SLOW_CONSUMER, stuck.subscription.closeReason());
        assertEquals(1, wire.stats().slowConsumerCuts);
        assertEquals(100, wire.stats().subscriptions);

        // What it missed is no longer in history (32 events): a reconnect from where it stopped is told so.
        stuck.drain();
        final long lastSeen = stuck.events.isEmpty() ? 0 : stuck.events.get(stuck.events.size() - 1).seq();
        final RecordingSubscriber back = RecordingSubscriber.inline()
            .resume(wire, "room-user-stuck", stuck.welcomeEpoch, lastSeen);
        back.awaitReplay(5_000);
        assertEquals(Boolean.FALSE, back.recovered, "history (32) no longer reaches back to " + lastSeen);
        assertEquals(events - 31, back.resumedFrom);
        assertEquals(32, back.events.size(), "every kept event replayed");
    }

    @Test
    void shouldCutASubscriptionThatResumedFurtherBackThanTheOthersHadRead()
    {
        // The slice looks at a user's cursors only once a trim passes the lowest it saw there: a subscription
        // attached since, further back, must lower that mark at once, or it would not be cut in time.
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).historyMaxEvents(32).build());
        final RecordingSubscriber ahead = RecordingSubscriber.manual().subscribe(wire, "u");
        publishToU(20);
        RecordingSubscriber.await(() -> ahead.drain() >= 0 && ahead.events.size() == 20, 5_000, "ahead read 20");
        publishToU(20); // history 9..40; the trims from seq 33 on saw the cursor of the one ahead at 21

        final RecordingSubscriber behind = RecordingSubscriber.manual().resume(wire, "u", ahead.welcomeEpoch, 8);
        publishToU(1); // history 10..41: seq 9, which the resumed one needs next, is gone
        RecordingSubscriber.await(() -> behind.listenerClosedReason == CloseReason.SLOW_CONSUMER, 5_000,
            "the resumed one cut");
        assertEquals(CloseReason.NONE, ahead.listenerClosedReason);
        assertEquals(1, wire.stats().slowConsumerCuts);

        publishToU(20); // history 30..61: the one ahead stopped at 21
        RecordingSubscriber.await(() -> ahead.listenerClosedReason == CloseReason.SLOW_CONSUMER, 5_000,
            "the one ahead cut once history passed it");
        assertEquals(2, wire.stats().slowConsumerCuts);
    }

    private void publishToU(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            assertTrue(wire.publish(draft.reset().toUser("u").type("app.tick").payload("{}")) >= 0);
        }
    }

    @Test
    void shouldNotCutALaggingSubscriberWhileHistoryStillHoldsWhatItHasNotRead()
    {
        final int payload = 16 * 1024;
        wire = AgentWire.start(AgentWireConfig.builder().maxPayloadBytes(payload).historyMaxEvents(1_000).build());
        final RecordingSubscriber behind = RecordingSubscriber.manual().subscribe(wire, "big");
        final byte[] blob = new byte[payload];
        for (int i = 0; i < 500; i++)
        {
            assertTrue(wire.publish(draft.reset().toUser("big").type("app.blob").binary(true)
                .payload(blob, 0, blob.length)) >= 0);
        }
        // 8 MB behind, and nothing is held for it but its cursor: it reads everything when it comes back.
        RecordingSubscriber.await(() ->
        {
            behind.drain();
            return behind.events.size() == 500;
        }, 5_000, "everything read late");
        assertEquals(CloseReason.NONE, behind.subscription.closeReason());
        assertEquals(0, wire.stats().slowConsumerCuts);
    }

    @Test
    void shouldCutASubscriberWhoseUnreadEventsTheLogOverwrote()
    {
        // One slice, a 256 KiB log: the other user's traffic overwrites what the laggard has not read.
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).maxPayloadBytes(16 * 1024)
            .historyMaxTotalBytes(256 * 1024).build());
        final RecordingSubscriber laggard = RecordingSubscriber.manual().subscribe(wire, "laggard");
        final RecordingSubscriber busy = RecordingSubscriber.inline().subscribe(wire, "busy");
        final byte[] kilobytes = new byte[8 * 1024];
        for (int i = 0; i < 10; i++)
        {
            assertTrue(wire.publish(draft.reset().toUser("laggard").type("app.blob").binary(true)
                .payload(kilobytes, 0, kilobytes.length)) >= 0);
        }
        for (int i = 0; i < 200; i++)
        {
            assertTrue(wire.publish(draft.reset().toUser("busy").type("app.blob").binary(true)
                .payload(kilobytes, 0, kilobytes.length)) >= 0);
        }
        RecordingSubscriber.await(() -> laggard.listenerClosedReason == CloseReason.SLOW_CONSUMER, 5_000, "cut");
        RecordingSubscriber.await(() -> busy.events.size() == 200, 5_000, "the busy user got everything");
        assertTrue(wire.stats().historyEvictedEvents >= 10);
        assertTrue(wire.stats().historyBytes <= 256 * 1024, "historyBytes=" + wire.stats().historyBytes);

        final RecordingSubscriber back = RecordingSubscriber.inline().resume(wire, "laggard", laggard.welcomeEpoch, 0);
        back.awaitReplay(5_000);
        assertEquals(Boolean.FALSE, back.recovered, "its events were overwritten");
        assertEquals(11, back.resumedFrom, "history now starts after its last seq");
        assertTrue(back.events.isEmpty());
    }
}
