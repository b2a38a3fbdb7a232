package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reconnection: resume from the last event seen (in the URL, or with a resume message), while events keep being
 * published; with zero prior events; and beyond the history, which is said, never a silent gap.
 */
@Timeout(90)
class ResumeOverSocketTest
{
    @TempDir
    Path dir;
    private ServerFixture fixture;

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldResumeWithNoGapAndNoDuplicateWhilePublishingContinues() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.producerRatePerSec(1_000_000).producerBurst(1_000_000),
            AgentWireConfig.builder().sliceCount(2).historyMaxEvents(10_000));
        final AtomicBoolean publishing = new AtomicBoolean(true);
        final AtomicInteger published = new AtomicInteger();
        final Thread producer = new Thread(() ->
        {
            final long deadlineNs = System.nanoTime() + 60_000_000_000L;
            while (publishing.get() && published.get() < 5_000 && System.nanoTime() < deadlineNs)
            {
                try
                {
                    final StringBuilder batch = new StringBuilder("[");
                    for (int i = 0; i < 10; i++)
                    {
                        batch.append(i == 0 ? "" : ",").append("{\"user\":\"lee\",\"type\":\"app.tick\",\"data\":{\"n\":")
                            .append(published.get() + i).append("}}");
                    }
                    if (fixture.publish(batch.append("]").toString()).statusCode() == 202)
                    {
                        published.addAndGet(10);
                    }
                    Thread.sleep(2);
                }
                catch (final Exception ex)
                {
                    return;
                }
            }
        }, "producer");
        producer.start();
        try
        {
            final List<Long> seen = new ArrayList<>();
            final List<Integer> payloads = new ArrayList<>();
            long epoch = 0;
            for (int reconnect = 0; reconnect < 8; reconnect++)
            {
                final long last = seen.isEmpty() ? 0 : seen.get(seen.size() - 1);
                final WsClient socket = reconnect == 0 ?
                    fixture.connectWith(Tokens.hs256("lee", 60_000), "epoch=0&after=0") :
                    fixture.connectWith(Tokens.hs256("lee", 60_000), "epoch=" + epoch + "&after=" + last);
                final JsonNode welcome = socket.next(5_000);
                epoch = welcome.get("epoch").asLong();
                final JsonNode resumed = socket.next(5_000);
                assertEquals("resumed", resumed.get("type").asText());
                assertTrue(resumed.get("recovered").asBoolean(), "recovered on reconnect " + reconnect);
                assertEquals(last + 1, resumed.get("from").asLong());
                for (final JsonNode e : socket.collect(WsClient::isEvent, 50, 10_000))
                {
                    seen.add(e.get("seq").asLong());
                    payloads.add(e.get("data").get("n").asInt());
                }
                socket.close();
            }
            assertTrue(publishing.get() && producer.isAlive(), "publishing overlapped every reconnect");
            for (int i = 0; i < seen.size(); i++)
            {
                assertEquals(i + 1L, seen.get(i), "contiguous seqs across reconnects");
                assertEquals(i, payloads.get(i), "each event once, in publish order");
            }
        }
        finally
        {
            publishing.set(false);
            producer.join(10_000);
        }
    }

    @Test
    void shouldResumeWithTheResumeMessageOnTheSameSocket() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { });
        fixture.publish(ServerFixture.runBatch("mo", "r1"));
        final WsClient socket = fixture.connect("mo");
        final JsonNode welcome = socket.next(5_000);
        assertEquals(5, welcome.get("seq").asLong());
        socket.send("{\"type\":\"resume\",\"epoch\":" + welcome.get("epoch").asLong() + ",\"after\":2}");
        final JsonNode resumed = socket.nextOfType("resumed", 5_000);
        assertTrue(resumed.get("recovered").asBoolean());
        assertEquals(3, resumed.get("from").asLong());
        assertEquals(5, resumed.get("to").asLong());
        final List<JsonNode> replay = socket.collect(WsClient::isEvent, 3, 5_000);
        assertEquals(List.of(3L, 4L, 5L), replay.stream().map(e -> e.get("seq").asLong()).toList());
        fixture.publish(ServerFixture.runBatch("mo", "r2"));
        assertEquals(6, socket.collect(WsClient::isEvent, 1, 5_000).get(0).get("seq").asLong());
    }

    @Test
    void shouldResumeWithZeroPriorEvents() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { });
        final WsClient socket = fixture.connectWith(Tokens.hs256("newbie", 60_000), "after=0");
        assertEquals("welcome", socket.next(5_000).get("type").asText());
        final JsonNode resumed = socket.next(5_000);
        assertTrue(resumed.get("recovered").asBoolean());
        assertEquals(1, resumed.get("from").asLong());
        assertEquals(0, resumed.get("to").asLong());
        fixture.publish(ServerFixture.runBatch("newbie", "r1"));
        assertEquals(1, socket.collect(WsClient::isEvent, 5, 5_000).get(0).get("seq").asLong());
    }

    @Test
    void shouldSayNotRecoveredBeyondTheHistory() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { }, AgentWireConfig.builder().historyMaxEvents(5));
        final WsClient first = fixture.connect("nia");
        final long epoch = first.next(5_000).get("epoch").asLong();
        // History holds 5: the reader takes each batch before the next, or it would (rightly) be cut 4004 as a slow
        // consumer when the second batch pushes the first out before a drain ran (seen once in CI on a busy machine).
        fixture.publish(ServerFixture.runBatch("nia", "r1"));
        first.collect(WsClient::isEvent, 5, 5_000);
        fixture.publish(ServerFixture.runBatch("nia", "r2"));
        first.collect(WsClient::isEvent, 5, 5_000);
        first.close();

        final WsClient back = fixture.connectWith(Tokens.hs256("nia", 60_000), "epoch=" + epoch + "&after=2");
        back.next(5_000);
        final JsonNode resumed = back.next(5_000);
        assertEquals("resumed", resumed.get("type").asText());
        assertFalse(resumed.get("recovered").asBoolean());
        assertEquals(6, resumed.get("from").asLong(), "history now starts at 6");
        assertEquals(6, back.collect(WsClient::isEvent, 5, 5_000).get(0).get("seq").asLong());

        final WsClient otherEpoch = fixture.connectWith(Tokens.hs256("nia", 60_000), "epoch=" + (epoch + 1) + "&after=9");
        otherEpoch.next(5_000);
        assertFalse(otherEpoch.next(5_000).get("recovered").asBoolean());
    }

    @Test
    void shouldRefuseAResumeWhoseCursorIsNotAnInteger() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { });
        final WsClient socket = fixture.connect("pia");
        final long epoch = socket.next(5_000).get("epoch").asLong();
        for (final String after : List.of("1.5", "1e3", "\"1\"", "-1"))
        {
            socket.send("{\"type\":\"resume\",\"epoch\":" + epoch + ",\"after\":" + after + "}");
            final JsonNode error = socket.nextOfType("error", 5_000);
            assertEquals("bad_message", error.get("code").asText(), "after=" + after);
        }
        socket.send("{\"type\":\"resume\",\"epoch\":1.0,\"after\":0}");
        assertEquals("bad_message", socket.nextOfType("error", 5_000).get("code").asText(), "epoch=1.0");
        assertTrue(socket.messages.stream().noneMatch(m -> "resumed".equals(m.path("type").asText())));
    }

    @Test
    void shouldReplayALargeResumeWholeOnOneConnection() throws Exception
    {
        // 1,000 missed events of 16 KiB (16 MB): a reader that keeps up gets them all on the one connection. A
        // subscription is a cursor into the history, so a replay is not a burst into a bounded queue that cuts it.
        fixture = new ServerFixture(dir, b -> { });
        final String pad = "r".repeat(16 * 1024);
        int sent = 0;
        while (sent < 1_000)
        {
            final StringBuilder batch = new StringBuilder("[");
            for (int i = 0; i < 50; i++, sent++)
            {
                batch.append(i == 0 ? "" : ",").append("{\"user\":\"rex\",\"type\":\"app.chunk\",\"data\":{\"n\":")
                    .append(sent).append(",\"p\":\"").append(pad).append("\"}}");
            }
            assertEquals(202, fixture.publish(batch.append(']').toString()).statusCode());
        }
        final WsClient back = fixture.connectWith(Tokens.hs256("rex", 60_000), "after=0");
        back.next(5_000);
        final JsonNode resumed = back.nextOfType("resumed", 5_000);
        assertTrue(resumed.get("recovered").asBoolean());
        assertEquals(1, resumed.get("from").asLong());
        assertEquals(1_000, resumed.get("to").asLong());
        final List<JsonNode> replay = back.collect(WsClient::isEvent, 1_000, 60_000);
        for (int i = 0; i < replay.size(); i++)
        {
            assertEquals(i + 1, replay.get(i).get("seq").asLong());
            assertEquals(i, replay.get(i).get("data").get("n").asInt());
        }
        assertTrue(back.isOpen(), "the connection was not cut");
        assertEquals(0, fixture.server.metrics().slowConsumerCloses());
    }

    @Test
    void shouldBoundTheReplayWorkOneConnectionCanAskFor() throws Exception
    {
        // The audit: 178 resumes within the message rate made the server send 735 MB in 10 s. A resume now waits
        // for the previous one's replay to be sent, and a connection gets 1 per second (burst 3).
        fixture = new ServerFixture(dir, b -> b.inboundRatePerSec(1_000).inboundBurst(1_000));
        for (int i = 0; i < 10; i++)
        {
            fixture.publish(ServerFixture.runBatch("amp", "r" + i));
        }
        final WsClient socket = fixture.connect("amp");
        final long epoch = socket.next(5_000).get("epoch").asLong();
        for (int i = 0; i < 50; i++)
        {
            socket.send("{\"type\":\"resume\",\"epoch\":" + epoch + ",\"after\":0}");
        }
        // Each of the 50 is answered: resumed (its 50 events follow), or refused with a reason.
        final List<JsonNode> answers = socket.collect(m -> "resumed".equals(m.path("type").asText()) ||
            "error".equals(m.path("type").asText()), 50, 10_000);
        final long resumed = answers.stream().filter(m -> "resumed".equals(m.path("type").asText())).count();
        final long refused = answers.stream().filter(m -> m.has("code") &&
            ("resume_in_progress".equals(m.get("code").asText()) || "rate_limited".equals(m.get("code").asText())))
            .count();
        assertTrue(resumed >= 1 && resumed <= 3, "resumes answered: " + resumed);
        assertEquals(50 - resumed, refused);
        assertTrue(socket.isOpen());
    }

    @Test
    void shouldRefuseAMalformedCursorWith400() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { });
        assertEquals(400, WsClient.refusedStatus(fixture.ws("epoch=x&after=1"), Tokens.hs256("z", 60_000), null));
        assertEquals(400, WsClient.refusedStatus(fixture.ws("after=-5"), Tokens.hs256("z", 60_000), null));
    }
}
