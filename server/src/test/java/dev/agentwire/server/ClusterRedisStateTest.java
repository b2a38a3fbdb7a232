package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a node keeps in Redis, read back from the real redis-server: an id marked then taken back when its event is
 * refused, a run's expiry refreshed only when a quarter old, history trimmed by count while numbering goes on, the
 * publish function loaded again where it was lost, and streams left by earlier builds numbered on.
 */
@Timeout(120)
class ClusterRedisStateTest
{
    @TempDir
    Path dir;
    private RedisNodes cluster;
    private RedisProcess redis;

    @BeforeEach
    void startRedis() throws Exception
    {
        cluster = new RedisNodes(dir, false);
        redis = cluster.redis;
    }

    @AfterEach
    void tearDown() throws Exception
    {
        cluster.close();
    }

    @Test
    void shouldTakeBackARefusedEventsIdAndRefreshARunOnlyWhenItsLastRefreshIsAQuarterOld() throws Exception
    {
        final ServerFixture a = cluster.node("a");
        final String runKey = "aw:{u:rita}:run:2:r1";
        final String thinking = "{\"user\":\"rita\",\"type\":\"agent_thinking\",\"run_id\":\"r1\",\"id\":\"t1\"," +
            "\"data\":{\"text\":\"hm\"}}";
        // Refused (the run has not started): the id marked first is taken back, so the retry is not a duplicate.
        final HttpResponse<String> early = a.publish(thinking);
        assertEquals(422, early.statusCode(), early.body());
        assertEquals("run_not_started", ServerFixture.json(early).get("error").get("code").asText());
        assertEquals(":0", redis.command("EXISTS aw:{u:rita}:id:2:r1:t1"), "no mark left by the refused event");
        assertEquals(202, a.publish("{\"user\":\"rita\",\"type\":\"agent_started\",\"run_id\":\"r1\"," +
            "\"data\":{\"agent\":\"a\"}}").statusCode());
        final HttpResponse<String> retried = a.publish(thinking);
        assertEquals(202, retried.statusCode(), retried.body());
        assertEquals("accepted", ServerFixture.json(retried).get("results").get(0).get("status").asText());

        // An event that changes nothing leaves the run's expiry while its last refresh is less than a quarter old...
        assertEquals(":1", redis.command("PEXPIRE " + runKey + " 5000"));
        assertEquals(202, a.publish(thinking.replace("t1", "t2")).statusCode());
        final long kept = Long.parseLong(redis.command("PTTL " + runKey).substring(1));
        assertTrue(kept > 0 && kept <= 5_000, "not refreshed: " + kept);
        // ...and refreshes it to runRetentionMs (10 min) and a quarter once it is older.
        assertEquals(":0", redis.command("HSET " + runKey + " r 0000000000001"));
        assertEquals(202, a.publish(thinking.replace("t1", "t3")).statusCode());
        final long refreshed = Long.parseLong(redis.command("PTTL " + runKey).substring(1));
        assertTrue(refreshed > 600_000 && refreshed <= 750_000, "refreshed: " + refreshed);
    }

    @Test
    void shouldNumberOnFromAStreamWrittenBeforeHistoryWasAList() throws Exception
    {
        // How the previous version left a user's stream: epoch and last seq in the hash (field s), history elsewhere.
        assertEquals("+OK", redis.command("HMSET aw:{u:zoe}:s e 777 s 41"));
        final ServerFixture a = cluster.node("a");
        final WsClient zoe = a.connectWith(Tokens.hs256("zoe", 60_000), "epoch=777&after=41");
        assertEquals(777, zoe.nextOfType("welcome", 10_000).get("epoch").asLong());
        final HttpResponse<String> accepted = a.publish("{\"user\":\"zoe\",\"type\":\"app.note\",\"data\":{}}");
        assertEquals(202, accepted.statusCode());
        final JsonNode next = zoe.collect(WsClient::isEvent, 1, 10_000).get(0);
        assertEquals(777, next.get("epoch").asLong(), next.toString());
        assertEquals(42, next.get("seq").asLong(), "numbering goes on from the old stream's seq: " + next);
        assertEquals("+string", redis.command("TYPE aw:{u:zoe}:s"), "the old hash is rewritten as today's head");
        assertEquals(":1", redis.command("LLEN aw:{u:zoe}:l"), "the event is in the history list");
    }

    @Test
    void shouldNumberOnFromAStreamHeadThePreviousBuildKeptAsAHashAndKeepItsExpiry() throws Exception
    {
        final ServerFixture a = cluster.node("a");
        // How the previous build left a user's stream: epoch, base and last refresh (just now) in a hash, whose
        // expiry the new head keeps, and one event in history (a record another user's event made: records do not
        // name their user). Published to before anyone connects, so publish.lua is the first to read the head.
        assertEquals(202, a.publish("{\"user\":\"tmp\",\"type\":\"app.note\",\"data\":{\"n\":0}}").statusCode());
        final String refreshed = String.format("%013d", System.currentTimeMillis());
        assertEquals("+OK", redis.command("HMSET aw:{u:una}:s e 555 b 40 r " + refreshed));
        assertEquals(":1", redis.command("PEXPIRE aw:{u:una}:s 600000"));
        assertTrue(redis.command("LMOVE aw:{u:tmp}:l aw:{u:una}:l LEFT RIGHT").startsWith("$"));
        assertEquals(202, a.publish("{\"user\":\"una\",\"type\":\"app.note\",\"data\":{\"n\":1}}").statusCode());
        assertEquals("+string", redis.command("TYPE aw:{u:una}:s"));
        final long ttlMs = Long.parseLong(redis.command("PTTL aw:{u:una}:s").substring(1));
        assertTrue(ttlMs > 0 && ttlMs <= 600_000, "the old head's expiry is kept: " + ttlMs);

        final WsClient una = a.connectWith(Tokens.hs256("una", 60_000), "epoch=555&after=40");
        final JsonNode welcome = una.nextOfType("welcome", 10_000);
        assertEquals(555, welcome.get("epoch").asLong(), welcome.toString());
        final JsonNode resumed = una.nextOfType("resumed", 10_000);
        assertTrue(resumed.get("recovered").asBoolean(), "the cursor of the old stream is still good: " + resumed);
        final List<JsonNode> events = una.collect(WsClient::isEvent, 2, 10_000);
        for (int i = 0; i < 2; i++)
        {
            assertEquals(555, events.get(i).get("epoch").asLong(), events.get(i).toString());
            assertEquals(41 + i, events.get(i).get("seq").asLong(), "numbered on from the old base");
            assertEquals(i, events.get(i).get("data").get("n").asInt());
        }
    }

    @Test
    void shouldNumberALiveStreamOnAcrossATrimByCount() throws Exception
    {
        // History bounded by count only (5 kept, trimmed past 6): an age bound would age events out under load.
        final ServerFixture a =
            cluster.node("a", b -> { }, AgentWireConfig.builder().sliceCount(2).historyMaxEvents(5));
        final WsClient live = a.connect("ivy");
        live.nextOfType("welcome", 10_000);
        // One event at a time, each awaited: a burst of 8 into a history of 5 may lap a connection whose I/O thread
        // has not run yet, which the engine then cuts (4004, slow consumer), as it should (a CI run did).
        final List<Long> seqs = new java.util.ArrayList<>();
        for (int n = 1; n <= 8; n++)
        {
            assertEquals(202, a.publish("{\"user\":\"ivy\",\"type\":\"app.note\",\"data\":{\"n\":" + n + "}}")
                .statusCode());
            seqs.add(live.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        }
        // The 7th event is the one that trims: its place is counted from the new base.
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), seqs);
        assertEquals(":6", redis.command("LLEN aw:{u:ivy}:l"), "trimmed to 5 at the 7th event, then the 8th");
    }

    @Test
    void shouldLoadThePublishFunctionAgainOnARedisThatLostIt() throws Exception
    {
        final ServerFixture a = cluster.node("a");
        final WsClient fay = a.connect("fay");
        fay.next(10_000);
        assertEquals("*0", redis.command("FUNCTION LIST LIBRARYNAME agentwire_publish_*"), "loaded when first called");
        assertEquals(202, a.publish("{\"user\":\"fay\",\"type\":\"app.note\",\"data\":{}}").statusCode());
        assertEquals(1, fay.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        assertEquals("*1", redis.command("FUNCTION LIST LIBRARYNAME agentwire_publish_*"));

        // As after a restart without persistence, or on a shard new to the cluster: the data kept, the function not.
        assertEquals("+OK", redis.command("FUNCTION FLUSH"));
        assertEquals(202, a.publish("{\"user\":\"fay\",\"type\":\"app.note\",\"data\":{}}").statusCode());
        assertEquals(2, fay.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong(), "numbered on");
        assertEquals("*1", redis.command("FUNCTION LIST LIBRARYNAME agentwire_publish_*"), "loaded again");
        assertEquals(0, a.metric("agentwire_cluster_redis_errors_total"), "no publish failed");
    }
}
