package dev.agentwire.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void shouldCutASubscriberThatNeverDrainsWhileOthersReceiveEverything()
    {
        final int queueMax = 64;
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(2).historyMaxEvents(32)
            .subscriberQueueMaxEvents(queueMax).build());
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
        assertTrue(stuck.subscription.queuedCount() <= queueMax, "queued=" + stuck.subscription.queuedCount());
        assertEquals(1, wire.stats().slowConsumerCuts);
        assertEquals(100, wire.stats().subscriptions);

        // What it missed is in history: a reconnect resumes from where it stopped reading.
        stuck.drain();
        final long lastSeen = stuck.events.get(stuck.events.size() - 1).seq();
        final RecordingSubscriber back = RecordingSubscriber.inline()
            .resume(wire, "room-user-stuck", stuck.welcomeEpoch, lastSeen);
        RecordingSubscriber.await(() -> back.recovered != null, 5_000, "resumed");
        assertEquals(Boolean.FALSE, back.recovered, "history (32) no longer reaches back to " + lastSeen);
        assertEquals(events - 31, back.resumedFrom);
    }

    @Test
    void shouldCutByBytesBeforeCount()
    {
        final int payload = 16 * 1024;
        wire = AgentWire.start(AgentWireConfig.builder().maxPayloadBytes(payload)
            .subscriberQueueMaxBytes(256 * 1024).build());
        final RecordingSubscriber stuck = RecordingSubscriber.manual().subscribe(wire, "big");
        final byte[] blob = new byte[payload];
        for (int i = 0; i < 100; i++)
        {
            wire.publish(draft.reset().toUser("big").type("app.blob").binary(true).payload(blob, 0, blob.length));
        }
        RecordingSubscriber.await(() -> stuck.listenerClosedReason == CloseReason.SLOW_CONSUMER, 5_000, "cut");
        assertTrue(stuck.subscription.queuedBytes() <= 256 * 1024, "bytes=" + stuck.subscription.queuedBytes());
        assertTrue(stuck.subscription.queuedCount() < 20);
    }
}
