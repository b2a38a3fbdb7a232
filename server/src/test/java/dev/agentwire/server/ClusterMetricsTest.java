package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a node over a real redis-server tells operators of Redis itself: every group commit's latency, a stalled
 * Redis's among them.
 */
@Timeout(60)
class ClusterMetricsTest
{
    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();


    @Test
    void shouldRecordEveryGroupCommitsLatencyAStalledOnePastTheCommandTimeout() throws Exception
    {
        final RedisProcess redis = closing.add(new RedisProcess(Files.createDirectories(dir.resolve("redis")), false));
        final ServerFixture node = closing.add(new ServerFixture(Files.createDirectories(dir.resolve("node")),
            b -> b.redisUrl(redis.url()).nodeId("timed").redisTimeoutMs(500), AgentWireConfig.builder().sliceCount(1)));
        final String event = "{\"user\":\"timed\",\"type\":\"app.note\",\"data\":{}}";
        assertEquals(202, node.publish(event).statusCode());

        redis.pause();
        try
        {
            assertEquals(503, node.publish(event).statusCode(), "Redis stalled past the command timeout");
        }
        finally
        {
            redis.unpause();
        }
        assertEquals(202, node.publishUntilAccepted(event, 20_000), "publishing works again");

        final long commits = node.metric("agentwire_cluster_commit_seconds_count");
        assertEquals(node.metric("agentwire_cluster_commit_groups_total"), commits, "every group recorded");
        assertTrue(commits >= 3, "the first, the stalled and the last: " + commits);
        assertTrue(node.metric("agentwire_cluster_commit_seconds_bucket{le=\"0.25\"}") < commits,
            "the stalled one past 0.25 s");
    }
}
