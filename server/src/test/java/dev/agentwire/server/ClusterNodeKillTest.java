package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
    private Process doomed;
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
            doomed.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
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
        final int doomedPort = freePort();
        doomed = startNode(doomedPort);
        final URI doomedWs = URI.create("ws://127.0.0.1:" + doomedPort + "/v1/ws");

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
        doomed.destroyForcibly();
        assertTrue(doomed.waitFor(10, TimeUnit.SECONDS), "node killed");
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

    private Process startNode(final int port) throws Exception
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final List<String> command = new ArrayList<>(List.of(java,
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        final String modulePath = System.getProperty("jdk.module.path");
        if (modulePath != null)
        {
            // The tests run on the module path: the server is the module dev.agentwire.server, Agrona org.agrona.
            command.addAll(List.of("--add-exports", "java.base/jdk.internal.misc=org.agrona",
                "--module-path", modulePath, "-m", "dev.agentwire.server/dev.agentwire.server.Main"));
        }
        else
        {
            command.add("dev.agentwire.server.Main");
        }
        command.addAll(List.of("serve", "--host", "127.0.0.1", "--port", Integer.toString(port)));
        final ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("doomed.log").toFile());
        final Map<String, String> env = builder.environment();
        env.put("AGENTWIRE_JWT_SECRET", Tokens.SECRET);
        env.put("AGENTWIRE_PRODUCER_KEY", Tokens.PRODUCER_KEY);
        env.put("AGENTWIRE_REDIS_URL", redis.url());
        env.put("AGENTWIRE_NODE_ID", "doomed");
        final Process process = builder.start();
        final HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(2)).build();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline)
        {
            assertTrue(process.isAlive(), () -> "node exited: " + readLog());
            try
            {
                if (WsClient.HTTP.send(ready, HttpResponse.BodyHandlers.ofString()).statusCode() == 200)
                {
                    return process;
                }
            }
            catch (final java.io.IOException notYet)
            {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("node not ready: " + readLog());
    }

    private String readLog()
    {
        try
        {
            return Files.readString(dir.resolve("doomed.log"));
        }
        catch (final java.io.IOException ex)
        {
            return ex.toString();
        }
    }

    private static int freePort() throws Exception
    {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return probe.getLocalPort();
        }
    }
}
