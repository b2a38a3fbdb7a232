package dev.agentwire.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.AgentWireServer;
import dev.agentwire.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A seconds-long smoke of the end-to-end harness for CI: the load tool against an in-process AgentWire server and
 * the bare Undertow floor, a few connections at a low rate. It proves the harness works; it measures nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LoadToolSmokeTest
{
    private static final String SECRET = "smoke-secret-smoke-secret-0123456789abcdef";
    private static final String KEY = "smoke-producer-key-0123456789";

    @TempDir
    Path dir;
    private AgentWireServer agentWire;
    private FloorServer floor;

    @AfterEach
    void tearDown()
    {
        if (agentWire != null)
        {
            agentWire.close();
        }
        if (floor != null)
        {
            floor.close();
        }
    }

    @Test
    void shouldMeasureAgentWireAndTheFloorEndToEnd() throws Exception
    {
        agentWire = AgentWireServer.start(ServerConfig.builder().host("127.0.0.1").port(0).ioThreads(2)
            .jwtSecret(SECRET).producerKey(KEY).engine(AgentWireConfig.builder().sliceCount(1).build()).build());
        floor = new FloorServer("127.0.0.1", 0);

        for (final String[] target : new String[][]{
            {"agentwire", String.valueOf(agentWire.port()), "unicast"},
            {"agentwire", String.valueOf(agentWire.port()), "room10"},
            {"floor", String.valueOf(floor.port()), "broadcast"}})
        {
            final Path out = dir.resolve(target[0] + "-" + target[2] + ".json");
            // Memory per connection is not what this smoke checks: no idle settle (3 s twice a target by default).
            final int code = new CommandLine(new LoadTool()).execute(
                "--target", target[0], "--base", "http://127.0.0.1:" + target[1], "--connections", "20",
                "--workload", target[2], "--rates", "100,200", "--step-seconds", "1", "--warmup-seconds", "0",
                "--jwt-secret", SECRET, "--producer-key", KEY, "--server-pid", String.valueOf(ProcessHandle.current().pid()),
                "--max-failed-steps", "0", "--idle-settle-ms", "0", "--out", out.toString());
            assertEquals(0, code);
            final JsonNode result = LoadTool.JSON.readTree(out.toFile());
            assertEquals(2, result.get("steps").size());
            for (final JsonNode step : result.get("steps"))
            {
                assertTrue(step.get("deliveredRatio").asDouble() >= 0.99, target[0] + " " + target[2] + ": " + step);
                assertTrue(step.get("p50Ms").asDouble() >= 0);
            }
        }
    }

    @Test
    void shouldFindTheIntendedTimeInAFrameWithoutParsingIt()
    {
        assertEquals(1234567890123L, FrameFields.intendedTime("{\"type\":\"app.bench\",\"data\":{\"t\":1234567890123,\"p\":\"x\"}}"));
        assertEquals(Long.MIN_VALUE, FrameFields.intendedTime("{\"type\":\"welcome\"}"));
        assertEquals(42L, FrameFields.intendedTime("42[\"event\",{\"data\":{\"t\":42}}]"));
    }
}
