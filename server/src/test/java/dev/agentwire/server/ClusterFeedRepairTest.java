package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node whose subscription to Redis missed events fills the gap from the user's history, with the client's socket
 * kept, also for a user it holds only from a resume (its history fetched from Redis, nothing yet from the channel).
 * Before the feed was told what a resume fetched, such a stream restarted and its clients were closed with 1012,
 * to reconnect and resume: nothing lost, but every such user dropped by a blip of one connection.
 */
@Timeout(120)
class ClusterFeedRepairTest
{
    private static final String PASSWORD = "feed-repair-password-0123";
    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();


    @Test
    void shouldFillAGapFromHistoryForAUserItHoldsOnlyFromAResumeAndKeepItsSocket() throws Exception
    {
        final RedisProcess redis = closing.add(new RedisProcess(Files.createDirectories(dir.resolve("redis")), false));
        // Node a is its own Redis user, so that its connections alone can be cut and kept out for a while.
        assertEquals("+OK", redis.command("ACL SETUSER node-a on >" + PASSWORD + " ~* &* +@all"));
        final ServerFixture a = node("a", "redis://node-a:" + PASSWORD + "@127.0.0.1:" + redis.port);
        final ServerFixture b = node("b", redis.url());

        final WsClient first = b.connect("resumer");
        final long epoch = first.nextOfType("welcome", 10_000).get("epoch").asLong();
        assertEquals(202, b.publish(ServerFixture.runBatch("resumer", "r1")).statusCode());
        assertEquals(5, first.collect(WsClient::isEvent, 5, 10_000).size());
        first.close();
        final WsClient back = a.connectWith(Tokens.hs256("resumer", 60_000), "epoch=" + epoch + "&after=2");
        back.nextOfType("welcome", 10_000);
        assertTrue(back.nextOfType("resumed", 10_000).get("recovered").asBoolean());
        assertEquals(List.of(3L, 4L, 5L),
            back.collect(WsClient::isEvent, 3, 10_000).stream().map(e -> e.get("seq").asLong()).toList());

        // Node a's connections cut and kept out while the user's next event is published through b.
        assertEquals("+OK", redis.command("ACL SETUSER node-a off"));
        assertTrue(redis.command("CLIENT KILL USER node-a").matches(":[1-9][0-9]*"), "node a's connections cut");
        assertEquals(202, b.publish("{\"user\":\"resumer\",\"type\":\"app.note\",\"id\":\"gap\",\"data\":{}}")
            .statusCode());
        assertEquals("+OK", redis.command("ACL SETUSER node-a on"));

        // Back, node a learns the stream moved on while it was away, and fills the gap on the same socket.
        final JsonNode missed = back.collect(WsClient::isEvent, 1, 20_000).get(0);
        assertEquals(6, missed.get("seq").asLong());
        assertEquals(epoch, missed.get("epoch").asLong());
        assertEquals("app.note", missed.get("type").asText());
        // Counted on the feed's thread just after it hands the event on: awaited, not read once (a fresh-clone build
        // read 0 here, the count a moment behind the delivery on a loaded machine).
        RecordingAwait.until(() -> a.metric("agentwire_cluster_feed_repaired_total") == 1, 5_000, "filled from history");
        assertEquals(0, a.metric("agentwire_engine_stream_resets_total"), "the stream was not restarted");
        assertTrue(back.isOpen(), "the socket was kept");
    }

    @Test
    void shouldMoveAStreamToANewEpochWhenAResumingClientHoldsSeqsRedisLost() throws Exception
    {
        final RedisProcess redis = closing.add(new RedisProcess(Files.createDirectories(dir.resolve("redis")), false));
        final ServerFixture a = node("a", redis.url());
        final ServerFixture b = node("b", redis.url());
        final WsClient first = a.connect("forgotten");
        final long epoch = first.nextOfType("welcome", 10_000).get("epoch").asLong();
        for (int run = 0; run < 2; run++)
        {
            assertEquals(202, a.publish(ServerFixture.runBatch("forgotten", "r" + run)).statusCode());
        }
        assertEquals(10, first.collect(WsClient::isEvent, 10, 10_000).size());
        first.close();
        // Redis loses the last five events, as a replica promoted before it had them would.
        assertEquals("+OK", redis.command("LTRIM aw:{u:forgotten}:l 0 4"));

        // The client resumes on a node that never saw the stream: its cursor (10) is past what Redis holds (5).
        final WsClient back = b.connectWith(Tokens.hs256("forgotten", 60_000), "epoch=" + epoch + "&after=10");
        final JsonNode welcome = back.nextOfType("welcome", 10_000);
        final JsonNode resumed = back.nextOfType("resumed", 10_000);
        assertTrue(!resumed.get("recovered").asBoolean(), "the loss is announced: " + resumed);
        final long newEpoch = welcome.get("epoch").asLong();
        assertNotEquals(epoch, newEpoch, "a new epoch, so no seq is given twice in one");
        final List<JsonNode> kept = back.collect(WsClient::isEvent, 5, 10_000);
        assertEquals(newEpoch, kept.get(0).get("epoch").asLong());
        assertEquals(1, kept.get(0).get("seq").asLong());
        // The next event is numbered in the new epoch, after what Redis kept.
        final String ack = a.publish("{\"user\":\"forgotten\",\"type\":\"app.note\",\"data\":{}}").body();
        assertTrue(ack.contains("\"epoch\":" + newEpoch + ",\"seq\":6"), ack);
        final JsonNode next = back.collect(WsClient::isEvent, 1, 10_000).get(0);
        assertEquals(newEpoch, next.get("epoch").asLong());
        assertEquals(6, next.get("seq").asLong());
    }

    private ServerFixture node(final String name, final String url) throws Exception
    {
        return closing.add(ServerFixture.clusterNode(dir, name, url));
    }
}
