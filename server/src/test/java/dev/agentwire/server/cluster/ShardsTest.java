package dev.agentwire.server.cluster;

import dev.agentwire.server.RedisClusterProcess;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * How a node learns that a sharded Redis moved its slots: {@link Shards#watch} asks the cluster's epoch on a
 * connection already open, and reads the slot map again only when it moved; asks queued together are one read.
 */
class ShardsTest
{
    @TempDir
    Path dir;

    @Test
    void shouldReadTheCurrentEpochOfAClusterInfoAnswer()
    {
        assertEquals(7, Shards.currentEpoch("cluster_state:ok\r\ncluster_slots_assigned:16384\r\n" +
            "cluster_current_epoch:7\r\ncluster_my_epoch:2\r\n"));
        assertEquals(12345678901L, Shards.currentEpoch("cluster_current_epoch:12345678901"));
        assertEquals(-1, Shards.currentEpoch("cluster_state:ok\r\ncluster_my_epoch:2\r\n"));
        assertEquals(-1, Shards.currentEpoch("cluster_current_epoch:\r\n"));
        assertEquals(-1, Shards.currentEpoch(null));
    }

    @Test
    @Timeout(120)
    void shouldReadTheSlotMapAgainWhenAFailoverRaisesTheClustersEpoch() throws Exception
    {
        onCluster(1, (redis, executor, connection, shards, errors) ->
        {
            final String before = shards.topology();
            watchOnce(executor, shards, connection);
            assertEquals(before, shards.topology(), "the first answer reads the same map");

            // A replica takes over from its primary: no slot is migrated and no connection breaks.
            redis.failover(new Random(7));
            final long deadlineMs = System.currentTimeMillis() + 20_000;
            while (shards.topology().equals(before))
            {
                if (System.currentTimeMillis() > deadlineMs)
                {
                    fail("the slot map was not read again within 20 s of the failover: errors=" + errors.sum());
                }
                watchOnce(executor, shards, connection);
            }
            assertNotEquals(before, shards.topology());
            assertEquals(0, errors.sum(), "no refresh failed");
        });
    }

    @Test
    @Timeout(120)
    void shouldReadTheSlotMapOnceForAsksQueuedTogether() throws Exception
    {
        onCluster(0, (redis, executor, connection, shards, errors) ->
        {
            final java.net.URI seed = java.net.URI.create(redis.url());
            final long before = clusterNodesCalls(connection, seed);
            // A migration's sunsubscribes arrive together, each asking for the map, while the executor is busy.
            final java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
            executor.execute(() ->
            {
                try
                {
                    busy.await();
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            });
            for (int i = 0; i < 50; i++)
            {
                shards.refresh();
            }
            busy.countDown();
            executor.submit(() -> { }).get(30, TimeUnit.SECONDS);
            assertEquals(1, clusterNodesCalls(connection, seed) - before, "one read of the map for 50 asks");
        });
    }

    /** What a test does with a Redis Cluster, a client's connection to it and the {@link Shards} over them. */
    private interface ClusterBody
    {
        void run(RedisClusterProcess redis, ScheduledExecutorService executor,
            StatefulRedisClusterConnection<String, byte[]> connection, Shards shards, LongAdder errors)
            throws Exception;
    }

    /**
     * Runs a test on a Redis Cluster of three primaries with the given replicas each, through a client with
     * Lettuce's own refreshes left off (its defaults: no periodic refresh, no adaptive trigger): the map moves only
     * when {@link Shards} reads it. Stops everything it started.
     */
    private void onCluster(final int replicas, final ClusterBody body) throws Exception
    {
        final RedisClusterProcess redis = new RedisClusterProcess(dir, 3, replicas);
        final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        final RedisClusterClient client = RedisClusterClient.create(redis.url());
        try (StatefulRedisClusterConnection<String, byte[]> connection = client.connect(RedisLink.CODEC))
        {
            final LongAdder errors = new LongAdder();
            body.run(redis, executor, connection, new Shards(client, executor, errors), errors);
        }
        finally
        {
            client.shutdown();
            executor.shutdownNow();
            redis.close();
        }
    }

    /** @return how many CLUSTER NODES one instance has answered (every read of the map asks each instance once). */
    private static long clusterNodesCalls(final StatefulRedisClusterConnection<String, byte[]> connection,
        final java.net.URI instance)
    {
        final String stats = connection.getConnection(instance.getHost(), instance.getPort()).sync()
            .info("commandstats");
        final String field = "cmdstat_cluster|nodes:calls=";
        final int at = stats.indexOf(field);
        if (at < 0)
        {
            return 0;
        }
        final int from = at + field.length();
        return Long.parseLong(stats.substring(from, stats.indexOf(',', from)));
    }

    /** One watch, as the node's executor runs it every second, and whatever it scheduled on that executor. */
    private static void watchOnce(final ScheduledExecutorService executor, final Shards shards,
        final StatefulRedisClusterConnection<String, byte[]> connection) throws Exception
    {
        executor.submit(() -> shards.watch(connection.async())).get(10, TimeUnit.SECONDS);
        // The answer is handled on the executor, and a refresh it asks for is queued there after it.
        Thread.sleep(300);
        executor.submit(() -> { }).get(10, TimeUnit.SECONDS);
        executor.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }
}
