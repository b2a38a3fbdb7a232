package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fault suite's scenarios over Redis ({@link FaultSuiteTest} has those of one node): nodes over one Redis that
 * stalls, restarts empty and loses a node; over a Redis Cluster whose shards fail over and whose slots move; and over
 * a Redis that Sentinel fails over to its replica. Every acknowledged event must reach its user once and in order,
 * or its loss be announced. Each scenario adds a row to {@code target/fault-report-cluster.md}.
 */
@Timeout(600)
final class ClusterFaultSuiteTest
{
    @TempDir
    Path dir;
    private final Closing closeables = new Closing();
    private final FaultRun run = new FaultRun();

    @AfterEach
    void tearDown() throws Exception
    {
        run.stop();
        closeables.close();
    }

    @AfterAll
    static void writeReport() throws Exception
    {
        FaultRun.writeReport("fault-report-cluster.md");
    }

    @Test
    void shouldLoseNothingSilentlyWhenRedisAndNodesFail() throws Exception
    {
        final Random random = new Random(FaultRun.SEED + 2);
        // Not durable: a restart is Redis coming back empty, every stream in a new epoch.
        final RedisProcess redis = new RedisProcess(Files.createDirectories(dir.resolve("redis")), false);
        closeables.add(redis);
        final ServerFixture steady = new ServerFixture(Files.createDirectories(dir.resolve("steady")),
            b -> b.redisUrl(redis.url()).nodeId("steady").producerRatePerSec(1_000_000).producerBurst(1_000_000),
            AgentWireConfig.builder().sliceCount(2));
        closeables.add(steady);
        final int doomedPort = TestPorts.free();
        final Path log = dir.resolve("doomed.log");
        final Map<String, String> env = Map.of("AGENTWIRE_REDIS_URL", redis.url(), "AGENTWIRE_NODE_ID", "doomed",
            "AGENTWIRE_PRODUCER_RATE", "1000000", "AGENTWIRE_PRODUCER_BURST", "1000000");
        final ServerProcess[] doomed = {ServerProcess.start(doomedPort, log, env)};
        closeables.add(() -> doomed[0].kill());
        final FaultLedger ledger = new FaultLedger();
        // Under two busy loops, as when other builds share the machine: starvation may slow, never lose.
        closeables.add(new CpuHog(2));
        // Half the sessions on each node; a session of the killed node comes back to it when it is back.
        final List<String> users = run.startSessions(30, ledger, i -> i % 2 == 0 ? () -> steady.ws(null) :
            () -> URI.create("ws://127.0.0.1:" + doomedPort + "/v1/ws"));
        final AtomicBoolean paused = new AtomicBoolean();

        run.runWithFaults(ledger, users, () -> steady.http("/v1/events"), random, () ->
        {
            if (paused.getAndSet(false))
            {
                redis.unpause();
            }
            switch (random.nextInt(5))
            {
                case 0:
                    redis.pause();
                    paused.set(true);
                    ledger.fault("Redis stalled (SIGSTOP)");
                    break;
                case 1:
                    redis.stop();
                    redis.start();
                    ledger.fault("Redis killed, restarted empty");
                    break;
                case 2:
                    doomed[0].kill();
                    ledger.fault("node SIGKILL + restart");
                    doomed[0] = ServerProcess.start(doomedPort, log, env);
                    break;
                default:
                    run.killSome(random, ledger, 3);
                    break;
            }
        }, () ->
        {
            if (paused.getAndSet(false))
            {
                redis.unpause();
            }
        });
        run.report("Redis and nodes (cluster of 2), under 2 busy loops", ledger, users);
    }

    @Test
    void shouldLoseNothingSilentlyWhenShardsFailOverAndSlotsMove() throws Exception
    {
        final Random random = new Random(FaultRun.SEED + 3);
        // Three primaries with a replica each; two nodes over them.
        final RedisClusterProcess redis = new RedisClusterProcess(Files.createDirectories(dir.resolve("redis")), 3, 1);
        closeables.add(redis);
        final ServerFixture[] nodes = twoNodes("shard-node-", redis.url());
        final FaultLedger ledger = new FaultLedger();
        final List<String> users = run.startSessions(30, ledger, i -> () -> nodes[i % 2].ws(null));
        // A quarter of the events go to rooms whose members live on every shard: numbered for each member on its own
        // shard, in batches that go in two rounds.
        for (final String user : users)
        {
            assertEquals(204, nodes[1].send("PUT", "/v1/rooms/" + FaultSession.roomOf(user) + "/members/" + user)
                .statusCode());
        }
        run.roomEvents = true;
        final RedisClusterInstance[] killed = {null};
        final RedisClusterInstance[] added = {null};

        run.runWithFaults(ledger, users, () -> nodes[0].http("/v1/events"), random, () ->
        {
            if (killed[0] != null)
            {
                // The killed primary comes back as a replica of the one that replaced it.
                killed[0].start();
                killed[0] = null;
            }
            redis.awaitOk(RedisClusterProcess.OK_TIMEOUT_MS);
            switch (random.nextInt(6))
            {
                case 0:
                    redis.failover(random);
                    ledger.fault("replica promoted (CLUSTER FAILOVER)");
                    break;
                case 1:
                    killed[0] = redis.killPrimary(random);
                    if (killed[0] != null)
                    {
                        ledger.fault("primary SIGKILL, replica promoted");
                    }
                    break;
                case 2:
                    redis.reshard(random, 64);
                    ledger.fault("64 slots migrated");
                    break;
                case 3:
                    // The operator grows the cluster by a shard, then shrinks it by that shard, in turn.
                    if (added[0] == null)
                    {
                        added[0] = redis.addPrimary();
                        redis.rebalance();
                        ledger.fault("a shard added, a share of every shard's slots moved to it");
                    }
                    else
                    {
                        redis.removePrimary(added[0]);
                        added[0] = null;
                        ledger.fault("a shard removed (its slots moved off, del-node, stopped)");
                    }
                    break;
                case 4:
                    // A blip between the nodes and one shard: its subscription connections cut, Lettuce reconnects.
                    final List<RedisClusterInstance> primaries = new java.util.ArrayList<>();
                    for (final RedisClusterInstance instance : redis.instances)
                    {
                        if (instance.process.isAlive() && instance.isPrimary())
                        {
                            primaries.add(instance);
                        }
                    }
                    primaries.get(random.nextInt(primaries.size())).cli("CLIENT", "KILL", "TYPE", "pubsub");
                    ledger.fault("a shard's subscription connections cut");
                    break;
                default:
                    run.killSome(random, ledger, 3);
                    break;
            }
        });
        run.report("Redis Cluster of 3 primaries (+1 replica each) and 2 nodes", ledger, users);
    }

    @Test
    void shouldLoseNothingSilentlyWhenSentinelFailsTheRedisOver() throws Exception
    {
        final Random random = new Random(FaultRun.SEED + 4);
        final RedisSentinelProcess redis = new RedisSentinelProcess(Files.createDirectories(dir.resolve("redis")),
            "fault-sentinel-password-0123");
        closeables.add(redis);
        final ServerFixture[] nodes = twoNodes("sentinel-node-", redis.url());
        final FaultLedger ledger = new FaultLedger();
        final List<String> users = run.startSessions(30, ledger, i -> () -> nodes[i % 2].ws(null));
        final RedisSentinelProcess.Server[] down = {null};
        final long[] lastFailoverNs = {System.nanoTime() - TimeUnit.SECONDS.toNanos(7)};

        run.runWithFaults(ledger, users, () -> nodes[random.nextInt(2)].http("/v1/events"), random, () ->
        {
            final int fault = random.nextInt(3);
            // A primary dies with a synced replica beside it: the failure Sentinel is made for. (The Sentinel
            // fails the same name over again only after twice its failover timeout; and a server back from a
            // kill is made a replica only some seconds later: killing the primary before that is a double
            // failure, where Sentinel promotes a server that still holds an older branch of the data.)
            final boolean mayFailOver = System.nanoTime() - lastFailoverNs[0] > TimeUnit.SECONDS.toNanos(7) &&
                down[0] == null && redis.hasSyncedReplica();
            if (fault == 0 && mayFailOver)
            {
                // No WAIT first: what the primary had not replicated is lost, and must be announced.
                down[0] = redis.primary();
                down[0].kill();
                lastFailoverNs[0] = System.nanoTime();
                ledger.fault("primary SIGKILL, Sentinel promotes the replica");
            }
            else if (fault == 1 && down[0] != null && redis.primaryPort() != down[0].announced())
            {
                // Back once the Sentinel has failed it over (it names the promoted replica): it returns as the
                // new primary's replica. Back sooner, it would be a second primary for a while (CLUSTER.md).
                down[0].start();
                down[0] = null;
                ledger.fault("old primary back after the failover, made a replica");
            }
            else
            {
                run.killSome(random, ledger, 3);
            }
        });
        run.report("Redis behind Sentinel (primary + replica) and 2 nodes", ledger, users);
    }

    /** Two in-process nodes over {@code redisUrl}, named {@code <prefix>0} and {@code <prefix>1}. */
    private ServerFixture[] twoNodes(final String prefix, final String redisUrl) throws Exception
    {
        final ServerFixture[] nodes = new ServerFixture[2];
        for (int i = 0; i < nodes.length; i++)
        {
            final String name = prefix + i;
            nodes[i] = closeables.add(new ServerFixture(Files.createDirectories(dir.resolve(name)), b -> b
                .redisUrl(redisUrl).nodeId(name).producerRatePerSec(1_000_000).producerBurst(1_000_000),
                AgentWireConfig.builder().sliceCount(2)));
        }
        return nodes;
    }
}
