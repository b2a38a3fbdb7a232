package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Redis endpoint that moves to a new primary, as a managed service's name does after a failover (here a TCP proxy
 * whose target changes): the old primary lives on as a replica and keeps the node's connections open, answering
 * every write {@code READONLY}. The node closes its connections and reconnects through the endpoint, reaching the new
 * primary; without that it stayed on the replica, every publish refused, for as long as the connections lasted.
 */
@Timeout(120)
class RedisEndpointMoveTest
{
    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();


    @Test
    void shouldReconnectToTheNewPrimaryWhenTheOldOneAnswersReadOnly() throws Exception
    {
        final RedisProcess first = closing.add(new RedisProcess(Files.createDirectories(dir.resolve("first")), false));
        final RedisProcess second =
            closing.add(new RedisProcess(Files.createDirectories(dir.resolve("second")), false));
        assertEquals("+OK", second.command("REPLICAOF 127.0.0.1 " + first.port));
        final FaultProxy endpoint = closing.add(new FaultProxy(first.port));
        final ServerFixture node = closing.add(new ServerFixture(Files.createDirectories(dir.resolve("node")),
            b -> b.redisUrl("redis://127.0.0.1:" + endpoint.port()).nodeId("mover"),
            AgentWireConfig.builder().sliceCount(1)));
        final WsClient user = node.connect("moved");
        final long epoch = user.nextOfType("welcome", 10_000).get("epoch").asLong();
        assertEquals(202, node.publish(ServerFixture.runBatch("moved", "r1")).statusCode());
        assertEquals(5, user.collect(WsClient::isEvent, 5, 10_000).size());

        // The failover: the replica has everything, is promoted, the old primary becomes its replica (its clients
        // stay connected), and the endpoint now leads to the new primary.
        final long synced = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!":1".equals(first.command("WAIT 1 500")))
        {
            assertTrue(System.nanoTime() < synced, "the replica acknowledged every write");
        }
        assertEquals("+OK", second.command("REPLICAOF NO ONE"));
        assertEquals("+OK", first.command("REPLICAOF 127.0.0.1 " + second.port));
        endpoint.retarget(second.port);

        final String event = ServerFixture.note("moved", "after");
        final int status = node.publishUntilAccepted(event, 20_000);
        assertEquals(202, status, "a publish reached the new primary");
        final JsonNode next = user.collect(WsClient::isEvent, 1, 20_000).get(0);
        assertEquals(6, next.get("seq").asLong());
        assertEquals(epoch, next.get("epoch").asLong());
        assertTrue(node.metric("agentwire_cluster_redis_readonly_reconnects_total") >= 1, "READONLY was answered");
        assertTrue(user.isOpen(), "the user's socket was kept");
    }
}
