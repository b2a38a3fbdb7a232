package dev.agentwire.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class ResumeTest
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
    void shouldResumeWithNoGapAndNoDuplicateWhilePublishingContinues() throws Exception
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(2).historyMaxEvents(100_000).build());
        final AtomicBoolean run = new AtomicBoolean(true);
        final AtomicLong published = new AtomicLong();
        final Thread producer = new Thread(() ->
        {
            final EventDraft d = new EventDraft();
            // Publishes until the reconnects below are done (bounded in count and time), paced at roughly ten
            // to twenty thousand a second: fast enough that every reconnect happens mid-stream, slow enough that
            // the count bound is never what ends it (a faster pace once spent it before the last reconnect).
            final long deadlineNs = System.nanoTime() + 40_000_000_000L;
            while (run.get() && published.get() < 1_000_000 && System.nanoTime() < deadlineNs)
            {
                if (wire.publish(Drafts.custom(d, "lee", "{}")) >= 0)
                {
                    published.incrementAndGet();
                }
                java.util.concurrent.locks.LockSupport.parkNanos(50_000);
            }
        }, "producer");
        producer.start();
        try
        {
            // Connect, read a while, drop the connection, reconnect from the last seen seq: many times over.
            final List<Long> seen = new ArrayList<>();
            long epoch = 0;
            long last = 0;
            for (int reconnect = 0; reconnect < 20; reconnect++)
            {
                final RecordingSubscriber connection = RecordingSubscriber.manual();
                connection.resume(wire, "lee", epoch, last);
                RecordingSubscriber.await(() ->
                {
                    connection.drain();
                    return connection.recovered != null && connection.events.size() >= 200;
                }, 30_000, "events on connection " + reconnect);
                connection.subscription.close();
                assertEquals(Boolean.TRUE, connection.recovered, "recovered on reconnect " + reconnect);
                assertEquals(last + 1, connection.resumedFrom);
                epoch = connection.welcomeEpoch;
                for (final AgentEvent e : connection.events)
                {
                    seen.add(e.seq());
                }
                last = seen.get(seen.size() - 1);
            }
            assertTrue(run.get() && producer.isAlive(), "publishing overlapped every reconnect");
            for (int i = 0; i < seen.size(); i++)
            {
                assertEquals(i + 1L, seen.get(i), "contiguous seqs, no gap and no duplicate");
            }
        }
        finally
        {
            run.set(false);
            producer.join(10_000);
        }
    }

    @Test
    void shouldAnswerTheResumeBeforeReplayingEvenToAReaderThatDrainsAtEverySignal()
    {
        // An inline reader drains at every signal, on the slice's thread: between the welcome and the resumed
        // answer too. It must still get the answer before the replayed events.
        wire = AgentWire.start(AgentWireConfig.builder().build());
        final RecordingSubscriber first = RecordingSubscriber.inline().subscribe(wire, "ray");
        for (int i = 0; i < 3; i++)
        {
            wire.publish(Drafts.custom(draft, "ray", "{}"));
        }
        RecordingSubscriber.await(() -> first.events.size() == 3, 5_000, "events");
        final RecordingSubscriber back = RecordingSubscriber.inline().resume(wire, "ray", first.welcomeEpoch, 0);
        back.awaitReplay(5_000);
        assertEquals(List.of("welcome", "resumed", "event:1", "event:2", "event:3"), back.order);
    }

    @Test
    void shouldResumeANewUserWithZeroPriorEvents()
    {
        wire = AgentWire.start(AgentWireConfig.builder().build());
        final RecordingSubscriber fresh = RecordingSubscriber.inline().resume(wire, "new-user", 0, 0);
        RecordingSubscriber.await(() -> fresh.recovered != null, 5_000, "resumed");
        assertEquals(Boolean.TRUE, fresh.recovered);
        assertEquals(1, fresh.resumedFrom);
        assertEquals(0, fresh.resumedTo);
        assertEquals(0, fresh.welcomeSeq);
        assertEquals(List.of("welcome", "resumed"), fresh.notices);

        Drafts.fullRun(wire, draft, "new-user", "r1");
        RecordingSubscriber.await(() -> fresh.events.size() == 5, 5_000, "live after resume");
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), fresh.seqs());
    }

    @Test
    void shouldReplayEverythingToAClientThatSawNothingYet()
    {
        wire = AgentWire.start(AgentWireConfig.builder().build());
        Drafts.fullRun(wire, draft, "mia", "r1");
        final RecordingSubscriber first = RecordingSubscriber.inline().resume(wire, "mia", 0, 0);
        RecordingSubscriber.await(() -> first.events.size() == 5, 5_000, "full replay");
        assertEquals(Boolean.TRUE, first.recovered);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), first.seqs());
    }

    @Test
    void shouldSayNotRecoveredWhenTheEpochDiffers()
    {
        wire = AgentWire.start(AgentWireConfig.builder().build());
        final RecordingSubscriber s = RecordingSubscriber.inline().subscribe(wire, "ned");
        Drafts.fullRun(wire, draft, "ned", "r1");
        RecordingSubscriber.await(() -> s.events.size() == 5, 5_000, "events");

        final RecordingSubscriber stale = RecordingSubscriber.inline().resume(wire, "ned", s.welcomeEpoch + 1, 3);
        RecordingSubscriber.await(() -> stale.recovered != null, 5_000, "resumed");
        assertEquals(Boolean.FALSE, stale.recovered);
        assertEquals(1, stale.resumedFrom);
        assertEquals(5, stale.resumedTo);
        RecordingSubscriber.await(() -> stale.events.size() == 5, 5_000, "available history replayed");
    }

    @Test
    void shouldSayNotRecoveredWhenTheEpochChangedAcrossARestart()
    {
        wire = AgentWire.start(AgentWireConfig.builder().build());
        final RecordingSubscriber before = RecordingSubscriber.inline().subscribe(wire, "oli");
        Drafts.fullRun(wire, draft, "oli", "r1");
        RecordingSubscriber.await(() -> before.events.size() == 5, 5_000, "events");
        wire.close();

        wire = AgentWire.start(AgentWireConfig.builder().build());
        final RecordingSubscriber after = RecordingSubscriber.inline().resume(wire, "oli", before.welcomeEpoch, 5);
        RecordingSubscriber.await(() -> after.recovered != null, 5_000, "resumed");
        assertEquals(Boolean.FALSE, after.recovered);
        assertNotEquals(before.welcomeEpoch, after.welcomeEpoch);
    }

    @Test
    void shouldSayNotRecoveredWhenHistoryWasTrimmedByCount()
    {
        wire = AgentWire.start(AgentWireConfig.builder().historyMaxEvents(10).build());
        final RecordingSubscriber s = RecordingSubscriber.inline().subscribe(wire, "pat");
        for (int i = 0; i < 25; i++)
        {
            wire.publish(Drafts.custom(draft, "pat", "{}"));
        }
        RecordingSubscriber.await(() -> s.events.size() == 25, 5_000, "events");

        final RecordingSubscriber behind = RecordingSubscriber.inline().resume(wire, "pat", s.welcomeEpoch, 5);
        RecordingSubscriber.await(() -> behind.events.size() == 10, 5_000, "kept history");
        assertEquals(Boolean.FALSE, behind.recovered);
        assertEquals(16, behind.resumedFrom, "history now starts at 16");
        assertEquals(25, behind.resumedTo);
        assertEquals(16L, behind.events.get(0).seq());

        final RecordingSubscriber justInside = RecordingSubscriber.inline().resume(wire, "pat", s.welcomeEpoch, 15);
        RecordingSubscriber.await(() -> justInside.events.size() == 10, 5_000, "exact replay");
        assertEquals(Boolean.TRUE, justInside.recovered);
    }

    @Test
    void shouldSayNotRecoveredWhenHistoryWasTrimmedByAge()
    {
        final ManualClock clock = new ManualClock(10_000_000);
        wire = AgentWire.start(AgentWireConfig.builder().clock(clock).historyMaxAgeMs(60_000).build());
        final RecordingSubscriber s = RecordingSubscriber.inline().subscribe(wire, "quinn");
        for (int i = 0; i < 3; i++)
        {
            wire.publish(Drafts.custom(draft, "quinn", "{}"));
        }
        RecordingSubscriber.await(() -> s.events.size() == 3, 5_000, "old events");
        clock.advance(61_000);
        wire.publish(Drafts.custom(draft, "quinn", "{}"));
        RecordingSubscriber.await(() -> s.events.size() == 4, 5_000, "new event");

        final RecordingSubscriber late = RecordingSubscriber.inline().resume(wire, "quinn", s.welcomeEpoch, 1);
        RecordingSubscriber.await(() -> late.recovered != null && late.events.size() == 1, 5_000, "resumed");
        assertEquals(Boolean.FALSE, late.recovered);
        assertEquals(4, late.resumedFrom);

        final RecordingSubscriber current = RecordingSubscriber.inline().resume(wire, "quinn", s.welcomeEpoch, 3);
        RecordingSubscriber.await(() -> current.recovered != null, 5_000, "resumed");
        assertEquals(Boolean.TRUE, current.recovered);
    }

    @Test
    void shouldAgeOutByEachEventsOwnTimeAfterTheCountBoundDroppedTheOldest()
    {
        final ManualClock clock = new ManualClock(10_000_000);
        wire = AgentWire.start(AgentWireConfig.builder().clock(clock).historyMaxEvents(3).historyMaxAgeMs(1_000)
            .build());
        final RecordingSubscriber s = RecordingSubscriber.inline().subscribe(wire, "rory");
        final long[] advanceMs = {0, 100, 100, 700};
        for (int i = 0; i < advanceMs.length; i++)
        {
            clock.advance(advanceMs[i]);
            wire.publish(Drafts.custom(draft, "rory", "{\"n\":" + (i + 1) + "}"));
            // The slice stamps an event's append time when it numbers it: wait for that before the clock moves.
            final int delivered = i + 1;
            RecordingSubscriber.await(() -> s.events.size() == delivered, 5_000, "event " + delivered);
        }
        // Held by count: 2 (at 100 ms), 3 (200), 4 (900). At 1,150 ms only event 2 is older than a second.
        clock.advance(250);

        final RecordingSubscriber late = RecordingSubscriber.inline().resume(wire, "rory", s.welcomeEpoch, 1);
        RecordingSubscriber.await(() -> late.recovered != null && late.events.size() == 2, 5_000, "resumed");
        assertEquals(Boolean.FALSE, late.recovered);
        assertEquals(3, late.resumedFrom);
        assertEquals("{\"n\":3}", late.events.get(0).payloadAsString());
        assertEquals("{\"n\":4}", late.events.get(1).payloadAsString());
    }

    @Test
    void shouldBoundAllHistoriesAndReportEvictedAsNotRecovered()
    {
        final long budget = 256 * 1024;
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).historyMaxTotalBytes(budget)
            .maxPayloadBytes(16 * 1024).build());
        final byte[] kilobyte = new byte[1024];
        java.util.Arrays.fill(kilobyte, (byte)'x');
        for (int u = 0; u < 1_000; u++)
        {
            wire.publish(draft.reset().toUser("idle-" + u).type("app.blob").payload(kilobyte, 0, kilobyte.length));
        }
        final RecordingSubscriber probe = RecordingSubscriber.inline().resume(wire, "idle-0", 0, 0);
        probe.awaitReplay(5_000);

        final AgentWireStats stats = wire.stats();
        assertTrue(stats.historyBytes <= budget, "historyBytes=" + stats.historyBytes);
        assertTrue(stats.historyEvictedEvents > 0);
        assertFalse(probe.recovered, "the oldest user's history was evicted");
        assertEquals(2, probe.resumedFrom);

        final RecordingSubscriber recent = RecordingSubscriber.inline().resume(wire, "idle-999", 0, 0);
        recent.awaitReplay(5_000);
        assertTrue(recent.recovered, "the most recent user's history is kept");
        assertEquals(1, recent.events.size());
    }
}
