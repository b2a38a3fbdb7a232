package dev.agentwire.core;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class AgentWireTest
{
    private AgentWire wire;
    private final EventDraft draft = new EventDraft();

    private AgentWire start(final AgentWireConfig.Builder builder)
    {
        wire = AgentWire.start(builder.build());
        return wire;
    }

    @AfterEach
    void tearDown()
    {
        if (wire != null)
        {
            wire.close();
        }
    }

    @Test
    void shouldDeliverACompleteRunInOrderOnlyToItsUser()
    {
        start(AgentWireConfig.builder().sliceCount(2));
        final RecordingSubscriber alice = RecordingSubscriber.inline().subscribe(wire, "alice");
        final RecordingSubscriber bob = RecordingSubscriber.inline().subscribe(wire, "bob");

        assertTrue(Drafts.fullRun(wire, draft, "alice", "run-a") >= 0);
        assertTrue(Drafts.fullRun(wire, draft, "bob", "run-b") >= 0);

        RecordingSubscriber.await(() -> alice.events.size() == 5 && bob.events.size() == 5, 5_000, "both runs");
        assertEquals(List.of(EventTypes.AGENT_STARTED, EventTypes.AGENT_THINKING, EventTypes.TOOL_EXECUTING,
            EventTypes.TOOL_COMPLETED, EventTypes.AGENT_COMPLETED), alice.types());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), alice.seqs());
        for (final AgentEvent e : alice.events)
        {
            assertEquals("alice", e.userId());
            assertEquals("run-a", e.runId());
            assertEquals(alice.welcomeEpoch, e.epoch());
        }
        for (final AgentEvent e : bob.events)
        {
            assertEquals("run-b", e.runId());
        }
        assertEquals("t-run-a", alice.events.get(0).threadId());
        assertEquals("{\"agent\":\"helper\"}", alice.events.get(0).payloadAsString());
        assertEquals(0, alice.welcomeSeq);
    }

    @Test
    void shouldDeliverToEveryConnectionOfAUser()
    {
        start(AgentWireConfig.builder());
        final RecordingSubscriber phone = RecordingSubscriber.inline().subscribe(wire, "carol");
        final RecordingSubscriber laptop = RecordingSubscriber.inline().subscribe(wire, "carol");

        Drafts.fullRun(wire, draft, "carol", "r1");

        RecordingSubscriber.await(() -> phone.events.size() == 5 && laptop.events.size() == 5, 5_000, "devices");
        assertEquals(phone.seqs(), laptop.seqs());
    }

    @Test
    void shouldReturnStatusesForRefusedPublishes()
    {
        start(AgentWireConfig.builder());
        assertEquals(PublishStatus.INVALID_ARGUMENT, wire.publish(draft.reset().type(EventTypes.AGENT_STARTED)));
        assertEquals(PublishStatus.INVALID_ARGUMENT,
            wire.publish(draft.reset().toUser("u").type("nonsense").runId("r")));
        assertEquals(PublishStatus.INVALID_ARGUMENT,
            wire.publish(draft.reset().toUser("u").type(EventTypes.AGENT_STARTED)));
        assertEquals(PublishStatus.INVALID_ARGUMENT,
            wire.publish(draft.reset().toUser("u").type(EventTypes.TOOL_EXECUTING).runId("r")));
        assertEquals(PublishStatus.INVALID_ARGUMENT,
            wire.publish(draft.reset().toUser("").type("app.note")));
        assertEquals(PublishStatus.INVALID_ARGUMENT,
            wire.publish(draft.reset().toUser("u").type("app.note").payload(new byte[2 << 20], 0, 2 << 20)));
        assertEquals("invalid_argument", PublishStatus.name(PublishStatus.INVALID_ARGUMENT));

        // check() applies the same rules without publishing.
        assertEquals(PublishStatus.INVALID_ARGUMENT,
            wire.check(draft.reset().toUser("u").type(EventTypes.TOOL_EXECUTING).runId("r")));
        assertEquals(0, wire.check(draft.reset().toUser("u").type("app.note").payload("{}")));
        assertEquals(0, wire.stats().eventsSequenced, "check() published nothing");
    }

    @Test
    void shouldDropARepeatedEventIdWithinTheWindow()
    {
        start(AgentWireConfig.builder());
        final RecordingSubscriber dave = RecordingSubscriber.inline().subscribe(wire, "dave");
        final long first = wire.publish(Drafts.started(draft, "dave", "r1").eventId("ev-1"));
        final long again = wire.publish(Drafts.started(draft, "dave", "r1").eventId("ev-1"));
        final long next = wire.publish(Drafts.thinking(draft, "dave", "r1", "x").eventId("ev-2"));

        assertTrue(first >= 0);
        assertEquals(PublishStatus.DUPLICATE, again);
        assertTrue(next > first);
        RecordingSubscriber.await(() -> dave.events.size() == 2, 5_000, "two events");
        assertEquals(List.of(EventTypes.AGENT_STARTED, EventTypes.AGENT_THINKING), dave.types());
    }

    @Test
    void shouldForgetAnEventIdAfterTheWindow()
    {
        final ManualClock clock = new ManualClock(1_000_000);
        start(AgentWireConfig.builder().clock(clock).dedupWindowMs(1_000));
        assertTrue(wire.publish(Drafts.custom(draft, "erin", "{}").eventId("same")) >= 0);
        assertEquals(PublishStatus.DUPLICATE, wire.publish(Drafts.custom(draft, "erin", "{}").eventId("same")));
        clock.advance(1_001);
        assertTrue(wire.publish(Drafts.custom(draft, "erin", "{}").eventId("same")) >= 0);
    }

    @Test
    void shouldDeliverEverythingAcceptedBeforeCloseThenRefuse()
    {
        start(AgentWireConfig.builder().sliceCount(2));
        final RecordingSubscriber frank = RecordingSubscriber.manual().subscribe(wire, "frank");
        for (int i = 0; i < 1_000; i++)
        {
            assertTrue(wire.publish(Drafts.custom(draft, "frank", "{\"i\":" + i + "}")) >= 0);
        }
        wire.close();

        assertTrue(wire.isTerminated());
        assertFalse(wire.isRunning());
        assertEquals(PublishStatus.CLOSED, wire.publish(Drafts.custom(draft, "frank", "{}")));
        assertEquals(PublishStatus.CLOSED, wire.tryPublish(Drafts.custom(draft, "frank", "{}")));
        frank.drain();
        assertEquals(1_000, frank.events.size());
        assertEquals(1_000L, frank.events.get(999).seq());
        assertEquals(CloseReason.SHUTDOWN, frank.queueClosedReason);
        assertEquals("closed:shutdown", frank.notices.get(frank.notices.size() - 1));

        final RecordingSubscriber late = RecordingSubscriber.manual().subscribe(wire, "late");
        late.drain();
        assertEquals(CloseReason.SHUTDOWN, late.queueClosedReason);
    }

    @Test
    void shouldFanRoomEventsToMembersWithASeqInEachStream()
    {
        start(AgentWireConfig.builder().sliceCount(3));
        final RecordingSubscriber[] members = new RecordingSubscriber[6];
        for (int i = 0; i < members.length; i++)
        {
            members[i] = RecordingSubscriber.inline().subscribe(wire, "member-" + i);
            assertTrue(wire.publish(Drafts.custom(draft, "member-" + i, "{\"private\":" + i + "}")) >= 0);
            if (i < 4)
            {
                assertTrue(wire.join("member-" + i, "room-1") >= 0);
            }
        }
        assertTrue(wire.publish(draft.reset().toRoom("room-1").type("app.note").payload("{\"hello\":1}")) >= 0);

        for (int i = 0; i < members.length; i++)
        {
            final RecordingSubscriber m = members[i];
            if (i < 4)
            {
                RecordingSubscriber.await(() -> m.events.size() == 2, 5_000, "room event");
                assertEquals(List.of(1L, 2L), m.seqs());
                assertEquals("room-1", m.events.get(1).room());
                assertTrue(m.notices.contains("joined:room-1"));
            }
        }
        assertEquals(1, members[4].events.size());
        assertEquals(1, members[5].events.size());
    }

    @Test
    void shouldKeepRoomMembershipAcrossReconnectsAndCoverRoomEventsInResume()
    {
        start(AgentWireConfig.builder().sliceCount(2));
        final RecordingSubscriber first = RecordingSubscriber.inline().subscribe(wire, "gina");
        assertTrue(wire.join("gina", "team") >= 0);
        RecordingSubscriber.await(() -> first.notices.contains("joined:team"), 5_000, "joined");
        first.subscription.close();
        RecordingSubscriber.await(() -> first.subscription.isClosed(), 5_000, "closed");

        wire.publish(draft.reset().toRoom("team").type("app.note").payload("{\"while\":\"away\"}"));
        final RecordingSubscriber second = RecordingSubscriber.inline().resume(wire, "gina", first.welcomeEpoch, 0);

        RecordingSubscriber.await(() -> second.events.size() == 1, 5_000, "room event replayed");
        assertEquals("team", second.events.get(0).room());
        assertEquals(Boolean.TRUE, second.recovered);
    }

    @Test
    void shouldLeaveARoom()
    {
        start(AgentWireConfig.builder());
        final RecordingSubscriber hal = RecordingSubscriber.inline().subscribe(wire, "hal");
        wire.join("hal", "r");
        wire.leave("hal", "r");
        wire.publish(draft.reset().toRoom("r").type("app.note").payload("{}"));
        wire.publish(Drafts.custom(draft, "hal", "{\"direct\":true}"));
        RecordingSubscriber.await(() -> hal.events.size() == 1, 5_000, "direct event");
        assertNull(hal.events.get(0).room());
        assertEquals(List.of("welcome", "joined:r", "left:r"), hal.notices);
        assertEquals(PublishStatus.INVALID_ARGUMENT, wire.join("hal", ""));
    }

    @Test
    void shouldBroadcastToConnectedUsersOnly()
    {
        start(AgentWireConfig.builder().sliceCount(2));
        final RecordingSubscriber on1 = RecordingSubscriber.inline().subscribe(wire, "on-1");
        final RecordingSubscriber on2 = RecordingSubscriber.inline().subscribe(wire, "on-2");
        final RecordingSubscriber off = RecordingSubscriber.inline().subscribe(wire, "off");
        off.subscription.close();
        RecordingSubscriber.await(() -> off.subscription.isClosed(), 5_000, "closed");

        assertTrue(wire.publish(draft.reset().toBroadcast().type("app.maintenance").payload("{}")) >= 0);
        RecordingSubscriber.await(() -> on1.events.size() == 1 && on2.events.size() == 1, 5_000, "broadcast");
        assertTrue(on1.events.get(0).isBroadcast());

        final RecordingSubscriber back = RecordingSubscriber.inline().resume(wire, "off", off.welcomeEpoch, 0);
        back.awaitReplay(5_000);
        assertEquals(0, back.events.size());
    }

    @Test
    void shouldTellPresenceOfFirstAndLastConnection()
    {
        start(AgentWireConfig.builder());
        final List<String> presence = new CopyOnWriteArrayList<>();
        wire.presenceListener(new PresenceListener()
        {
            @Override
            public void onFirstConnected(final String userId)
            {
                presence.add("up:" + userId);
            }

            @Override
            public void onLastDisconnected(final String userId)
            {
                presence.add("down:" + userId);
            }
        });
        final RecordingSubscriber a = RecordingSubscriber.inline().subscribe(wire, "ivy");
        final RecordingSubscriber b = RecordingSubscriber.inline().subscribe(wire, "ivy");
        a.subscription.close();
        b.subscription.close();
        RecordingSubscriber.await(() -> presence.size() == 2, 5_000, "presence");
        assertEquals(List.of("up:ivy", "down:ivy"), presence);
    }

    @Test
    void shouldFreeTheStateOfAbsentUsersAfterRetentionAndStartANewEpoch()
    {
        final ManualClock clock = new ManualClock(5_000_000);
        start(AgentWireConfig.builder().clock(clock).userRetentionMs(10_000).tickIntervalMs(5));
        final RecordingSubscriber kim = RecordingSubscriber.inline().subscribe(wire, "kim");
        wire.join("kim", "room");
        wire.publish(Drafts.custom(draft, "kim", "{}"));
        RecordingSubscriber.await(() -> kim.events.size() == 1, 5_000, "event");
        kim.subscription.close();
        RecordingSubscriber.await(() -> wire.stats().subscriptions == 0, 5_000, "unsubscribed");

        clock.advance(10_001);
        // The count of users freed moves when the user goes; the gauges when the slice's slot is done: await all.
        RecordingSubscriber.await(() ->
        {
            final AgentWireStats stats = wire.stats();
            return stats.usersFreed == 1 && stats.users == 0 && stats.historyBytes == 0;
        }, 5_000, "freed");
        assertEquals(1, wire.stats().usersFreed);
        assertEquals(0, wire.stats().users);
        assertEquals(0, wire.stats().historyBytes);

        final RecordingSubscriber again = RecordingSubscriber.inline().resume(wire, "kim", kim.welcomeEpoch, 1);
        RecordingSubscriber.await(() -> again.recovered != null, 5_000, "resumed");
        assertEquals(Boolean.FALSE, again.recovered);
        assertTrue(again.welcomeEpoch != kim.welcomeEpoch);
        wire.publish(draft.reset().toRoom("room").type("app.note").payload("{}"));
        wire.publish(Drafts.custom(draft, "kim", "{}"));
        RecordingSubscriber.await(() -> again.events.size() == 1, 5_000, "only the direct event");
        assertEquals(1L, again.events.get(0).seq());
    }

    @Test
    void shouldReportEachRecipientsSeqThroughAReceipt() throws Exception
    {
        start(AgentWireConfig.builder().sliceCount(3));
        final List<String> sequenced = new CopyOnWriteArrayList<>();
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(2);
        final PublishReceipt receipt = new PublishReceipt()
        {
            @Override
            public void onSequenced(final String userId, final long epoch, final long seq)
            {
                sequenced.add(userId + "#" + seq);
            }

            @Override
            public void onComplete()
            {
                done.countDown();
            }
        };
        for (int i = 0; i < 5; i++)
        {
            wire.join("r-" + i, "ops");
        }
        wire.publish(Drafts.custom(draft, "r-0", "{}"));
        assertTrue(wire.publish(Drafts.custom(draft, "r-0", "{}").receipt(receipt)) >= 0);
        assertTrue(wire.publish(draft.reset().toRoom("ops").type("app.note").payload("{}").receipt(receipt)) >= 0);

        assertTrue(done.await(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(6, sequenced.size());
        assertTrue(sequenced.contains("r-0#2"));
        assertTrue(sequenced.contains("r-0#3"));
        assertTrue(sequenced.contains("r-4#1"));
    }

    @Test
    void shouldLetGoOfAnEventsObjectsOnceEverySliceHasReadIt() throws Exception
    {
        start(AgentWireConfig.builder().sliceCount(3).ringSize(1 << 16));
        wire.join("m-0", "ops");
        wire.join("m-1", "ops");
        final CountDownLatch done = new CountDownLatch(2);
        final List<WeakReference<Object>> published = new ArrayList<>();
        publishWithReceipt(draft.reset().toUser("u-0").type("app.note").payload("{}"), done, published);
        publishWithReceipt(draft.reset().toRoom("ops").type("app.note").payload("{}"), done, published);
        draft.reset();
        assertTrue(done.await(5, TimeUnit.SECONDS), "both events sequenced");

        // The ring has 65,536 slots and two are used: before, each slot held its event's receipt and strings until
        // the ring came round to it again.
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (published.stream().anyMatch(ref -> ref.get() != null) && System.nanoTime() < deadlineNs)
        {
            System.gc();
            Thread.sleep(20);
        }
        for (final WeakReference<Object> ref : published)
        {
            assertNull(ref.get(), "still reachable after its event was read: " + ref.get());
        }
    }

    @Test
    void shouldLetGoOfAClosedSubscriptionOnceItsCommandsAreHandled() throws Exception
    {
        start(AgentWireConfig.builder().sliceCount(2).ringSize(1 << 16));
        final WeakReference<RecordingSubscriber> closed = subscribeAndClose("quiet");
        // The subscribe and unsubscribe commands took two of 65,536 slots; before, each held the subscription (and
        // its listener: a connection, in the server) until the ring came round to it.
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (closed.get() != null && System.nanoTime() < deadlineNs)
        {
            System.gc();
            Thread.sleep(20);
        }
        assertNull(closed.get(), "a closed subscription's listener is still reachable");
    }

    private WeakReference<RecordingSubscriber> subscribeAndClose(final String user)
    {
        final RecordingSubscriber subscriber = RecordingSubscriber.inline().subscribe(wire, user);
        subscriber.subscription.close();
        return new WeakReference<>(subscriber);
    }

    /** Publishes with a receipt and a thread id of their own, and keeps only weak references to both. */
    private void publishWithReceipt(
        final EventDraft event, final CountDownLatch done, final List<WeakReference<Object>> refs)
    {
        final PublishReceipt receipt = new PublishReceipt()
        {
            @Override
            public void onSequenced(final String userId, final long epoch, final long seq)
            {
            }

            @Override
            public void onComplete()
            {
                done.countDown();
            }
        };
        final String threadId = new String(new char[] {'t', '-', (char)('0' + refs.size())});
        refs.add(new WeakReference<>(receipt));
        refs.add(new WeakReference<>(threadId));
        assertTrue(wire.publish(event.threadId(threadId).receipt(receipt)) >= 0);
    }
}
