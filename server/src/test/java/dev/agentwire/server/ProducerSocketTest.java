package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An out-of-process agent runtime on the producer socket: the golden path both ways on one socket — it receives
 * the user's message and presence, streams the run back with per-event acks, and is told when the user leaves.
 */
@Timeout(60)
class ProducerSocketTest
{
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
    void shouldRouteUserMessagesAndPresenceToTheRuntimeAndAckItsEvents() throws Exception
    {
        final WsClient runtime = fixture.producerSocket();
        // The client's handshake can complete before the server has registered the socket: presence is only
        // told to producers already connected.
        RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "producer registered");
        final WsClient user = fixture.connect("pia");
        user.next(5_000);
        final JsonNode online = runtime.nextOfType("presence", 5_000);
        assertEquals("pia", online.get("user").asText());
        assertEquals("online", online.get("state").asText());

        user.send("{\"type\":\"user_message\",\"thread_id\":\"th-1\",\"data\":{\"text\":\"hello\"}}");
        final JsonNode message = runtime.nextOfType("user_message", 5_000);
        assertEquals("pia", message.get("user").asText(), "the authenticated sender, added by the server");
        assertEquals("th-1", message.get("thread_id").asText());
        assertEquals("hello", message.get("data").get("text").asText());

        final String[] events = {
            "{\"ref\":\"e1\",\"user\":\"pia\",\"type\":\"agent_started\",\"run_id\":\"pr-1\",\"thread_id\":\"th-1\"," +
                "\"data\":{\"agent\":\"remote\"}}",
            "{\"ref\":\"e2\",\"user\":\"pia\",\"type\":\"agent_thinking\",\"run_id\":\"pr-1\",\"data\":{\"text\":\"hi\"}}",
            "{\"ref\":\"e3\",\"user\":\"pia\",\"type\":\"agent_completed\",\"run_id\":\"pr-1\"," +
                "\"data\":{\"outcome\":\"success\",\"result\":\"hello back\"}}"};
        for (int i = 0; i < events.length; i++)
        {
            runtime.send(events[i]);
            final JsonNode ack = runtime.nextOfType("ack", 5_000);
            assertEquals("e" + (i + 1), ack.get("ref").asText());
            assertEquals("accepted", ack.get("status").asText());
            assertEquals(i + 1, ack.get("seqs").get(0).get("seq").asLong());
        }
        final List<JsonNode> got = user.collect(WsClient::isEvent, 3, 5_000);
        assertEquals("hello back", got.get(2).get("data").get("result").asText());

        runtime.send("{\"ref\":\"bad\",\"user\":\"pia\",\"type\":\"agent_thinking\",\"run_id\":\"pr-1\"," +
            "\"data\":{\"text\":\"late\"}}");
        final JsonNode nack = runtime.nextOfType("nack", 5_000);
        assertEquals("bad", nack.get("ref").asText());
        assertEquals(422, nack.get("status").asInt());
        assertEquals("run_completed", nack.get("code").asText());

        runtime.send("{\"ref\":\"worse\",\"user\":\"pia\",\"type\":\"agent_thinking\"}");
        final JsonNode invalid = runtime.nextOfType("nack", 5_000);
        assertEquals(400, invalid.get("status").asInt());
        assertTrue(invalid.get("message").asText().contains("run_id"));

        user.send("{\"type\":\"cancel\",\"run_id\":\"pr-1\"}");
        final JsonNode cancel = runtime.nextOfType("cancel", 5_000);
        assertEquals("pr-1", cancel.get("run_id").asText());
        assertEquals("pia", cancel.get("user").asText());

        user.close();
        final JsonNode offline = runtime.nextOfType("presence", 5_000);
        assertEquals("offline", offline.get("state").asText());
    }

    @Test
    void shouldTellALateRuntimeWhoIsAlreadyOnline() throws Exception
    {
        final WsClient user = fixture.connect("early-bird");
        user.next(5_000);
        final WsClient runtime = fixture.producerSocket();
        final JsonNode online = runtime.nextOfType("presence", 5_000);
        assertEquals("early-bird", online.get("user").asText());
        assertEquals("online", online.get("state").asText());
    }

    @Test
    void shouldTellARuntimeThatConnectsEveryUserOnlineMoreThanOneTurnOfThem() throws Exception
    {
        // What a runtime is owed at connect goes out a turn at a time, each turn as its backlog drains.
        final int users = 600;
        for (int u = 0; u < users; u++)
        {
            fixture.connect("here-" + u).next(5_000);
        }
        final WsClient runtime = fixture.producerSocket();
        final java.util.Set<String> online = new java.util.HashSet<>();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (online.size() < users && System.nanoTime() < deadline)
        {
            final JsonNode frame = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
            if (frame != null && "presence".equals(frame.path("type").asText()))
            {
                assertEquals("online", frame.get("state").asText());
                online.add(frame.get("user").asText());
            }
        }
        assertEquals(users, online.size(), "every user online was told");
    }

    @Test
    void shouldBoundWhatARuntimeThatStopsReadingHoldsAndTellUsersItIsBusy() throws Exception
    {
        // The audit: a producer socket that stopped reading held every user message sent to it (heap 80 -> 430 MB)
        // and users were told nothing. Now at most 4 MiB wait for it; past that users are answered agent_busy.
        final WsClient runtime = fixture.producerSocket();
        runtime.stopReading();
        final List<WsClient> users = new java.util.ArrayList<>();
        for (int u = 0; u < 5; u++)
        {
            final WsClient user = fixture.connect("talker-" + u);
            user.next(5_000);
            users.add(user);
        }
        // Up to 5 users x 250 messages of 30 KB (37 MB), within their rate limits: more than the bound plus what
        // the kernel's socket buffers take, until the first agent_busy.
        assertTrue(sendUntilBusy(users, 30_000), "users were told the runtime is busy");
        // Every user is still connected and served.
        assertEquals(202, fixture.publish("{\"user\":\"talker-0\",\"type\":\"app.x\",\"data\":{}}").statusCode());
        assertEquals("app.x", users.get(0).collect(WsClient::isEvent, 1, 5_000).get(0).get("type").asText());

        // Filled to the brim (messages smaller than the presence frame that follows), a user who comes now is owed
        // to the runtime and told once it reads again. Before: that presence frame was dropped, and the runtime
        // never learnt the user was online.
        assertTrue(sendUntilBusy(users, 1_000) && sendUntilBusy(users, 0), "full to the brim");
        final String late = "late-" + "x".repeat(200);
        fixture.connect(late).next(5_000);
        runtime.resumeReading();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        JsonNode told = null;
        while (told == null && System.nanoTime() < deadline)
        {
            final JsonNode frame = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
            told = frame != null && "presence".equals(frame.path("type").asText()) &&
                late.equals(frame.path("user").asText()) ? frame : null;
        }
        assertTrue(told != null, "the runtime was told of the user who came while it was full");
        assertEquals("online", told.get("state").asText());
    }

    @Test
    void shouldRouteNoUsersMessageToASocketThatOnlyPublishes() throws Exception
    {
        // Before: every producer socket took its share of users' messages, round robin, and a runtime that only
        // publishes over the socket (the SDKs without a message handler) dropped them unread.
        final java.net.URI publishOnly = java.net.URI.create("ws://127.0.0.1:" + fixture.server.port() +
            "/v1/producer?inbound=none");
        try (WsClient publisher = WsClient.connect(publishOnly, Tokens.PRODUCER_KEY))
        {
            final WsClient user = fixture.connect("asker");
            user.next(5_000);
            user.send("{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{\"text\":\"alone\"}}");
            assertEquals("no_agent", user.nextOfType("error", 5_000).get("code").asText(), "a publisher is no agent");

            final WsClient runtime = fixture.producerSocket();
            RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "the runtime is routed to");
            for (int n = 0; n < 6; n++)
            {
                user.send("{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{\"n\":" + n + "}}");
            }
            final List<JsonNode> got = runtime.collect(m -> "user_message".equals(m.path("type").asText()), 6, 5_000);
            assertEquals(6, got.size(), "every message went to the runtime");

            // It publishes as any producer socket does, and was told nothing of users: its first frame is the ack.
            publisher.send("{\"ref\":\"e1\",\"user\":\"asker\",\"type\":\"app.note\",\"data\":{}}");
            final JsonNode first = publisher.next(5_000);
            assertEquals("ack", first.get("type").asText(), first.toString());
            assertTrue(publisher.messages.isEmpty(), "" + publisher.messages);

            final java.net.http.HttpResponse<String> bad = WsClient.HTTP.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + fixture.server.port() + "/v1/producer?inbound=some"))
                .header("Authorization", "Bearer " + Tokens.PRODUCER_KEY).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(bad.body().contains("inbound=some must be all (the default) or none"), bad.body());
        }
    }

    @Test
    void shouldHandUsersMessagesARuntimeNeverGotToAnotherWhenItsSocketDies() throws Exception
    {
        // Before: a runtime whose process died (or that was cut as not reading, or silent) took with it every user's
        // message the server had not yet written to its socket, up to 4 MiB, and nobody was told.
        try (RawWs.RawClient dying = RawWs.RawClient.connect(fixture.server.port(), "/v1/producer",
            Tokens.PRODUCER_KEY, 4096, false))
        {
            RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "the runtime is routed to");
            final int users = 8;
            final List<WsClient> senders = senders(users);
            final List<List<Integer>> taken = fill(senders);

            final WsClient heir = fixture.producerSocket();
            RecordingAwait.until(() -> fixture.server.producerCount() == 2, 5_000, "the second runtime is routed to");
            dying.reset();
            RecordingAwait.until(() -> fixture.metric("agentwire_producer_messages_rerouted_total") > 0, 5_000,
                "what the dead runtime's socket never took went to the other");
            final List<JsonNode> got = new java.util.ArrayList<>();
            long rerouted;
            do
            {
                rerouted = fixture.metric("agentwire_producer_messages_rerouted_total");
                got.addAll(heir.collect(m -> "user_message".equals(m.path("type").asText()),
                    (int)rerouted - got.size(), 10_000));
            }
            while (fixture.metric("agentwire_producer_messages_rerouted_total") != rerouted);
            assertEquals(rerouted, got.size(), "each message handed back reached the other runtime");
            assertEquals(0, fixture.metric("agentwire_producer_messages_lost_total"));
            // What the dead socket took is a prefix of each user's messages it was given: the rest reached the other
            // runtime, each once and in the user's order.
            for (int u = 0; u < users; u++)
            {
                final String sender = "sender-" + u;
                final int[] ns = got.stream().filter(m -> sender.equals(m.path("user").asText()))
                    .mapToInt(m -> m.get("data").get("n").asInt()).toArray();
                final List<Integer> mine = taken.get(u);
                assertEquals(mine.subList(mine.size() - ns.length, mine.size()),
                    java.util.Arrays.stream(ns).boxed().toList(), sender + "'s messages the other runtime got, of " +
                    mine + " taken");
            }
        }
    }

    @Test
    void shouldTellAUserWhoseMessageARuntimeNeverGotAndNoOtherCouldTake() throws Exception
    {
        // Before: the runtime's process died with users' messages the server still held for it, no other runtime
        // was there to take them, and their senders, answered as if they would be handled, were told nothing.
        try (RawWs.RawClient dying = RawWs.RawClient.connect(fixture.server.port(), "/v1/producer",
            Tokens.PRODUCER_KEY, 4096, false))
        {
            RecordingAwait.until(() -> fixture.server.producerCount() == 1, 5_000, "the runtime is routed to");
            final List<WsClient> senders = senders(8);
            final List<List<Integer>> taken = fill(senders);
            dying.reset();
            // Each notice is told in its sender's own stream: gathered until there is one for each message counted
            // lost, and still so a moment later.
            final List<List<Integer>> told = new java.util.ArrayList<>();
            senders.forEach(sender -> told.add(new java.util.ArrayList<>()));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            long lost = 0;
            for (int settled = 0; settled < 2 && System.nanoTime() < deadline; Thread.sleep(100))
            {
                for (int u = 0; u < senders.size(); u++)
                {
                    for (JsonNode m = senders.get(u).messages.poll(); m != null; m = senders.get(u).messages.poll())
                    {
                        if ("agentwire.message_lost".equals(m.path("type").asText()))
                        {
                            assertEquals("no_agent", m.path("data").path("reason").asText(), m.toString());
                            assertEquals("user_message", m.path("data").path("type").asText(), m.toString());
                            told.get(u).add(Integer.parseInt(m.path("thread_id").asText().substring(2)));
                        }
                    }
                }
                lost = fixture.metric("agentwire_producer_messages_lost_total");
                final int notices = told.stream().mapToInt(List::size).sum();
                settled = lost > 0 && notices == lost ? settled + 1 : 0;
            }
            assertTrue(lost > 0, "what the dead runtime's socket never took, and nobody could take instead, counted");
            assertEquals(lost, told.stream().mapToInt(List::size).sum(), "one notice for each message lost");
            for (int u = 0; u < senders.size(); u++)
            {
                // The last of each sender's messages the server took: what the dead socket never began to take.
                final List<Integer> mine = taken.get(u);
                assertEquals(mine.subList(mine.size() - told.get(u).size(), mine.size()), told.get(u),
                    "sender-" + u + " was told of the last of its messages taken: " + mine);
            }
        }
    }

    /** @return {@code count} users, each past its welcome. */
    private List<WsClient> senders(final int count) throws Exception
    {
        final List<WsClient> senders = new java.util.ArrayList<>();
        for (int u = 0; u < count; u++)
        {
            final WsClient user = fixture.connect("sender-" + u);
            user.next(5_000);
            senders.add(user);
        }
        return senders;
    }

    /**
     * Sends each user's messages of 60 KB (thread {@code t-<n>}, data {@code n}) to a runtime that reads nothing
     * (its receive buffer is 4 KiB), 17 rounds over the users: the kernel's socket buffers take what they take, the
     * server's 4 MiB the next, the rest is refused. Each is followed by a ping, whose pong comes after the message's
     * refusal, if any.
     *
     * @return for each user, the messages the server took.
     */
    private static List<List<Integer>> fill(final List<WsClient> senders) throws Exception
    {
        final int each = 17;
        final String pad = "p".repeat(60_000);
        final List<List<Integer>> taken = new java.util.ArrayList<>();
        int refused = 0;
        for (int u = 0; u < senders.size(); u++)
        {
            taken.add(new java.util.ArrayList<>());
        }
        for (int n = 0; n < each; n++)
        {
            for (int u = 0; u < senders.size(); u++)
            {
                if (senders.get(u).sendAndAskTaken("{\"type\":\"user_message\",\"thread_id\":\"t-" + n +
                    "\",\"data\":{\"n\":" + n + ",\"pad\":\"" + pad + "\"}}"))
                {
                    taken.get(u).add(n);
                }
                else
                {
                    refused++;
                }
            }
        }
        assertTrue(refused > 0, "the server's window filled up too");
        return taken;
    }

    /** Sends messages of {@code textLength} from every user, 250 rounds at most, until one is answered agent_busy. */
    private static boolean sendUntilBusy(final List<WsClient> users, final int textLength) throws Exception
    {
        for (final WsClient user : users)
        {
            user.messages.clear();
        }
        final String text = "b".repeat(textLength);
        for (int round = 0; round < 250; round++)
        {
            for (final WsClient user : users)
            {
                user.send("{\"type\":\"user_message\",\"thread_id\":\"t\",\"data\":{\"text\":\"" + text + "\"}}");
            }
            Thread.sleep(60);
            for (final WsClient user : users)
            {
                if (user.messages.stream().anyMatch(m -> "error".equals(m.path("type").asText()) &&
                    "agent_busy".equals(m.path("code").asText())))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
