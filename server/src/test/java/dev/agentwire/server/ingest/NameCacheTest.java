package dev.agentwire.server.ingest;

import dev.agentwire.core.EventDraft;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Names that recur keep one String; every name still reads as sent, and a name past the bound is refused. */
class NameCacheTest
{
    @Test
    void shouldGiveTheSameStringForANameSeenLatelyAndTheRightOneForEveryName()
    {
        final NameCache cache = new NameCache();
        final String alice = cache.name("xaliceyy".toCharArray(), 1, 5);

        assertEquals("alice", alice);
        assertSame(alice, cache.name("alice".toCharArray(), 0, 5));
        for (int i = 0; i < 20_000; i++)
        {
            final String name = "user-" + i;
            assertEquals(name, cache.name(name.toCharArray(), 0, name.length()));
        }
        final String again = cache.name("alice".toCharArray(), 0, 5);
        assertEquals("alice", again, "a slot taken by another name gives a new String of the right name");
        assertNotSame(alice, again);
    }

    @Test
    void shouldKeepUserAndRunOfRecurringEventsAsOneStringEach() throws Exception
    {
        final IngestParser parser = new IngestParser(64 * 1024);
        final byte[] body = ("[{\"user\":\"alice\",\"type\":\"agent_thinking\",\"run_id\":\"r1\",\"id\":\"e1\"," +
            "\"data\":{\"text\":\"a\"}},{\"user\":\"alice\",\"type\":\"agent_thinking\",\"run_id\":\"r1\"," +
            "\"id\":\"e2\",\"data\":{\"text\":\"b\"}}]").getBytes(StandardCharsets.UTF_8);

        final List<EventDraft> drafts = parser.parseBody(body, body.length);

        assertEquals("alice", drafts.get(0).target());
        assertSame(drafts.get(0).target(), drafts.get(1).target());
        assertSame(drafts.get(0).runId(), drafts.get(1).runId());
        assertEquals("e1", drafts.get(0).eventId());
        assertEquals("e2", drafts.get(1).eventId());
    }

    @Test
    void shouldRefuseANameLongerThanTheBound()
    {
        final IngestParser parser = new IngestParser(64 * 1024);
        final byte[] body = ("{\"user\":\"" + "u".repeat(IngestParser.MAX_ID_LENGTH + 1) +
            "\",\"type\":\"app.x\",\"data\":{}}").getBytes(StandardCharsets.UTF_8);

        final IngestParser.Invalid invalid =
            assertThrows(IngestParser.Invalid.class, () -> parser.parseBody(body, body.length));
        assertTrue(invalid.getMessage().contains("user is longer than"), invalid.getMessage());
    }
}
