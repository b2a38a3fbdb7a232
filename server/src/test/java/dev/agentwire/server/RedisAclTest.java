package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nodes run as the Redis user docs/CLUSTER.md tells operators to make ("A Redis user for the nodes"): the line is
 * read from the document and run as it stands on a real redis-server, then every path a node takes is walked —
 * publish, delivery across nodes, a room, a user's message to a runtime on the other node, a resume, the settings
 * check — and Redis's ACL log must hold no refusal. The password given in the URL never reaches the log. The same
 * user on every instance of a real Redis Cluster of three primaries serves users and a room on every shard, and
 * keeps every user's events whole and in order while 64 slots migrate ({@code redis-cli --cluster reshard}).
 */
@Timeout(120)
class RedisAclTest
{
    private static final String PASSWORD = "acl-test-password-0123456789";
    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();


    @Test
    void shouldWalkEveryPathAsTheDocumentedUserWithNoCommandRefusedAndThePasswordNeverLogged() throws Exception
    {
        final RedisProcess redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false);
        closing.add(redis);
        final String acl = documentedAcl();
        assertTrue(acl.contains(" >change-me "), acl);
        assertEquals("OK", cli(redis.port, acl.replace(" >change-me ", " >" + PASSWORD + " ").split(" ")).trim());
        final String url = "redis://agentwire:" + PASSWORD + "@127.0.0.1:" + redis.port;

        final PrintStream console = System.out;
        final ByteArrayOutputStream logged = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new Tee(console, logged), true, StandardCharsets.UTF_8));
        try
        {
            final ServerFixture a = node("a", url);
            final ServerFixture b = node("b", url);
            final WsClient user = b.connect("acl-user", "crew");
            final JsonNode welcome = user.nextOfType("welcome", 10_000);
            assertEquals(202, a.publish(ServerFixture.runBatch("acl-user", "r1")).statusCode());
            assertEquals(5, user.collect(WsClient::isEvent, 5, 10_000).size());

            assertEquals(204, a.send("PUT", "/v1/rooms/crew/members/acl-user").statusCode());
            assertEquals("crew", user.nextOfType("joined", 10_000).get("room").asText());
            assertEquals(202, b.publish("{\"room\":\"crew\",\"type\":\"app.note\",\"id\":\"n1\",\"data\":{}}")
                .statusCode());
            assertEquals("crew", user.collect(WsClient::isEvent, 1, 10_000).get(0).get("room").asText());

            assertTrue(reachesRuntime(a.producerSocket(), user), "a user's message through b reached a's runtime");

            final WsClient back = a.connectWith(Tokens.hs256("acl-user", 60_000, "crew"),
                "epoch=" + welcome.get("epoch").asLong() + "&after=0");
            back.nextOfType("welcome", 10_000);
            assertTrue(back.nextOfType("resumed", 10_000).get("recovered").asBoolean());
            assertEquals(6, back.collect(WsClient::isEvent, 6, 10_000).get(5).get("seq").asLong());

            assertEquals(1, a.metric("agentwire_cluster_redis_unsafe_settings"), "read: no append-only file");
            assertEquals(0, a.metric("agentwire_cluster_redis_errors_total"));
            assertEquals(0, b.metric("agentwire_cluster_redis_errors_total"));
        }
        finally
        {
            System.setOut(console);
        }
        assertEquals("", cli(redis.port, "ACL", "LOG").trim(), "no command or key the nodes used was refused");
        final String log = logged.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("cluster node: node=a"), "the nodes' log was captured");
        assertFalse(log.contains(PASSWORD), "the password is never logged");
    }

    @Test
    void shouldServeEveryShardOfARedisClusterAsTheDocumentedUserWhileSlotsMigrate() throws Exception
    {
        final RedisClusterProcess redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0);
        closing.add(redis);
        final String[] acl = documentedAcl().replace(" >change-me ", " >" + PASSWORD + " ").split(" ");
        for (final RedisClusterInstance instance : redis.instances)
        {
            assertEquals("OK", cli(instance.port, acl).trim(), "ACLs are per instance");
        }
        final String url = "redis://agentwire:" + PASSWORD + "@127.0.0.1:" + redis.instances.get(0).port;
        final ServerFixture a = node("a", url);
        final ServerFixture b = node("b", url);

        final List<WsClient> users = new ArrayList<>();
        final java.util.Set<Integer> shards = new java.util.HashSet<>();
        for (int u = 0; u < 12; u++)
        {
            final String name = "acl-" + u;
            shards.add(redis.primaryOf(SlotMoves.slotOfUser(name)).port);
            final WsClient user = b.connect(name, "crew");
            user.nextOfType("welcome", 10_000);
            assertEquals(204, a.send("PUT", "/v1/rooms/crew/members/" + name).statusCode());
            user.nextOfType("joined", 10_000);
            users.add(user);
            assertEquals(202, a.publish("{\"user\":\"" + name + "\",\"type\":\"app.note\",\"id\":\"u" + u +
                "\",\"data\":{}}").statusCode());
        }
        assertEquals(3, shards.size(), "users on every shard");
        assertEquals(202, b.publish("{\"room\":\"crew\",\"type\":\"app.note\",\"id\":\"c1\",\"data\":{}}")
            .statusCode());
        for (final WsClient user : users)
        {
            final List<JsonNode> events = user.collect(WsClient::isEvent, 2, 10_000);
            assertEquals(2, events.get(1).get("seq").asLong());
        }

        // Slots migrate while events keep coming (redis-cli moves them as the default user; the nodes follow the
        // redirects as theirs).
        final int rounds = 20;
        final List<String> names = new ArrayList<>();
        for (int u = 0; u < users.size(); u++)
        {
            names.add("acl-" + u);
        }
        final RoundPublisher publisher = new RoundPublisher(a, names, rounds);
        redis.reshard(new java.util.Random(3), 64);
        assertNull(publisher.await(TimeUnit.SECONDS.toMillis(60)), "every round accepted");
        for (final WsClient user : users)
        {
            final List<JsonNode> events = user.collect(WsClient::isEvent, rounds, 20_000);
            for (int r = 0; r < rounds; r++)
            {
                assertEquals(3 + r, events.get(r).get("seq").asLong(), events.toString());
            }
        }
        for (final RedisClusterInstance instance : redis.instances)
        {
            assertEquals("", cli(instance.port, "ACL", "LOG").trim(), "nothing refused on port " + instance.port);
        }
    }


    /** A runtime on one node learns of a user's message on the other through Redis (it may take a heartbeat). */
    private static boolean reachesRuntime(final WsClient runtime, final WsClient user) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline)
        {
            user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"hello\"}}");
            JsonNode message = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
            while (message != null)
            {
                if ("user_message".equals(message.get("type").asText()))
                {
                    return "acl-user".equals(message.get("user").asText());
                }
                message = runtime.messages.poll(500, TimeUnit.MILLISECONDS);
            }
            user.messages.removeIf(m -> "error".equals(m.get("type").asText()));
        }
        return false;
    }

    /** @return the ACL line under docs/CLUSTER.md's marker, as an operator would paste it. */
    static String documentedAcl() throws Exception
    {
        final List<String> lines = Files.readAllLines(Path.of("..", "docs", "CLUSTER.md"));
        for (int i = 0; i < lines.size() - 2; i++)
        {
            if (lines.get(i).startsWith("<!-- acl:") && lines.get(i + 1).startsWith("```"))
            {
                return lines.get(i + 2).trim();
            }
        }
        throw new IllegalStateException("docs/CLUSTER.md has no line marked <!-- acl: -->");
    }

    static String cli(final int port, final String... command) throws Exception
    {
        final List<String> line = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        line.addAll(Arrays.asList(command));
        return RedisClusterProcess.run(line, 10);
    }

    private ServerFixture node(final String name, final String url) throws Exception
    {
        return closing.add(ServerFixture.clusterNode(dir, name, url));
    }

    /** Writes to the console and keeps a copy. */
    private static final class Tee extends OutputStream
    {
        private final OutputStream first;
        private final ByteArrayOutputStream second;

        Tee(final OutputStream first, final ByteArrayOutputStream second)
        {
            this.first = first;
            this.second = second;
        }

        @Override
        public void write(final int b)
        {
            synchronized (second)
            {
                second.write(b);
            }
            try
            {
                first.write(b);
            }
            catch (final java.io.IOException ignored)
            {
                // the console's loss; the copy is what is checked
            }
        }

        @Override
        public void write(final byte[] bytes, final int off, final int len)
        {
            synchronized (second)
            {
                second.write(bytes, off, len);
            }
            try
            {
                first.write(bytes, off, len);
            }
            catch (final java.io.IOException ignored)
            {
                // as above
            }
        }
    }
}
