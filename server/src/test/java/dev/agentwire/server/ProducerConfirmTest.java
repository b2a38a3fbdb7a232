package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A runtime that confirms the users' messages it takes ({@code GET /v1/producer?confirm=true}): each message carries
 * a tag, the runtime sends {@code {"taken":tag}}, and what it never confirmed is not lost with its socket.
 */
@Timeout(90)
class ProducerConfirmTest
{
    private static final int WINDOW_BYTES = 4 * 1024 * 1024;
    private static final long STALL_TIMEOUT_MS = 30_000;

    @TempDir
    Path dir;
    private ServerFixture fixture;

    @BeforeEach
    void setUp()
    {
        fixture = new ServerFixture(dir, b -> { });
    }

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldHandWhatADeadRuntimeReadButNeverConfirmedToAnotherMarkedRedelivered() throws Exception
    {
        // Before: a message written whole to a runtime's socket was its, whether the runtime handled it or died with
        // it in the kernel's buffers or its own queue: then lost without a word.
        try (RawWs.RawClient dying = confirming())
        {
            final WsClient user = user("asker");
            for (int n = 1; n <= 5; n++)
            {
                user.send("{\"type\":\"user_message\",\"thread_id\":\"t-" + n + "\",\"data\":{\"n\":" + n + "}}");
            }
            for (int n = 1; n <= 5; n++)
            {
                final JsonNode message = dying.nextOfType("user_message");
                assertEquals(n, message.path("tag").asLong(), "tagged 1, 2, 3… in the order sent: " + message);
                assertEquals(n, message.path("data").path("n").asInt());
                assertEquals("asker", message.path("user").asText());
            }
            dying.sendFrame(0x81, bytes("{\"taken\":3}"));
            // A confirm is not answered: the next answer is the ack of the event sent after it.
            dying.sendFrame(0x81, bytes("{\"ref\":\"e1\",\"user\":\"asker\",\"type\":\"app.note\",\"data\":{}}"));
            assertEquals("e1", dying.nextOfType("ack").path("ref").asText());

            final WsClient heir = fixture.producerSocket();
            RecordingAwait.until(() -> fixture.server.producerCount() == 2, 5_000, "the second runtime is routed to");
            dying.reset();
            final List<JsonNode> got = heir.collect(m -> "user_message".equals(m.path("type").asText()), 2, 10_000);
            assertEquals(List.of(4, 5), got.stream().map(m -> m.path("data").path("n").asInt()).toList(), "" + got);
            for (final JsonNode message : got)
            {
                assertTrue(message.path("redelivered").asBoolean(), "the dead runtime may have read it: " + message);
                assertFalse(message.has("tag"), "tags are a confirming runtime's: " + message);
            }
            // 1 to 3 were confirmed: they stay the dead runtime's, and nothing else went anywhere.
            assertEquals(2, fixture.metric("agentwire_producer_messages_redelivered_total"));
            // Counted once the router's offer returned, which may be a moment after the other runtime read it.
            RecordingAwait.until(() -> fixture.metric("agentwire_producer_messages_rerouted_total") == 2, 5_000,
                "both counted as rerouted");
            assertEquals(0, fixture.metric("agentwire_producer_messages_lost_total"));
        }
    }

    @Test
    void shouldTellTheSenderOfWhatADeadRuntimeNeverConfirmedWhenNoOtherCanTakeIt() throws Exception
    {
        try (RawWs.RawClient dying = confirming())
        {
            final WsClient user = user("alone");
            user.send("{\"type\":\"user_message\",\"thread_id\":\"t-1\",\"run_id\":\"r-1\",\"data\":{}}");
            assertEquals(1, dying.nextOfType("user_message").path("tag").asLong());
            dying.reset();
            final JsonNode notice = user.nextOfType("agentwire.message_lost", 10_000);
            assertEquals("t-1", notice.path("thread_id").asText());
            assertEquals("r-1", notice.path("data").path("run_id").asText());
            assertEquals("no_agent", notice.path("data").path("reason").asText());
            RecordingAwait.until(() -> fixture.metric("agentwire_producer_messages_lost_total") == 1, 5_000,
                "counted as lost");
        }
    }

    @Test
    void shouldCountWhatARuntimeHasNotConfirmedInItsWindowAndNotCutItForBeingSlowToConfirm() throws Exception
    {
        // It reads every frame at once, and confirms nothing: what it holds unconfirmed is its backlog.
        final WsClient runtime = WsClient.connect(URI.create("ws://127.0.0.1:" + fixture.server.port() +
            "/v1/producer?confirm=true"), Tokens.PRODUCER_KEY);
        RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "the runtime is routed to");
        final List<WsClient> users = new ArrayList<>();
        for (int u = 0; u < 5; u++)
        {
            users.add(user("filler-" + u));
        }
        final String pad = "p".repeat(60_000);
        int taken = 0;
        int refused = 0;
        for (int round = 0; round < 17; round++) // 85 messages of 60 KB: past the 4 MiB window
        {
            for (final WsClient user : users)
            {
                if (user.sendAndAskTaken("{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{\"pad\":\"" + pad +
                    "\"}}"))
                {
                    taken++;
                }
                else
                {
                    refused++;
                }
            }
        }
        assertTrue(refused > 0, "the runtime's unconfirmed messages filled its window");
        final List<JsonNode> got = runtime.collect(m -> "user_message".equals(m.path("type").asText()), taken,
            10_000);
        assertEquals(taken, got.size());
        // As the server sent them, less the tag it wrote in front of each.
        final long bytes = got.stream().mapToLong(m -> m.toString().length() -
            ("\"tag\":" + m.path("tag").asLong() + ",").length()).sum();
        assertTrue(bytes <= WINDOW_BYTES && bytes > WINDOW_BYTES - 2 * 61_000, "held " + bytes + " bytes");

        // Past the stall timeout, unconfirmed: a runtime busy with what it took is not one that stopped reading. It is
        // sent nothing more, and stays connected with what it holds.
        Thread.sleep(STALL_TIMEOUT_MS + 1_000);
        assertFalse(users.get(1).sendAndAskTaken("{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{\"pad\":\"" +
            pad + "\"}}"), "a message the size of those refused is refused still");
        assertTrue(runtime.isOpen(), "not cut as not reading");
        assertEquals(0, fixture.metric("agentwire_producers_cut_total"));

        runtime.send("{\"taken\":" + got.get(got.size() - 1).path("tag").asLong() + "}");
        assertTrue(users.get(0).sendAndAskTaken("{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{\"n\":1}}"),
            "taken again once the runtime confirmed");
        final JsonNode next = runtime.nextOfType("user_message", 5_000);
        assertEquals(taken + 1, next.path("tag").asLong());
    }

    @Test
    void shouldRefuseAConfirmPastTheLastMessageOrOnASocketThatDoesNotConfirm() throws Exception
    {
        final WsClient confirming = WsClient.connect(URI.create("ws://127.0.0.1:" + fixture.server.port() +
            "/v1/producer?confirm=true"), Tokens.PRODUCER_KEY);
        confirming.send("{\"taken\":9}");
        final JsonNode past = confirming.nextOfType("nack", 5_000);
        assertEquals(400, past.path("status").asInt());
        assertEquals("taken=9 is past the last message sent, tag=0", past.path("message").asText());

        final WsClient plain = fixture.producerSocket();
        plain.send("{\"taken\":1}");
        assertEquals("taken needs ?confirm=true", plain.nextOfType("nack", 5_000).path("message").asText());

        final HttpResponse<String> bad = WsClient.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" +
            fixture.server.port() + "/v1/producer?confirm=maybe")).header("Authorization", "Bearer " +
            Tokens.PRODUCER_KEY).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("confirm=maybe must be true or false (the default)"), bad.body());
    }

    /** A runtime that confirms, on a raw socket it can end as a crashed process's ends, routed to. */
    private RawWs.RawClient confirming() throws Exception
    {
        final RawWs.RawClient runtime = RawWs.RawClient.connect(fixture.server.port(), "/v1/producer?confirm=true",
            Tokens.PRODUCER_KEY, 0, false);
        RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "the runtime is routed to");
        return runtime;
    }

    private WsClient user(final String name) throws Exception
    {
        final WsClient user = fixture.connect(name);
        user.next(5_000);
        return user;
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
