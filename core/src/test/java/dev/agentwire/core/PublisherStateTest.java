package dev.agentwire.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The state publishers make the engine keep: runs and event ids belong to their owner (one producer's mistake never
 * touches another user's run), the dedup window is as long as configured until its count bound (and says when it is
 * not), and runs, open tool calls and users are bounded, refused or freed with a named status and counted.
 */
@Timeout(60)
class PublisherStateTest
{
    private AgentWire wire;

    @AfterEach
    void tearDown()
    {
        if (wire != null)
        {
            wire.close();
        }
    }

    @Test
    void shouldKeepRunsOfDifferentOwnersApart()
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).build());
        final EventDraft d = new EventDraft();
        assertTrue(wire.publish(Drafts.started(d, "alice", "run-1")) >= 0);
        // Bob's producer happens to use the same run id: a run of its own, not "already started".
        assertTrue(wire.publish(Drafts.started(d, "bob", "run-1")) >= 0, "bob's run-1 is bob's");
        assertTrue(wire.publish(Drafts.completed(d, "bob", "run-1", Outcome.SUCCESS)) >= 0);
        // Bob's completion did not close Alice's run.
        assertTrue(wire.publish(Drafts.thinking(d, "alice", "run-1", "still here")) >= 0, "alice's run is open");
        assertEquals(PublishStatus.RUN_COMPLETED, wire.publish(Drafts.thinking(d, "bob", "run-1", "late")));
    }

    @Test
    void shouldScopeEventIdsByOwnerAndRun()
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).build());
        final EventDraft d = new EventDraft();
        assertTrue(wire.publish(Drafts.custom(d, "alice", "{}").eventId("e-1")) >= 0);
        assertTrue(wire.publish(Drafts.custom(d, "bob", "{}").eventId("e-1")) >= 0, "another owner's id");
        assertEquals(PublishStatus.DUPLICATE, wire.publish(Drafts.custom(d, "alice", "{}").eventId("e-1")));
        assertTrue(wire.publish(Drafts.started(d, "alice", "r1").eventId("e-1")) >= 0, "another run's id");
    }

    @Test
    void shouldRememberAnIdForTheWholeWindowHoweverManyIdsOneRunHas()
    {
        // Before: each of the 64 stripes remembered 1/64 of dedupMaxEntries, so after 16,400 other ids of the same
        // run a retry of the first was delivered again, well within the 60 s window.
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).build());
        final EventDraft d = new EventDraft();
        assertTrue(wire.publish(Drafts.started(d, "carol", "busy").eventId("first")) >= 0);
        for (int i = 0; i < 20_000; i++)
        {
            assertTrue(wire.publish(Drafts.thinking(d, "carol", "busy", "t").eventId("id-" + i)) >= 0);
        }
        assertEquals(PublishStatus.DUPLICATE, wire.publish(Drafts.started(d, "carol", "busy").eventId("first")));
        assertEquals(0, wire.stats().dedupEvicted);
        assertEquals(20_001, wire.stats().dedupEntries);
    }

    @Test
    void shouldForgetIdsEarlyOnlyAtTheCountBoundAndCountThem()
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).dedupMaxEntries(1_000).build());
        final EventDraft d = new EventDraft();
        for (int i = 0; i < 1_500; i++)
        {
            assertTrue(wire.publish(Drafts.custom(d, "dan", "{}").eventId("id-" + i)) >= 0);
        }
        final AgentWireStats stats = wire.stats();
        assertEquals(500, stats.dedupEvicted, "every id forgotten before its window ended is counted");
        assertEquals(1_000, stats.dedupEntries);
        assertTrue(wire.publish(Drafts.custom(d, "dan", "{}").eventId("id-0")) >= 0, "the oldest was forgotten");
        assertEquals(PublishStatus.DUPLICATE, wire.publish(Drafts.custom(d, "dan", "{}").eventId("id-1499")));
    }

    @Test
    void shouldRefuseANewRunPastMaxRuns()
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).maxRuns(10).build());
        final EventDraft d = new EventDraft();
        for (int i = 0; i < 10; i++)
        {
            assertTrue(wire.publish(Drafts.started(d, "erin", "run-" + i)) >= 0);
        }
        assertEquals(PublishStatus.TOO_MANY_RUNS, wire.publish(Drafts.started(d, "erin", "run-10")));
        assertEquals("too_many_runs", PublishStatus.name(PublishStatus.TOO_MANY_RUNS));
        assertEquals(10, wire.stats().runs);
        // The runs already held go on.
        assertTrue(wire.publish(Drafts.thinking(d, "erin", "run-3", "ok")) >= 0);
    }

    @Test
    void shouldRefuseAToolCallPastTheRunsBound()
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).maxToolCallsPerRun(3).build());
        final EventDraft d = new EventDraft();
        assertTrue(wire.publish(Drafts.started(d, "finn", "r")) >= 0);
        for (int i = 0; i < 3; i++)
        {
            assertTrue(wire.publish(Drafts.executing(d, "finn", "r", "c" + i)) >= 0);
        }
        assertEquals(PublishStatus.TOO_MANY_TOOL_CALLS, wire.publish(Drafts.executing(d, "finn", "r", "c3")));
        assertTrue(wire.publish(Drafts.toolCompleted(d, "finn", "r", "c0")) >= 0);
        assertTrue(wire.publish(Drafts.executing(d, "finn", "r", "c3")) >= 0, "room again once one completed");
    }

    @Test
    void shouldFreeTheLeastRecentlyActiveDisconnectedUsersPastMaxUsers() throws Exception
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).maxUsers(100).build());
        final RecordingSubscriber connected = new RecordingSubscriber(true);
        wire.subscribe("connected", connected);
        final EventDraft d = new EventDraft();
        for (int i = 0; i < 250; i++)
        {
            assertTrue(wire.publish(Drafts.custom(d, "user-" + i, "{}")) >= 0);
        }
        assertTrue(wire.publish(Drafts.custom(d, "connected", "{\"still\":true}")) >= 0);
        awaitSequenced(251);
        final AgentWireStats stats = wire.stats();
        assertTrue(stats.users <= 100, "users held: " + stats.users);
        assertEquals(251 - stats.users, stats.usersEvicted, "every user freed early is counted");
        // The connected user is never freed: its event arrives.
        RecordingSubscriber.await(() -> connected.events.size() == 1, 5_000, "the connected user's event");
        assertEquals(1, connected.events.size());
    }

    private void awaitSequenced(final long events) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (wire.stats().eventsSequenced < events)
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("sequenced " + wire.stats().eventsSequenced + " of " + events);
            }
            Thread.sleep(5);
        }
    }
}
