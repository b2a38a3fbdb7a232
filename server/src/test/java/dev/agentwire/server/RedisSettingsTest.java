package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node reads the settings it relies on from every Redis primary at start and every {@code redisSettingsCheckMs},
 * and counts those that would lose data in {@code agentwire_cluster_redis_unsafe_settings} (each is logged too; the
 * messages are {@code RedisSettingsPolicyTest}'s). One real redis-server, and real Redis Clusters of three primaries:
 * one of them (not the one the node was given) set to evict, and one whose replicas evict until one is promoted.
 */
@Timeout(120)
class RedisSettingsTest
{
    /** The shortest check the settings allow. */
    private static final long CHECK_MS = 1_000;

    @TempDir
    Path dir;
    @RegisterExtension
    final Closing closing = new Closing();


    @Test
    void shouldCountAndLogEachUnsafeSettingOfOneRedisAtStart() throws Exception
    {
        final RedisProcess redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false);
        closing.add(redis);

        // Started without an append-only file: a restart would lose every history.
        assertEquals(1, unsafeSettings(node("a", redis.url())));

        assertEquals("+OK", redis.command("CONFIG SET maxmemory-policy allkeys-lru"));
        assertEquals(2, unsafeSettings(node("b", redis.url())));

        assertEquals("+OK", redis.command("CONFIG SET maxmemory-policy noeviction"));
        assertEquals("+OK", redis.command("CONFIG SET appendonly yes"));
        assertEquals(0, unsafeSettings(node("c", redis.url())));
    }

    @Test
    void shouldStartAndCountNothingWhenRedisDoesNotShowItsSettings() throws Exception
    {
        final RedisProcess redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false);
        closing.add(redis);
        // As a managed Redis or an ACL may: CONFIG refused (NOPERM), every command a node needs allowed.
        assertEquals("+OK", redis.command("ACL SETUSER default -config"));

        final ServerFixture node = node("a", redis.url());
        assertEquals(0, unsafeSettings(node), "not read, so not judged (logged at INFO)");
        assertEquals(202, node.publish("{\"user\":\"u1\",\"type\":\"app.note\",\"data\":{}}").statusCode());
    }

    @Test
    void shouldReadEveryPrimaryOfARedisCluster() throws Exception
    {
        final RedisClusterProcess redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 0);
        closing.add(redis);
        final RedisClusterInstance evicting = redis.instances.get(redis.instances.size() - 1);
        assertTrue(redis.url().endsWith(":" + redis.instances.get(0).port), redis.url());
        assertEquals("OK", evicting.cli("CONFIG", "SET", "maxmemory-policy", "allkeys-lru").trim());

        assertEquals(1, unsafeSettings(node("a", redis.url())), "the evicting primary is read, not only the seed");

        assertEquals("OK", evicting.cli("CONFIG", "SET", "maxmemory-policy", "noeviction").trim());
        assertEquals(0, unsafeSettings(node("b", redis.url())));
    }

    @Test
    void shouldSeeASettingChangedOnARunningRedisWithinACheck() throws Exception
    {
        final RedisProcess redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false);
        closing.add(redis);
        final ServerFixture node = node("a", redis.url(), CHECK_MS);
        assertEquals(1, unsafeSettings(node), "no append-only file");

        assertEquals("+OK", redis.command("CONFIG SET appendonly yes"));
        awaitUnsafeSettings(node, 0);

        assertEquals("+OK", redis.command("CONFIG SET maxmemory-policy volatile-lru"));
        awaitUnsafeSettings(node, 1);
    }

    @Test
    void shouldSeeAReplicaPromotedWithSettingsOfItsOwn() throws Exception
    {
        final RedisClusterProcess redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 1);
        closing.add(redis);
        // Redis does not copy a primary's settings to its replicas: these are set to evict, which harms nothing
        // while they only replicate.
        for (final RedisClusterInstance instance : redis.instances)
        {
            if (!instance.isPrimary())
            {
                assertEquals("OK", instance.cli("CONFIG", "SET", "maxmemory-policy", "allkeys-lru").trim());
            }
        }
        final ServerFixture node = node("a", redis.url(), CHECK_MS);
        assertEquals(0, unsafeSettings(node), "only primaries are judged");

        redis.failover(new Random(7));
        awaitUnsafeSettings(node, 1);
        assertEquals(202, node.publish("{\"user\":\"u1\",\"type\":\"app.note\",\"data\":{}}").statusCode(),
            "warned, and running on");
    }

    private ServerFixture node(final String name, final String redisUrl) throws Exception
    {
        return node(name, redisUrl, 60_000);
    }

    private ServerFixture node(final String name, final String redisUrl, final long checkMs) throws Exception
    {
        final ServerFixture node = new ServerFixture(Files.createDirectories(dir.resolve(name)),
            b -> b.redisUrl(redisUrl).nodeId(name).redisSettingsCheckMs(checkMs), AgentWireConfig.builder()
            .sliceCount(1));
        closing.add(node);
        return node;
    }

    private static long unsafeSettings(final ServerFixture node)
    {
        return node.metric("agentwire_cluster_redis_unsafe_settings");
    }

    /** Polls the metric (a check every {@link #CHECK_MS}; a failover's slot map takes seconds to reach the node). */
    private static void awaitUnsafeSettings(final ServerFixture node, final long expected) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (unsafeSettings(node) != expected && System.nanoTime() < deadline)
        {
            Thread.sleep(100);
        }
        assertEquals(expected, unsafeSettings(node));
    }
}
