package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node killed with SIGKILL mid-stream: its clients reconnect to another node and resume with zero gaps. The
 * killed node is a separate JVM running {@code Main serve}, as in production.
 */
@Timeout(120)
class ClusterNodeKillTest
{
    @TempDir
    Path dir;
    private RedisProcess redis;
    private ServerFixture survivor;
    private ServerProcess doomed;
    private Thread producer;

    @AfterEach
    void tearDown() throws Exception
    {
        if (producer != null)
        {
            producer.interrupt();
            producer.join(10_000);
        }
        if (doomed != null)
        {
            doomed.kill();
        }
        if (survivor != null)
        {
            survivor.close();
        }
        if (redis != null)
        {
            redis.close();
        }
    }

    @Test
    void shouldLetClientsOfAKilledNodeResumeOnAnotherWithZeroGaps() throws Exception
    {
        redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false);
        survivor = new ServerFixture(Files.createDirectories(dir.resolve("survivor")), b -> b.redisUrl(redis.url())
            .nodeId("survivor").producerRatePerSec(1_000_000).producerBurst(1_000_000),
            AgentWireConfig.builder().sliceCount(2));
        doomed = ServerProcess.start(0, dir.resolve("doomed.log"),
            Map.of("AGENTWIRE_REDIS_URL", redis.url(), "AGENTWIRE_NODE_ID", "doomed"));
        final URI doomedWs = doomed.ws();

        final WsClient kim = WsClient.connect(doomedWs, Tokens.hs256("kim", 60_000));
        final long epoch = kim.next(10_000).get("epoch").asLong();

        // Bounded: 400 events, about 2 ms apart, through the surviving node.
        final int total = 400;
        final AtomicInteger accepted = new AtomicInteger();
        producer = new Thread(() ->
        {
            try
            {
                for (int n = 1; n <= total && !Thread.currentThread().isInterrupted(); n++)
                {
                    final HttpResponse<String> r =
                        survivor.publish("{\"user\":\"kim\",\"type\":\"app.tick\",\"data\":{\"n\":" + n + "}}");
                    if (r.statusCode() != 202)
                    {
                        throw new AssertionError(r.statusCode() + " " + r.body());
                    }
                    accepted.incrementAndGet();
                    Thread.sleep(2);
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException(ex);
            }
        }, "producer");
        producer.start();

        final List<JsonNode> seen = new ArrayList<>(kim.collect(WsClient::isEvent, 100, 30_000));
        doomed.kill();
        kim.awaitClose(20_000);
        // Whatever reached the client before the kill counts; nothing after it may be missing or repeated.
        JsonNode extra;
        while ((extra = kim.messages.poll()) != null)
        {
            if (WsClient.isEvent(extra))
            {
                seen.add(extra);
            }
        }
        final long last = seen.get(seen.size() - 1).get("seq").asLong();

        final WsClient back = survivor.connectWith(Tokens.hs256("kim", 60_000), "epoch=" + epoch + "&after=" + last);
        back.nextOfType("welcome", 10_000);
        final JsonNode resumed = back.nextOfType("resumed", 10_000);
        assertTrue(resumed.get("recovered").asBoolean(), resumed.toString());
        producer.join(60_000);
        assertEquals(total, accepted.get());
        seen.addAll(back.collect(WsClient::isEvent, total - seen.size(), 30_000));
        for (int i = 0; i < total; i++)
        {
            assertEquals(i + 1, seen.get(i).get("seq").asLong(), "no gap, no duplicate around the kill");
            assertEquals(i + 1, seen.get(i).get("data").get("n").asInt());
        }
        back.close();
        kim.close();
    }
}
