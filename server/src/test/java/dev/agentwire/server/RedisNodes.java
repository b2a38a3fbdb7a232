package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One real redis-server and in-process nodes over it, each with a home of its own under the test's directory;
 * closed together, the nodes first.
 */
final class RedisNodes implements AutoCloseable
{
    final RedisProcess redis;
    private final Path dir;
    private final List<ServerFixture> nodes = new ArrayList<>();

    /** @param durable whether Redis keeps an append-only file (a restart keeps its data). */
    RedisNodes(final Path dir, final boolean durable) throws Exception
    {
        this.dir = dir;
        this.redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), durable);
    }

    /** A node with two slices and the limits a test's bursts need. */
    ServerFixture node(final String name) throws Exception
    {
        return node(name, b -> { }, AgentWireConfig.builder().sliceCount(2));
    }

    /** A node on this Redis; {@code customise} and {@code engine} adjust the defaults. */
    ServerFixture node(
        final String name, final Consumer<ServerConfig.Builder> customise, final AgentWireConfig.Builder engine)
        throws Exception
    {
        final Path home = Files.createDirectories(dir.resolve(name));
        final ServerFixture node = new ServerFixture(home, b ->
        {
            b.redisUrl(redis.url()).nodeId(name)
                .maxConnectionsPerIp(10_000).producerRatePerSec(1_000_000).producerBurst(1_000_000);
            customise.accept(b);
        }, engine);
        nodes.add(node);
        return node;
    }

    @Override
    public void close() throws Exception
    {
        for (final ServerFixture node : nodes)
        {
            node.close();
        }
        redis.close();
    }
}
