package dev.agentwire.server.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A runtime whose backlog is full is owed presence, not robbed of it: once it has room it is told each user's latest
 * state, and a runtime that connects is told every user online, however many.
 */
class PresenceFeedTest
{
    private final PresenceFeed feed = new PresenceFeed();

    @Test
    void shouldTellARuntimeThatConnectsEveryUserOnlineAsItsRecordingChannelMakesRoom()
    {
        // Before: what did not fit the backlog at connect was dropped, and the runtime never heard of those users.
        final RecordingChannel runtime = new RecordingChannel(2);
        feed.attach(runtime, List.of("ann", "bob", "cid", "dee", "eve"));
        assertEquals(2, runtime.frames.size(), "as many as the backlog takes now");
        assertEquals(1, feed.indebted());

        runtime.room = 2;
        feed.roomFor(runtime);
        runtime.room = 10;
        feed.roomFor(runtime);
        assertEquals(Map.of("ann", "online", "bob", "online", "cid", "online", "dee", "online", "eve", "online"),
            runtime.told());
        assertEquals(5, runtime.frames.size(), "each told once");
        assertEquals(0, feed.indebted());
    }

    @Test
    void shouldTellAFullRuntimeEachUsersLatestStateOnceItHasRoomAndNeverAnEarlierOneAfterALaterOne()
    {
        final RecordingChannel full = new RecordingChannel(0);
        final RecordingChannel reading = new RecordingChannel(100);
        feed.attach(full, List.of("ann"));
        feed.attach(reading, List.of("ann"));

        feed.changed("bob", true);
        feed.changed("ann", false);
        feed.changed("bob", false);
        feed.changed("cid", true);
        assertTrue(full.frames.isEmpty());
        assertEquals(Map.of("ann", "offline", "bob", "offline", "cid", "online"), reading.told(),
            "a runtime with room is told at once");

        full.room = 1;
        feed.roomFor(full);
        feed.changed("cid", false); // while still owed: queued behind the rest, never sent ahead of it
        assertEquals(1, full.frames.size());
        full.room = 100;
        feed.roomFor(full);
        assertEquals(Map.of("ann", "offline", "bob", "offline", "cid", "offline"), full.told());
        assertEquals(3, full.frames.size(), "one frame per user: its latest state");
        assertEquals(0, feed.indebted());
    }

    @Test
    void shouldSendWhatIsOwedATurnAtATimeSoAChangeNeverWaitsLongForTheLock()
    {
        final RecordingChannel runtime = new RecordingChannel(100_000);
        final List<String> online = new java.util.ArrayList<>();
        for (int u = 0; u < 3 * PresenceFeed.FRAMES_PER_TURN; u++)
        {
            online.add("user-" + u);
        }
        feed.attach(runtime, online);
        assertEquals(PresenceFeed.FRAMES_PER_TURN, runtime.frames.size(), "one turn at connect");
        feed.roomFor(runtime);
        feed.roomFor(runtime);
        assertEquals(3 * PresenceFeed.FRAMES_PER_TURN, runtime.told().size(), "a turn each time it has room");
        assertEquals(0, feed.indebted());
    }

    @Test
    void shouldForgetWhatASocketWasOwedWhenItCloses()
    {
        final RecordingChannel gone = new RecordingChannel(0);
        feed.attach(gone, List.of("ann", "bob"));
        assertEquals(1, feed.indebted());
        feed.detach(gone);
        assertEquals(0, feed.indebted());
        feed.changed("cid", true);
        gone.room = 10;
        feed.roomFor(gone);
        assertTrue(gone.frames.isEmpty(), "a closed socket is told nothing more");
    }
}
