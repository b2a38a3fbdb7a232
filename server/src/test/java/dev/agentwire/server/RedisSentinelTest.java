package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
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
 * Nodes over one Redis watched by Sentinel ({@code redis-sentinel://}, the servers' password in the URL), with a
 * real primary, replica and Sentinel: they find the primary through the Sentinel, deliver across nodes, and when the
 * primary dies (SIGKILL) and the Sentinel promotes the replica, they follow it with their users' sockets kept: the
 * next event has the next seq of the same epoch, and a resume on the other node reads the whole history from the
 * promoted primary. A planned failover ({@code SENTINEL FAILOVER}) is followed the same way, with TLS everywhere
 * ({@code rediss-sentinel://}).
 */
@Timeout(120)
class RedisSentinelTest
{
    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();


    @Test
    void shouldFollowThePrimaryTheSentinelPromotesWithSocketsKeptAndNothingLost() throws Exception
    {
        final RedisSentinelProcess redis = closing.add(
            new RedisSentinelProcess(Files.createDirectories(dir.resolve("redis")), "sentinel-test-password-0123"));
        final ServerFixture a = node("a", redis.url());
        final ServerFixture b = node("b", redis.url());
        final WsClient user = b.connect("watched");
        final long epoch = user.nextOfType("welcome", 10_000).get("epoch").asLong();
        assertEquals(202, a.publish(ServerFixture.runBatch("watched", "r1")).statusCode());
        assertEquals(5, user.collect(WsClient::isEvent, 5, 10_000).size());
        assertEquals(0, a.metric("agentwire_cluster_redis_unsafe_settings"), "the primary's settings were read");

        // The primary dies once its replica holds everything (WAIT), and the Sentinel promotes the replica.
        final int before = redis.primaryPort();
        assertEquals(redis.first.announced(), before);
        assertEquals("1", redis.first.cli("WAIT", "1", "5000"), "the replica acknowledged every write");
        redis.first.kill();
        redis.awaitFailoverFrom(before, 30_000);
        assertNotEquals(before, redis.primaryPort());

        // Publishes go on once the nodes have found the new primary (503 until then: retried with the same id).
        final String event = ServerFixture.note("watched", "after");
        final int status = a.publishUntilAccepted(event, 30_000);
        assertEquals(202, status, "a publish accepted by the promoted primary");
        final JsonNode next = user.collect(WsClient::isEvent, 1, 20_000).get(0);
        assertEquals(6, next.get("seq").asLong());
        assertEquals(epoch, next.get("epoch").asLong(), "the same stream, not a new epoch");
        assertTrue(user.isOpen(), "the user's socket was kept");

        final WsClient back = a.connectWith(Tokens.hs256("watched", 60_000), "epoch=" + epoch + "&after=0");
        back.nextOfType("welcome", 10_000);
        assertTrue(back.nextOfType("resumed", 10_000).get("recovered").asBoolean());
        final List<JsonNode> all = back.collect(WsClient::isEvent, 6, 10_000);
        for (int i = 0; i < all.size(); i++)
        {
            assertEquals(i + 1, all.get(i).get("seq").asLong());
        }
        assertEquals(0, b.metric("agentwire_engine_stream_resets_total"), "no client was asked to resume");
        assertEquals(0, b.metric("agentwire_cluster_feed_unframed_total"), "channel messages read in place");
    }

    @Test
    void shouldReachThePrimaryAgainOverTlsAfterAPlannedFailoverLeavesItsConnectionsOnAReplica() throws Exception
    {
        // TLS everywhere (rediss-sentinel://): to the Sentinel, to the servers (which ask for the node's
        // certificate), and between them; the Sentinel has a password of its own, not the servers'.
        final TestCertificates tls = TestCertificates.make(dir.resolve("tls"));
        final RedisSentinelProcess redis = closing.add(new RedisSentinelProcess(
            Files.createDirectories(dir.resolve("redis")), "sentinel-test-password-0123", tls));
        assertTrue(redis.url().startsWith("rediss-sentinel://"), redis.url());
        final ServerFixture a = closing.add(new ServerFixture(Files.createDirectories(dir.resolve("a")),
            b -> b.redisUrl(redis.url()).redisSentinelPassword(redis.sentinelPassword).redisTlsCaFile(tls.caFile)
                .redisTlsClientCertificate(tls.clientCertFile, tls.clientKeyFile).nodeId("a"),
            AgentWireConfig.builder().sliceCount(1)));
        final WsClient user = a.connect("planned");
        final long epoch = user.nextOfType("welcome", 10_000).get("epoch").asLong();
        assertEquals(202, a.publish(ServerFixture.runBatch("planned", "r1")).statusCode());
        assertEquals(5, user.collect(WsClient::isEvent, 5, 10_000).size());

        // A planned failover (SENTINEL FAILOVER, as for maintenance): the old primary lives on as the new one's
        // replica; the Sentinel closes its clients' connections, and they reconnect to the new primary.
        final int before = redis.primaryPort();
        assertEquals("OK", redis.sentinel.cli("SENTINEL", "FAILOVER", RedisSentinelProcess.MASTER));
        redis.awaitFailoverFrom(before, 30_000);
        final String event = ServerFixture.note("planned", "after");
        final int status = a.publishUntilAccepted(event, 20_000);
        assertEquals(202, status, "a publish reached the new primary");
        final JsonNode next = user.collect(WsClient::isEvent, 1, 20_000).get(0);
        assertEquals(6, next.get("seq").asLong());
        assertEquals(epoch, next.get("epoch").asLong());
    }

    private ServerFixture node(final String name, final String url) throws Exception
    {
        return closing.add(ServerFixture.clusterNode(dir, name, url));
    }
}
