package dev.agentwire.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replica engine (a cluster node) follows numbers assigned by an external sequencer and asks a history source
 * for what it did not see. Here the sequencer and its store are an in-memory model in the test: the engine is
 * real, and the real Redis sequencer is tested over sockets in the server module.
 */
@Timeout(60)
class ReplicaTest
{
    private static final long EPOCH = 7_001;

    private AgentWire wire;
    private final Store store = new Store();
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
    void shouldDeliverNumberedEventsWithTheirNumbersOnlyToTheirRecipients()
    {
        wire = start(2);
        final RecordingSubscriber ann = RecordingSubscriber.inline();
        final RecordingSubscriber bob = RecordingSubscriber.inline();
        store.append("ann", 1);
        store.append("bob", 1);
        ann.subscribe(wire, "ann");
        bob.subscribe(wire, "bob");
        store.answer(wire, 2);
        RecordingSubscriber.await(() -> ann.welcomeSeq == 1 && bob.welcomeSeq == 1, 5_000, "welcomes from store");

        // A room event numbered for both, then one for ann only, then a repeat the node already has.
        wire.publishSequenced(draft.reset().toRoom("team").type("app.note").payload("{}")
            .recipient("ann", EPOCH, 2).recipient("bob", EPOCH, 2));
        wire.publishSequenced(draft.reset().toUser("ann").type("app.note").payload("{}").recipient("ann", EPOCH, 3));
        wire.publishSequenced(draft.reset().toUser("ann").type("app.note").payload("{}").recipient("ann", EPOCH, 3));
        RecordingSubscriber.await(() -> ann.events.size() == 2 && bob.events.size() == 1, 5_000, "numbered events");
        assertEquals(List.of(2L, 3L), ann.seqs());
        assertEquals("team", ann.events.get(0).room());
        assertEquals(List.of(2L), bob.seqs());
        assertEquals(EPOCH, ann.events.get(1).epoch());
    }

    @Test
    void shouldMergeTheStoresHistoryWithWhatArrivedMeanwhileWithNoGapOrDuplicate()
    {
        wire = start(2);
        for (long seq = 1; seq <= 5; seq++)
        {
            store.append("cid", seq);
        }
        final RecordingSubscriber cid = RecordingSubscriber.inline().resume(wire, "cid", EPOCH, 2);
        // While the fetch is out, the log brings 6 and 7 to this node.
        store.append("cid", 6);
        store.append("cid", 7);
        publishFromLog("cid", 6);
        publishFromLog("cid", 7);
        assertTrue(cid.events.isEmpty(), "held back until the backfill: " + cid.seqs());
        store.answer(wire, 1);
        publishFromLog("cid", 8);
        RecordingSubscriber.await(() -> cid.events.size() == 6, 5_000, "3..8");
        assertEquals(List.of(3L, 4L, 5L, 6L, 7L, 8L), cid.seqs());
        assertEquals(Boolean.TRUE, cid.recovered);
        assertEquals(3, cid.resumedFrom);
    }

    @Test
    void shouldWaitForTheLogWhenTheStoreIsAheadOfThisNode()
    {
        wire = start(1);
        publishFromLog("dee", 1);
        // A cursor from another epoch cannot be answered here: the store is asked. It has 1..3, but this node's
        // log tail has only reached 1, so the answer waits for 2 and 3 to arrive in order.
        final RecordingSubscriber dee = RecordingSubscriber.inline().resume(wire, "dee", 1_234, 7);
        store.append("dee", 1);
        store.append("dee", 2);
        store.append("dee", 3);
        store.answer(wire, 1);
        publishFromLog("dee", 2);
        assertTrue(dee.notices.isEmpty() && dee.events.isEmpty(), "nothing before the node caught up");
        publishFromLog("dee", 3);
        publishFromLog("dee", 4);
        RecordingSubscriber.await(() -> dee.events.size() == 4, 5_000, "1..4");
        assertEquals(List.of(1L, 2L, 3L, 4L), dee.seqs());
        assertEquals(Boolean.FALSE, dee.recovered);
        assertEquals(1, dee.resumedFrom);
    }

    @Test
    void shouldTellALiveClientToResumeWhenTheStoresEpochChanges()
    {
        wire = start(1);
        publishFromLog("eve", 1);
        final RecordingSubscriber eve = RecordingSubscriber.inline().subscribe(wire, "eve");
        RecordingSubscriber.await(() -> eve.welcomeSeq == 1, 5_000, "welcome from what the node saw");
        assertTrue(store.requests.isEmpty(), "a known stream needs no fetch");

        // The store restarted empty: the next event has a new epoch and starts again at 1.
        wire.publishSequenced(draft.reset().toUser("eve").type("app.note").payload("{}").recipient("eve", 9_999, 1));
        RecordingSubscriber.await(() -> eve.queueClosedReason == CloseReason.RESUME_REQUIRED, 5_000, "told to resume");
        assertTrue(eve.events.isEmpty());

        final RecordingSubscriber again = RecordingSubscriber.inline().resume(wire, "eve", EPOCH, 1);
        store.restartEmpty("eve", 9_999, 1);
        store.answer(wire, 1);
        again.awaitReplay(5_000);
        assertFalse(again.recovered, "a different epoch is never recovered");
        assertEquals(List.of(1L), again.seqs());
        assertEquals(9_999, again.events.get(0).epoch());
    }

    @Test
    void shouldAskTheStoreEvenForAKnownStreamWhileTheFeedIsNotCurrent()
    {
        wire = start(1);
        publishFromLog("hal", 1);
        store.current = false;
        // The store came back without its data while this node's feed was failing: hal is at a new epoch there.
        store.restartEmpty("hal", 4_242, 1);
        final RecordingSubscriber hal = RecordingSubscriber.inline().resume(wire, "hal", EPOCH, 1);
        store.answer(wire, 1);
        hal.awaitReplay(5_000);
        assertEquals(4_242, hal.welcomeEpoch, "the store's epoch, not the stale local one");
        assertFalse(hal.recovered);
        assertEquals(List.of(1L), hal.seqs());
    }

    @Test
    void shouldTellALiveClientToResumeWhenNumberedEventsWereMissed()
    {
        wire = start(1);
        publishFromLog("fay", 1);
        final RecordingSubscriber fay = RecordingSubscriber.inline().subscribe(wire, "fay");
        RecordingSubscriber.await(() -> fay.welcomeSeq == 1, 5_000, "welcome");
        publishFromLog("fay", 4);
        RecordingSubscriber.await(() -> fay.queueClosedReason == CloseReason.RESUME_REQUIRED, 5_000, "told to resume");
        assertTrue(fay.events.isEmpty(), "never 4 after 1: " + fay.seqs());
        assertEquals(1, wire.stats().streamResets);
    }

    @Test
    void shouldTakeARestartingAnswerOverWhatThisNodeHeldOfAStreamItStoppedFollowing()
    {
        wire = start(1);
        publishFromLog("ida", 1);
        // This node stopped following ida (her last connection left; the store now says her stream is not current
        // here and answers restarting); the store went on to 3 meanwhile.
        store.append("ida", 1);
        store.append("ida", 2);
        store.append("ida", 3);
        store.restarting = true;
        final RecordingSubscriber ida = RecordingSubscriber.inline().resume(wire, "ida", EPOCH, 1);
        store.answer(wire, 1);
        // Without the restart the slice would wait for a feed that will never bring 2 and 3.
        RecordingSubscriber.await(() -> ida.events.size() == 2, 5_000, "2 and 3 from the store");
        assertEquals(List.of(2L, 3L), ida.seqs());
        assertEquals(Boolean.TRUE, ida.recovered);
        publishFromLog("ida", 4);
        RecordingSubscriber.await(() -> ida.events.size() == 3, 5_000, "then live");
        assertEquals(List.of(2L, 3L, 4L), ida.seqs());
    }

    @Test
    void shouldRestartOnlyAStreamHeldBehindTheHeadTheStoreConfirms()
    {
        wire = start(1);
        publishFromLog("jo", 1);
        publishFromLog("kim", 1);
        publishFromLog("kim", 2);
        final RecordingSubscriber jo = RecordingSubscriber.inline().subscribe(wire, "jo");
        final RecordingSubscriber kim = RecordingSubscriber.inline().subscribe(wire, "kim");
        RecordingSubscriber.await(() -> jo.welcomeSeq == 1 && kim.welcomeSeq == 2, 5_000, "welcomes");
        // The feed was cut: the store says jo is at 3 (this node missed 2 and 3) and kim at 2 (nothing missed).
        assertTrue(wire.confirmHead("jo", EPOCH, 3) >= 0);
        assertTrue(wire.confirmHead("kim", EPOCH, 2) >= 0);
        RecordingSubscriber.await(() -> jo.queueClosedReason == CloseReason.RESUME_REQUIRED, 5_000, "jo resumes");
        publishFromLog("kim", 3);
        RecordingSubscriber.await(() -> kim.events.size() == 1, 5_000, "kim carries on");
        assertEquals(List.of(3L), kim.seqs());
        assertEquals(CloseReason.NONE, kim.queueClosedReason, "kim was never cut");
        assertEquals(PublishStatus.INVALID_ARGUMENT, wire.confirmHead("", EPOCH, 1));
    }

    @Test
    void shouldKeepWaitingSubscriptionsOutOfLiveDeliveryAndRefuseLocalNumbering()
    {
        wire = start(1);
        final RecordingSubscriber gus = RecordingSubscriber.inline().resume(wire, "gus", 0, 0);
        publishFromLog("gus", 1);
        assertTrue(gus.events.isEmpty());
        assertThrows(IllegalStateException.class,
            () -> wire.publish(draft.reset().toUser("gus").type("app.note").payload("{}")));
        store.answer(wire, 1);
        gus.subscription.close();
        final RecordingSubscriber later = RecordingSubscriber.inline().subscribe(wire, "gus");
        RecordingSubscriber.await(() -> later.welcomeSeq == 1, 5_000, "the node knows gus now");
        RecordingSubscriber.await(() -> wire.stats().subscriptions == 1, 5_000, "only the later subscription");
        assertEquals(1, wire.stats().backfillsRequested);
    }

    @Test
    void shouldDrainTheStoresAnswerAsFramesToATransport()
    {
        // A transport drains frames (the server's path): the store's events come first, then what the log brought.
        wire = start(1);
        for (long seq = 1; seq <= 5; seq++)
        {
            store.append("ivy", seq);
        }
        final java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        final org.agrona.concurrent.UnsafeBuffer socket = new org.agrona.concurrent.UnsafeBuffer(new byte[4096]);
        final FrameSink sink = new FrameSink()
        {
            @Override
            public int onWelcome(final org.agrona.MutableDirectBuffer dst, final int offset, final int capacity,
                final String userId, final long epoch, final long lastSeq)
            {
                seen.add("welcome:" + lastSeq);
                return 0;
            }

            @Override
            public int onResumed(final org.agrona.MutableDirectBuffer dst, final int offset, final int capacity,
                final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
            {
                seen.add("resumed:" + recovered + ":" + fromSeq + ".." + toSeq);
                return 0;
            }

            @Override
            public int onJoined(final org.agrona.MutableDirectBuffer dst, final int offset, final int capacity,
                final String room)
            {
                return 0;
            }

            @Override
            public int onLeft(final org.agrona.MutableDirectBuffer dst, final int offset, final int capacity,
                final String room)
            {
                return 0;
            }

            @Override
            public void onFrame(final long publishNs)
            {
                seen.add("frame");
            }

            @Override
            public void onClosed(final int reason)
            {
                seen.add("closed");
            }
        };
        final Subscription ivy = wire.subscribe("ivy", new SubscriberListener()
        {
            @Override
            public void onAvailable(final Subscription subscription)
            {
            }

            @Override
            public void onClosed(final Subscription subscription, final int reason)
            {
            }
        }, 0, 0);
        store.answer(wire, 1);
        RecordingSubscriber.await(() ->
        {
            ivy.drainTo(socket, 0, socket.capacity(), sink);
            return seen.size() >= 7;
        }, 5_000, "welcome, resumed and five frames: " + seen);
        assertEquals(List.of("welcome:5", "resumed:true:1..5", "frame", "frame", "frame", "frame", "frame"), seen);
        publishFromLog("ivy", 6);
        RecordingSubscriber.await(() ->
        {
            ivy.drainTo(socket, 0, socket.capacity(), sink);
            return seen.size() == 8;
        }, 5_000, "the live event after the store's");
    }

    private AgentWire start(final int slices)
    {
        return AgentWire.start(AgentWireConfig.builder().sliceCount(slices).historySource(store).build());
    }

    private void publishFromLog(final String user, final long seq)
    {
        final long position = wire.publishSequenced(
            draft.reset().toUser(user).type("app.note").payload("{\"n\":" + seq + "}").recipient(user, EPOCH, seq));
        assertTrue(position >= 0, "position " + position);
    }

    /** The sequencer's store, in memory: each user's numbered events, answered when the test says. */
    private static final class Store implements HistorySource
    {
        final ConcurrentLinkedQueue<Object[]> requests = new ConcurrentLinkedQueue<>();
        volatile boolean current = true;
        /** The feed does not carry the streams (a node that stopped following them): answers replace stale views. */
        volatile boolean restarting;
        private final Map<String, List<Long>> streams = new HashMap<>();
        private final Map<String, Long> epochs = new HashMap<>();

        synchronized void append(final String user, final long seq)
        {
            streams.computeIfAbsent(user, u -> new ArrayList<>()).add(seq);
        }

        synchronized void restartEmpty(final String user, final long epoch, final long seq)
        {
            streams.put(user, new ArrayList<>(List.of(seq)));
            epochs.put(user, epoch);
        }

        @Override
        public boolean isCurrent()
        {
            return current;
        }

        @Override
        public boolean isCurrent(final String userId)
        {
            return current && !restarting;
        }

        @Override
        public void fetch(final Subscription subscription, final long epoch, final long afterSeq)
        {
            requests.add(new Object[]{subscription, epoch, afterSeq});
        }

        /** Waits until the slices asked for {@code expected} fetches, then answers them. */
        void answer(final AgentWire wire, final int expected)
        {
            RecordingSubscriber.await(() -> requests.size() >= expected, 5_000, expected + " fetches");
            answerAll(wire);
        }

        synchronized void answerAll(final AgentWire wire)
        {
            Object[] request;
            while ((request = requests.poll()) != null)
            {
                final Subscription subscription = (Subscription)request[0];
                final long clientEpoch = (long)request[1];
                final long after = (long)request[2];
                final List<Long> seqs = streams.getOrDefault(subscription.userId(), List.of());
                final long last = seqs.isEmpty() ? 0 : seqs.get(seqs.size() - 1);
                final long first = seqs.isEmpty() ? last + 1 : seqs.get(0);
                final long epoch = epochs.getOrDefault(subscription.userId(), EPOCH);
                final Backfill backfill = new Backfill(subscription.userId(), epoch, first, last);
                if (after != Subscription.LIVE)
                {
                    final boolean covered = clientEpoch == epoch && after >= first - 1 && after <= last;
                    final EventDraft d = new EventDraft();
                    for (final long seq : seqs)
                    {
                        if (!covered || seq > after)
                        {
                            backfill.add(d.reset().toUser(subscription.userId()).type("app.note")
                                .payload("{\"n\":" + seq + "}"), seq);
                        }
                    }
                }
                wire.backfill(subscription, restarting ? backfill.restarting() : backfill);
            }
        }
    }
}
