package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes over a real sharded Redis Cluster of three primaries (redis-server --cluster-enabled, made by
 * redis-cli --cluster create): every user's stream on its own shard, delivery and order across nodes and shards,
 * resume on another node, and rooms and broadcasts whose members live on different shards. The same code path as
 * over a single Redis ({@link ClusterTest}).
 */
@Timeout(180)
class RedisClusterTest
{
    @TempDir
    Path dir;
    private RedisClusterProcess redis;
    private final List<ServerFixture> nodes = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception
    {
        for (final ServerFixture node : nodes)
        {
            node.close();
        }
        if (redis != null)
        {
            redis.close();
        }
    }

    private ServerFixture node(final String name) throws Exception
    {
        final ServerFixture node = new ServerFixture(Files.createDirectories(dir.resolve(name)), b -> b
            .redisUrl(redis.url()).nodeId(name).maxConnectionsPerIp(10_000).producerRatePerSec(1_000_000)
            .producerBurst(1_000_000), AgentWireConfig.builder().sliceCount(2));
        nodes.add(node);
        return node;
    }

    /** @return the shard (primary's port) that holds a user's stream. */
    private int shardOf(final String user) throws Exception
    {
        return redis.primaryOf(SlotHash.getSlot("aw:{u:" + user + "}:s")).port;
    }

    @Test
    void shouldDeliverEveryUsersRunsInOrderAcrossShardsAndNodesAndResumeOnAnotherNode() throws Exception
    {
        redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        final int users = 24;
        final Set<Integer> shards = new HashSet<>();
        final WsClient[][] devices = new WsClient[users][2];
        for (int u = 0; u < users; u++)
        {
            shards.add(shardOf("user-" + u));
            devices[u][0] = a.connect("user-" + u);
            devices[u][1] = b.connect("user-" + u);
        }
        assertEquals(3, shards.size(), "the users' streams live on every shard");
        for (int u = 0; u < users; u++)
        {
            for (int d = 0; d < 2; d++)
            {
                assertEquals("welcome", devices[u][d].next(10_000).get("type").asText());
            }
        }
        // One batch to many users on every shard, then each user's runs through alternating nodes.
        final StringBuilder notes = new StringBuilder("[");
        for (int u = 0; u < users; u++)
        {
            notes.append(u == 0 ? "" : ",").append("{\"user\":\"user-").append(u)
                .append("\",\"type\":\"app.note\",\"id\":\"n-").append(u).append("\",\"data\":{\"n\":0}}");
        }
        final HttpResponse<String> spread = a.publish(notes.append(']').toString());
        assertEquals(202, spread.statusCode(), spread.body());
        assertEquals(users, ServerFixture.json(spread).get("accepted").asInt());
        for (int run = 0; run < 3; run++)
        {
            for (int u = 0; u < users; u++)
            {
                final ServerFixture via = (u + run) % 2 == 0 ? a : b;
                final HttpResponse<String> response = via.publish(ServerFixture.runBatch("user-" + u, "u" + u + "-r" + run));
                assertEquals(202, response.statusCode(), response.body());
            }
        }
        final int expected = 1 + 3 * 5;
        for (int u = 0; u < users; u++)
        {
            for (int d = 0; d < 2; d++)
            {
                final List<JsonNode> events = devices[u][d].collect(WsClient::isEvent, expected, 30_000);
                for (int i = 0; i < expected; i++)
                {
                    assertEquals(i + 1, events.get(i).get("seq").asLong(), "user " + u + " device " + d);
                    if (i > 0)
                    {
                        assertEquals("u" + u + "-r" + ((i - 1) / 5), events.get(i).get("run_id").asText());
                    }
                }
            }
        }
        // The same ids again: duplicates on every shard, nothing delivered twice.
        final HttpResponse<String> again = b.publish(notes.toString());
        assertEquals(202, again.statusCode(), again.body());
        assertEquals(0, ServerFixture.json(again).get("accepted").asInt(), again.body());

        // A device of user-0 that leaves node a resumes on node b from its cursor: no gap, no duplicate.
        devices[0][0].close();
        assertEquals(202, a.publish(ServerFixture.runBatch("user-0", "late")).statusCode());
        final List<JsonNode> seenOnB = devices[0][1].collect(WsClient::isEvent, 5, 10_000);
        final long streamEpoch = seenOnB.get(0).get("epoch").asLong();
        final WsClient back = b.connectWith(Tokens.hs256("user-0", 60_000),
            "epoch=" + streamEpoch + "&after=" + expected);
        back.nextOfType("welcome", 10_000);
        final JsonNode resumed = back.nextOfType("resumed", 10_000);
        assertTrue(resumed.get("recovered").asBoolean(), resumed.toString());
        final List<JsonNode> rest = back.collect(WsClient::isEvent, 5, 10_000);
        for (int i = 0; i < 5; i++)
        {
            assertEquals(expected + 1 + i, rest.get(i).get("seq").asLong());
            assertEquals("late", rest.get(i).get("run_id").asText());
        }

        // A native AG-UI run of a user on each shard: started through one node, continued and finished through the
        // other, and not started twice (its state is kept on its user's shard, docs/CLUSTER.md).
        final Set<Integer> runShards = new HashSet<>();
        for (int u = 0; u < users; u++)
        {
            if (!runShards.add(shardOf("user-" + u)))
            {
                continue;
            }
            final String user = "{\"user\":\"user-" + u + "\",";
            final String started = user + "\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"ag\"}]}";
            assertEquals(202, a.post("/v1/ag-ui/events", started, Tokens.PRODUCER_KEY).statusCode());
            assertEquals(422, b.post("/v1/ag-ui/events", started, Tokens.PRODUCER_KEY).statusCode());
            final HttpResponse<String> finished = b.post("/v1/ag-ui/events", user + "\"runId\":\"ag\",\"events\":[" +
                "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"ag\"}]}", Tokens.PRODUCER_KEY);
            assertEquals(202, finished.statusCode(), finished.body());
        }
        assertEquals(3, runShards.size());

        // A stream head the previous build kept as a hash, on its user's shard: numbered on from, read as it is
        // probed (one GET per stream there, which finds the hash) and rewritten as today's string.
        final RedisClusterInstance oldShard = redis.primaryOf(SlotHash.getSlot("aw:{u:old}:s"));
        assertEquals("3", oldShard.cli("HSET", "aw:{u:old}:s", "e", "555", "b", "40", "r", "0000000000001").trim());
        assertEquals(202, a.publish("{\"user\":\"old\",\"type\":\"app.note\",\"data\":{}}").statusCode());
        assertEquals("string", oldShard.cli("TYPE", "aw:{u:old}:s").trim());
        final WsClient old = b.connectWith(Tokens.hs256("old", 60_000), "epoch=555&after=40");
        assertEquals(555, old.nextOfType("welcome", 10_000).get("epoch").asLong());
        assertTrue(old.nextOfType("resumed", 10_000).get("recovered").asBoolean());
        final JsonNode numbered = old.collect(WsClient::isEvent, 1, 10_000).get(0);
        assertEquals(41, numbered.get("seq").asLong(), numbered.toString());
        assertEquals(555, numbered.get("epoch").asLong(), numbered.toString());
    }

    @Test
    void shouldNumberRoomAndBroadcastEventsForMembersOnEveryShardExactlyOnce() throws Exception
    {
        redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        // Members whose streams live on three different shards, connected to both nodes.
        final List<String> members = membersOnEveryShard();
        final List<WsClient> clients = new ArrayList<>();
        for (int i = 0; i < members.size(); i++)
        {
            final WsClient client = (i % 2 == 0 ? a : b).connect(members.get(i), "crew");
            client.next(10_000);
            assertEquals(204, (i % 2 == 0 ? b : a).send("PUT", "/v1/rooms/crew/members/" + members.get(i)).statusCode());
            assertEquals("crew", client.nextOfType("joined", 10_000).get("room").asText());
            clients.add(client);
        }
        final WsClient outsider = a.connect("outsider");
        outsider.next(10_000);

        final String roomEvent = "{\"room\":\"crew\",\"type\":\"app.note\",\"id\":\"crew-1\",\"data\":{\"to\":\"crew\"}}";
        final HttpResponse<String> toRoom = b.publish(roomEvent);
        assertEquals(202, toRoom.statusCode(), toRoom.body());
        assertEquals(members.size(), ServerFixture.json(toRoom).get("results").get(0).get("seqs").size(), toRoom.body());
        // A retry with the same id (a producer that timed out) is a duplicate: no member gets it twice.
        final HttpResponse<String> retried = a.publish(roomEvent);
        assertEquals(202, retried.statusCode(), retried.body());
        assertEquals("duplicate", ServerFixture.json(retried).get("results").get(0).get("status").asText(),
            retried.body());

        final HttpResponse<String> toAll = a.publish("{\"broadcast\":true,\"type\":\"app.notice\",\"data\":{}}");
        assertEquals(202, toAll.statusCode(), toAll.body());
        assertEquals(members.size() + 1, ServerFixture.json(toAll).get("results").get(0).get("seqs").size(),
            toAll.body());
        for (final WsClient client : clients)
        {
            final List<JsonNode> events = client.collect(WsClient::isEvent, 2, 10_000);
            assertEquals("crew", events.get(0).get("room").asText());
            assertEquals(1, events.get(0).get("seq").asLong());
            assertEquals(2, events.get(1).get("seq").asLong());
        }
        assertEquals(1, outsider.collect(WsClient::isEvent, 1, 10_000).get(0).get("seq").asLong());
        Thread.sleep(300);
        for (final WsClient client : clients)
        {
            assertFalse(client.messages.stream().anyMatch(WsClient::isEvent), "nothing twice: " + client.messages);
        }
        assertFalse(outsider.messages.stream().anyMatch(WsClient::isEvent), "the outsider is not in the room");
    }

    @Test
    void shouldKeepABatchsOrderForEveryMemberWhenItsRoomEventsReachEveryShard() throws Exception
    {
        redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0);
        final ServerFixture a = node("a");
        final ServerFixture b = node("b");
        // Members on three shards, all in crew, every other one also in a second room, whose owner is on
        // another shard than crew's.
        String ops = "ops";
        for (int r = 0; shardOfRoom(ops) == shardOfRoom("crew"); r++)
        {
            ops = "ops-" + r;
        }
        final List<String> members = membersOnEveryShard();
        final List<WsClient> clients = new ArrayList<>();
        for (int i = 0; i < members.size(); i++)
        {
            final WsClient client = (i % 2 == 0 ? a : b).connect(members.get(i), "crew", ops);
            client.next(10_000);
            for (final String room : i % 2 == 0 ? List.of("crew", ops) : List.of("crew"))
            {
                assertEquals(204, b.send("PUT", "/v1/rooms/" + room + "/members/" + members.get(i)).statusCode());
                assertEquals(room, client.nextOfType("joined", 10_000).get("room").asText());
            }
            clients.add(client);
        }

        // One batch, in this order: each room event reaches members on every shard, and each member must see the
        // batch's events in the batch's order, the user's own event among them.
        final String batch = "[" +
            "{\"room\":\"crew\",\"type\":\"app.step\",\"id\":\"c1\",\"data\":{\"n\":1}}," +
            "{\"room\":\"" + ops + "\",\"type\":\"app.step\",\"id\":\"o1\",\"data\":{\"n\":2}}," +
            "{\"user\":\"" + members.get(0) + "\",\"type\":\"app.step\",\"data\":{\"n\":3}}," +
            "{\"room\":\"crew\",\"type\":\"app.step\",\"data\":{\"n\":4}}," +
            "{\"broadcast\":true,\"type\":\"app.step\",\"data\":{\"n\":5}}," +
            "{\"room\":\"crew\",\"type\":\"app.step\",\"id\":\"c2\",\"data\":{\"n\":6}}]";
        final HttpResponse<String> answer = a.publish(batch);
        assertEquals(202, answer.statusCode(), answer.body());
        final JsonNode results = ServerFixture.json(answer).get("results");
        final int all = members.size();
        final int[] recipients = {all, (all + 1) / 2, 1, all, all, all};
        for (int e = 0; e < recipients.length; e++)
        {
            assertEquals(recipients[e], results.get(e).get("seqs").size(), answer.body());
        }
        for (int i = 0; i < members.size(); i++)
        {
            final List<Integer> expected = new ArrayList<>(List.of(1));
            if (i % 2 == 0)
            {
                expected.add(2);
            }
            if (i == 0)
            {
                expected.add(3);
            }
            expected.addAll(List.of(4, 5, 6));
            final List<JsonNode> events = clients.get(i).collect(WsClient::isEvent, expected.size(), 10_000);
            for (int k = 0; k < expected.size(); k++)
            {
                assertEquals(expected.get(k).intValue(), events.get(k).get("data").get("n").asInt(),
                    members.get(i) + ": " + events);
                assertEquals(k + 1, events.get(k).get("seq").asLong(), members.get(i) + ": " + events);
            }
        }

        // Forty room events in one batch, the two rooms in turn: two rounds of script calls per window of 16 (counted
        // by the shards), where going step by step takes two per event.
        final long callsBefore = publishCalls();
        final StringBuilder many = new StringBuilder("[");
        for (int e = 0; e < 40; e++)
        {
            many.append(e == 0 ? "" : ",").append("{\"room\":\"").append(e % 2 == 0 ? "crew" : ops)
                .append("\",\"type\":\"app.step\",\"data\":{\"n\":").append(100 + e).append("}}");
        }
        final HttpResponse<String> manyAnswer = b.publish(many.append(']').toString());
        assertEquals(202, manyAnswer.statusCode(), manyAnswer.body());
        final long calls = publishCalls() - callsBefore;
        assertTrue(calls <= 15, "script calls for the batch: " + calls + " (three windows: two owners' shards, then " +
            "three shards)");
        for (int i = 0; i < members.size(); i++)
        {
            final List<JsonNode> events = clients.get(i).collect(WsClient::isEvent, i % 2 == 0 ? 40 : 20, 10_000);
            for (int k = 1; k < events.size(); k++)
            {
                assertTrue(events.get(k).get("data").get("n").asInt() > events.get(k - 1).get("data").get("n").asInt(),
                    members.get(i) + ": " + events);
            }
        }
        Thread.sleep(300);
        for (final WsClient client : clients)
        {
            assertFalse(client.messages.stream().anyMatch(WsClient::isEvent), "nothing twice: " + client.messages);
        }

        // Two rooms of the same 40 members, none connected (numbered all the same), on two owners' shards. Thirty
        // events to one of them go step by step, in a part that publish.lua stops once it answered back 512 members
        // of other shards (about 27 an event), then a part of the rest; twenty to both in turn go in two rounds, the
        // first window's second round in two parts (640 recipients). Each member's seqs, as the answers give them,
        // follow the batches' order.
        String yard = "yard";
        for (int r = 0; shardOfRoom(yard) == shardOfRoom("hall"); r++)
        {
            yard = "yard-" + r;
        }
        for (int m = 0; m < 40; m++)
        {
            for (final String room : List.of("hall", yard))
            {
                assertEquals(204, a.send("PUT", "/v1/rooms/" + room + "/members/guest-" + m).statusCode());
            }
        }
        final StringBuilder toHall = new StringBuilder("[");
        final StringBuilder toBoth = new StringBuilder("[");
        for (int e = 0; e < 30; e++)
        {
            toHall.append(e == 0 ? "" : ",").append("{\"room\":\"hall\",\"type\":\"app.step\",\"data\":{}}");
        }
        for (int e = 0; e < 20; e++)
        {
            toBoth.append(e == 0 ? "" : ",").append("{\"room\":\"").append(e % 2 == 0 ? "hall" : yard)
                .append("\",\"type\":\"app.step\",\"data\":{}}");
        }
        int before = 0;
        for (final String big : List.of(toHall.append(']').toString(), toBoth.append(']').toString()))
        {
            final HttpResponse<String> bigAnswer = a.publish(big);
            assertEquals(202, bigAnswer.statusCode(), bigAnswer.body());
            final JsonNode bigResults = ServerFixture.json(bigAnswer).get("results");
            final int events = bigResults.size();
            for (int e = 0; e < events; e++)
            {
                final JsonNode seqs = bigResults.get(e).get("seqs");
                assertEquals(40, seqs.size(), "event " + e + ": " + bigAnswer.body());
                for (final JsonNode seq : seqs)
                {
                    assertEquals(before + e + 1, seq.get("seq").asLong(), "event " + e + " for " + seq);
                }
            }
            before += events;
        }
    }

    /**
     * A member's shard refuses writes (out of memory: the whole script call, nothing written): a room's events,
     * admitted on the room's shard and numbered elsewhere, are outcome unknown; that shard's user's, unavailable.
     * Retried with the same ids once the shard takes writes, each member has each event once, in order.
     */
    @Test
    void shouldSayOutcomeUnknownWhenAMembersShardRefusesARoomEventAndNumberItOnceOnRetry() throws Exception
    {
        redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0);
        final ServerFixture a = node("a");
        final List<String> members = membersOnEveryShard();
        final List<WsClient> clients = new ArrayList<>();
        for (final String member : members)
        {
            final WsClient client = a.connect(member, "crew");
            client.next(10_000);
            assertEquals(204, a.send("PUT", "/v1/rooms/crew/members/" + member).statusCode());
            assertEquals("crew", client.nextOfType("joined", 10_000).get("room").asText());
            clients.add(client);
        }
        // A member whose stream is on another shard than the room's: its shard will refuse.
        String refused = null;
        for (final String member : members)
        {
            if (shardOf(member) != shardOfRoom("crew"))
            {
                refused = member;
            }
        }
        final RedisClusterInstance shard = redis.primaryOf(SlotHash.getSlot("aw:{u:" + refused + "}:s"));

        final String pair = "[{\"room\":\"crew\",\"type\":\"app.step\",\"id\":\"c1\",\"data\":{\"n\":1}}," +
            "{\"room\":\"crew\",\"type\":\"app.step\",\"id\":\"c2\",\"data\":{\"n\":2}}]";
        final String single = "{\"room\":\"crew\",\"type\":\"app.step\",\"id\":\"c3\",\"data\":{\"n\":3}}";
        final String own = "{\"user\":\"" + refused + "\",\"type\":\"app.step\",\"id\":\"u4\",\"data\":{\"n\":4}}";
        assertEquals("OK", shard.cli("CONFIG", "SET", "maxmemory", "1").trim());
        final List<HttpResponse<String>> refusedAnswers = new ArrayList<>();
        try
        {
            // Two room events (the batch's two rounds), one alone (its step), one to the refusing shard's user.
            for (final String request : List.of(pair, single, own))
            {
                refusedAnswers.add(a.publish(request));
            }
        }
        finally
        {
            assertEquals("OK", shard.cli("CONFIG", "SET", "maxmemory", "0").trim());
        }
        for (int r = 0; r < 3; r++)
        {
            final HttpResponse<String> answer = refusedAnswers.get(r);
            assertEquals(503, answer.statusCode(), answer.body());
            final JsonNode body = ServerFixture.json(answer);
            assertEquals(r < 2 ? "outcome_unknown" : "unavailable", body.get("error").get("code").asText(),
                answer.body());
            assertEquals(r < 2 ? "outcome_unknown" : "not_attempted",
                body.get("results").get(0).get("status").asText(), answer.body());
            assertEquals(0, body.get("accepted").asInt(), answer.body());
            // The room's events name the members they were numbered for: those of the shards that took writes.
            final int numbered = body.get("results").get(0).get("seqs").size();
            assertTrue(r < 2 ? numbered > 0 && numbered < members.size() : numbered == 0, answer.body());
        }

        for (final String request : List.of(pair, single, own))
        {
            final HttpResponse<String> answer = a.publish(request);
            assertEquals(202, answer.statusCode(), answer.body());
        }
        for (int i = 0; i < members.size(); i++)
        {
            final List<Integer> expected = new ArrayList<>(List.of(1, 2, 3));
            if (members.get(i).equals(refused))
            {
                expected.add(4);
            }
            final List<JsonNode> events = clients.get(i).collect(WsClient::isEvent, expected.size(), 10_000);
            final List<Integer> got = events.stream().map(e -> e.get("data").get("n").asInt()).toList();
            assertEquals(expected, got, members.get(i) + ": " + events);
            for (int k = 0; k < events.size(); k++)
            {
                assertEquals(k + 1, events.get(k).get("seq").asLong(), members.get(i) + ": " + events);
            }
        }
        Thread.sleep(300);
        for (final WsClient client : clients)
        {
            assertFalse(client.messages.stream().anyMatch(WsClient::isEvent), "nothing twice: " + client.messages);
        }
    }

    /** @return six or more users whose streams live on all three shards. */
    private List<String> membersOnEveryShard() throws Exception
    {
        final List<String> members = new ArrayList<>();
        final Set<Integer> shards = new HashSet<>();
        for (int u = 0; shards.size() < 3 || members.size() < 6; u++)
        {
            final String user = "member-" + u;
            if (shards.add(shardOf(user)) || members.size() < 6)
            {
                members.add(user);
            }
        }
        return members;
    }

    private int shardOfRoom(final String room) throws Exception
    {
        return redis.primaryOf(SlotHash.getSlot("aw:{r:" + room + "}")).port;
    }

    /** @return publish.lua's calls (FCALL) on the three primaries so far. */
    private long publishCalls() throws Exception
    {
        long calls = 0;
        // One slot of each primary's third (redis-cli --cluster create splits the slots evenly).
        for (final int slot : new int[] {0, 8192, 16383})
        {
            final String stats = redis.primaryOf(slot).cli("INFO", "commandstats");
            final String field = "cmdstat_fcall:calls=";
            final int at = stats.indexOf(field);
            if (at >= 0)
            {
                calls += Long.parseLong(stats.substring(at + field.length(), stats.indexOf(',', at)));
            }
        }
        return calls;
    }
}
