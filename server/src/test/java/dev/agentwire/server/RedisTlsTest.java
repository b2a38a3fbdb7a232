package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.lettuce.core.cluster.SlotHash;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nodes over a real redis-server, and a real Redis Cluster of three primaries, that speak TLS ({@code rediss://};
 * the cluster's bus too), with a certificate authority of the test's own given as {@code redisTlsCaFile}:
 * publishes, delivery across nodes and shards, a room over every shard, the channel messages read in place off the
 * decrypted bytes, and resume. The single Redis asks clients for a certificate (Redis's default), which the nodes
 * present ({@code redisTlsCertFile}, {@code redisTlsKeyFile}), also after it is rotated in place; the Redis Cluster
 * asks for none. A node that does not trust Redis's certificate, or that Redis does not trust, refuses to start,
 * saying why.
 */
@Timeout(120)
class RedisTlsTest
{
    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();


    @Test
    void shouldDeliverAcrossNodesAndResumeOverTls() throws Exception
    {
        final TestCertificates certificates = TestCertificates.make(dir.resolve("ca"));
        final RedisProcess redis = redis(certificates);
        final ServerFixture a = node("a", redis.tlsUrl(), certificates.caFile, certificates);
        final ServerFixture b = node("b", redis.tlsUrl(), certificates.caFile, certificates);

        final WsClient user = b.connect("tls-user");
        final JsonNode welcome = user.nextOfType("welcome", 10_000);
        for (int run = 0; run < 2; run++)
        {
            assertEquals(202, a.publish(ServerFixture.runBatch("tls-user", "r" + run)).statusCode());
        }
        final List<JsonNode> seen = user.collect(WsClient::isEvent, 10, 10_000);
        for (int i = 0; i < 10; i++)
        {
            assertEquals(i + 1, seen.get(i).get("seq").asLong());
        }
        // b read its channel messages in place, off the bytes TLS decrypted.
        assertEquals(1, b.metric("agentwire_cluster_feed_framed_total"));
        assertEquals(0, b.metric("agentwire_cluster_feed_unframed_total"));
        user.close();

        assertEquals(202, b.publish(ServerFixture.runBatch("tls-user", "r2")).statusCode());
        final WsClient back = a.connectWith(Tokens.hs256("tls-user", 60_000),
            "epoch=" + welcome.get("epoch").asLong() + "&after=10");
        back.nextOfType("welcome", 10_000);
        assertTrue(back.nextOfType("resumed", 10_000).get("recovered").asBoolean());
        final List<JsonNode> rest = back.collect(WsClient::isEvent, 5, 10_000);
        assertEquals(11, rest.get(0).get("seq").asLong());
        assertEquals(15, rest.get(4).get("seq").asLong());
        assertEquals(1, a.metric("agentwire_cluster_redis_up"));
    }

    @Test
    void shouldNumberUsersAndARoomOnEveryShardOfARedisClusterOverTls() throws Exception
    {
        final TestCertificates certificates = TestCertificates.make(dir.resolve("ca"));
        final RedisClusterProcess redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0,
            certificates);
        closing.add(redis);
        final ServerFixture a = node("a", redis.tlsUrl(), certificates.caFile, null);
        final ServerFixture b = node("b", redis.tlsUrl(), certificates.caFile, null);

        final List<WsClient> users = new ArrayList<>();
        final Set<Integer> shards = new HashSet<>();
        for (int u = 0; u < 12; u++)
        {
            final String user = "tls-" + u;
            shards.add(redis.primaryOf(SlotHash.getSlot("aw:{u:" + user + "}:s")).port);
            final WsClient client = b.connect(user, "crew");
            client.nextOfType("welcome", 10_000);
            assertEquals(204, a.send("PUT", "/v1/rooms/crew/members/" + user).statusCode());
            assertEquals("crew", client.nextOfType("joined", 10_000).get("room").asText());
            users.add(client);
        }
        assertEquals(3, shards.size(), "the users' streams live on every shard");

        for (int u = 0; u < users.size(); u++)
        {
            assertEquals(202, a.publish("{\"user\":\"tls-" + u + "\",\"type\":\"app.note\",\"data\":{}}")
                .statusCode());
        }
        final HttpResponse<String> toRoom = a.publish("{\"room\":\"crew\",\"type\":\"app.note\",\"id\":\"c1\"," +
            "\"data\":{}}");
        assertEquals(202, toRoom.statusCode(), toRoom.body());
        for (final WsClient user : users)
        {
            final List<JsonNode> events = user.collect(WsClient::isEvent, 2, 10_000);
            assertEquals(1, events.get(0).get("seq").asLong());
            assertEquals(2, events.get(1).get("seq").asLong());
            assertEquals("crew", events.get(1).get("room").asText());
        }
        assertEquals(0, b.metric("agentwire_cluster_feed_unframed_total"));
        assertTrue(b.metric("agentwire_cluster_feed_framed_total") >= 3, "a subscription connection per shard");
    }

    @Test
    void shouldRefuseToStartSayingWhyWhenTheCertificateIsNotTrusted() throws Exception
    {
        final TestCertificates certificates = TestCertificates.make(dir.resolve("ca"));
        final TestCertificates stranger = TestCertificates.make(dir.resolve("other-ca"));
        final RedisProcess redis = redis(certificates);

        // Another authority's file, then none (the JVM's trust store does not hold the test's authority).
        for (final Path caFile : new Path[]{stranger.caFile, null})
        {
            final IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> node("refused", redis.tlsUrl(), caFile, certificates));
            assertTrue(refused.getMessage().startsWith("redis unreachable at start: redisUrl=<set>"),
                refused.getMessage());
            assertTrue(refused.getMessage().contains("unable to find valid certification path"),
                refused.getMessage());
        }
        // Redis's certificate trusted, but the node presents none, or one of an authority Redis does not trust: the
        // root cause is Redis's TLS alert.
        final TestCertificates[] clients = {null, stranger};
        final String[] alerts = {"certificate_required", "unknown_ca"};
        for (int i = 0; i < clients.length; i++)
        {
            final TestCertificates client = clients[i];
            final IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> node("refused", redis.tlsUrl(), certificates.caFile, client));
            assertTrue(refused.getMessage().startsWith("redis unreachable at start: redisUrl=<set>"),
                refused.getMessage());
            assertTrue(refused.getMessage().contains("root=javax.net.ssl.SSLHandshakeException: Received fatal " +
                "alert: " + alerts[i]), refused.getMessage());
        }
    }

    @Test
    void shouldPresentTheCertificateRotatedInPlaceFromTheNextReconnect() throws Exception
    {
        final TestCertificates certificates = TestCertificates.make(dir.resolve("ca"));
        final RedisProcess redis = redis(certificates);
        final Path certFile = Files.copy(certificates.clientCertFile, dir.resolve("node.pem"));
        final Path keyFile = Files.copy(certificates.clientKeyFile, dir.resolve("node.key"));
        final ServerFixture node = new ServerFixture(Files.createDirectories(dir.resolve("node")),
            b -> b.redisUrl(redis.tlsUrl()).redisTlsCaFile(certificates.caFile)
                .redisTlsClientCertificate(certFile, keyFile).nodeId("rotating"),
            AgentWireConfig.builder().sliceCount(1));
        closing.add(node);
        final WsClient user = node.connect("rotated-user");
        user.nextOfType("welcome", 10_000);
        assertEquals(202, node.publish(ServerFixture.runBatch("rotated-user", "r0")).statusCode());
        assertEquals(5, user.collect(WsClient::isEvent, 5, 10_000).size());

        // The rotation: a new authority's certificate written over the node's files, Redis made to trust only that
        // authority, and every connection it had cut. Only a node that reads its files again gets back in.
        final TestCertificates next = TestCertificates.make(dir.resolve("next-ca"));
        Files.copy(next.clientCertFile, certFile, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(next.clientKeyFile, keyFile, StandardCopyOption.REPLACE_EXISTING);
        final Path bothAuthorities = Files.writeString(dir.resolve("both.pem"),
            Files.readString(certificates.caFile) + Files.readString(next.caFile));
        assertEquals("+OK", redis.command("CONFIG SET tls-ca-cert-file " + bothAuthorities));
        assertEquals("+OK", redis.command("CONFIG SET tls-ca-cert-file " + next.caFile));
        final String cut = redis.command("CLIENT KILL TYPE pubsub");
        assertTrue(cut.startsWith(":") && !cut.equals(":0"), "the node's subscriber connection was cut: " + cut);
        assertTrue(redis.command("CLIENT KILL TYPE normal SKIPME yes").startsWith(":"));

        // Lettuce reconnects with the rotated certificate: a publish is accepted (retried with its id while the node
        // reconnects: a 503's outcome is unknown) and delivered once.
        final String event = ServerFixture.note("rotated-user", "after");
        final int status = node.publishUntilAccepted(event, 30_000);
        assertEquals(202, status, "a publish accepted over the rotated certificate");
        final JsonNode delivered = user.collect(WsClient::isEvent, 1, 10_000).get(0);
        assertEquals(6, delivered.get("seq").asLong());
        assertEquals("app.note", delivered.get("type").asText());
    }

    private RedisProcess redis(final TestCertificates certificates) throws Exception
    {
        final RedisProcess redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false,
            certificates);
        closing.add(redis);
        return redis;
    }

    private ServerFixture node(final String name, final String redisUrl, final Path caFile,
        final TestCertificates client) throws Exception
    {
        final ServerFixture node = new ServerFixture(Files.createDirectories(dir.resolve(name)),
            b -> b.redisUrl(redisUrl).redisTlsCaFile(caFile).nodeId(name).redisTlsClientCertificate(
                client == null ? null : client.clientCertFile, client == null ? null : client.clientKeyFile),
            AgentWireConfig.builder().sliceCount(1));
        closing.add(node);
        return node;
    }
}
