package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster's sequencer script applies the run lifecycle rules in Lua; the single node applies them in Java.
 * Both must give the same verdict for every event: the same seeded random streams of agent events (valid,
 * out of order, repeated, unknown tool calls, early completion, events after completion, duplicate ids) are
 * published one by one to a single node and to a cluster node, and every answer is compared.
 */
@Timeout(120)
class ClusterLifecycleParityTest
{
    private static final String[] TYPES = {
        "agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"};

    @TempDir
    Path dir;
    private RedisProcess redis;
    private ServerFixture single;
    private ServerFixture clustered;

    @AfterEach
    void tearDown() throws Exception
    {
        if (single != null)
        {
            single.close();
        }
        if (clustered != null)
        {
            clustered.close();
        }
        if (redis != null)
        {
            redis.close();
        }
    }

    @Test
    void shouldGiveTheSameVerdictAsTheSingleNodeForEveryEvent() throws Exception
    {
        redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false);
        single = new ServerFixture(Files.createDirectories(dir.resolve("single")),
            b -> b.producerRatePerSec(1_000_000).producerBurst(1_000_000), AgentWireConfig.builder().sliceCount(2));
        clustered = new ServerFixture(Files.createDirectories(dir.resolve("node")),
            b -> b.redisUrl(redis.url()).producerRatePerSec(1_000_000).producerBurst(1_000_000),
            AgentWireConfig.builder().sliceCount(2));

        final Random random = new Random(20261124L);
        int refused = 0;
        int duplicates = 0;
        String previous = null;
        for (int i = 0; i < 400; i++)
        {
            // A fresh set of runs every 50 events, so completed runs do not make the rest one long refusal.
            final String run = "run-" + (i / 50) + "-" + random.nextInt(4);
            final String type = TYPES[weighted(random)];
            final String call = "call-" + random.nextInt(3);
            final StringBuilder event = new StringBuilder("{\"user\":\"parity\",\"type\":\"").append(type)
                .append("\",\"run_id\":\"").append(run).append('"');
            if (random.nextBoolean())
            {
                event.append(",\"id\":\"id-").append(i % 7).append('"');
            }
            event.append(",\"data\":");
            switch (type)
            {
                case "tool_executing":
                    event.append("{\"tool_call_id\":\"").append(call).append("\",\"tool\":\"t\",\"args\":{}}");
                    break;
                case "tool_completed":
                    event.append("{\"tool_call_id\":\"").append(call).append("\",\"result\":1}");
                    break;
                case "agent_completed":
                    event.append("{\"outcome\":\"").append(random.nextBoolean() ? "success" : "error")
                        .append("\",\"result\":\"r\"}");
                    break;
                default:
                    event.append("{\"text\":\"x\",\"agent\":\"a\"}");
                    break;
            }
            event.append('}');
            // Now and then a producer retries its previous event as it was.
            final String body = previous != null && random.nextInt(8) == 0 ? previous : event.toString();
            previous = body;
            final HttpResponse<String> local = single.publish(body);
            final HttpResponse<String> cluster = clustered.publish(body);
            final String localStatus = ServerFixture.json(local).get("results").get(0).get("status").asText();
            final String clusterStatus = ServerFixture.json(cluster).get("results").get(0).get("status").asText();
            assertEquals(local.statusCode(), cluster.statusCode(), "event " + i + ": " + body);
            assertEquals(localStatus, clusterStatus, "event " + i + ": " + body);
            refused += local.statusCode() == 422 ? 1 : 0;
            duplicates += "duplicate".equals(localStatus) ? 1 : 0;
        }
        // The stream exercised both sides of the rules, not only one.
        assertTrue(refused > 40 && refused < 360, "refused " + refused);
        assertTrue(duplicates > 0, "duplicates " + duplicates);
    }

    /** Mostly thinking and tool events, fewer starts and completions, so runs live long enough to matter. */
    private static int weighted(final Random random)
    {
        final int r = random.nextInt(20);
        return r < 3 ? 0 : r < 8 ? 1 : r < 13 ? 2 : r < 18 ? 3 : 4;
    }
}
