package dev.agentwire.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real sharded Redis Cluster on free loopback ports: {@code primaries} primaries, each with {@code replicas}
 * replicas, made by {@code redis-cli --cluster create} from Debian's redis package, and stopped with the test
 * that owns it. Without the package the test is skipped locally and fails in CI.
 */
public final class RedisClusterProcess implements AutoCloseable
{
    /**
     * How long an instance may be silent before the others flag it. 1 s failed a build: with the suite's other JVMs
     * starving the machine's two cores, instances flagged each other and the cluster stayed down (CLUSTERDOWN from
     * Redis itself) past the wait. 2 s still fails a killed primary over in a few seconds.
     */
    static final long NODE_TIMEOUT_MS = 2_000;
    /** Longest wait for the cluster to agree it is whole again after a fault (it usually takes under 5 s). */
    static final long OK_TIMEOUT_MS = 60_000;
    /** How long {@link #failover} may take: waiting for a replica in sync, then its asks. */
    static final long FAILOVER_TIMEOUT_MS = 45_000;
    /** How long one CLUSTER FAILOVER is given before it is asked again (Redis times a manual failover out at 5 s). */
    static final long MANUAL_FAILOVER_WAIT_MS = 7_000;

    final List<RedisClusterInstance> instances = new ArrayList<>();
    private final Path dir;
    private final TestCertificates tls;

    /**
     * @param dir       where the instances keep their files.
     * @param primaries primaries (at least 3, as Redis Cluster asks).
     * @param replicas  replicas per primary.
     */
    public RedisClusterProcess(final Path dir, final int primaries, final int replicas) throws Exception
    {
        this(dir, primaries, replicas, null);
    }

    /**
     * @param tls a certificate every instance also listens with for TLS clients, its cluster bus and replication
     *            over TLS too; or null.
     */
    public RedisClusterProcess(final Path dir, final int primaries, final int replicas, final TestCertificates tls)
        throws Exception
    {
        final boolean installed = RedisProcess.isInstalled();
        if (!installed && "true".equals(System.getenv("CI")))
        {
            throw new IllegalStateException("CI must have redis-server (.ci/run installs it)");
        }
        assumeTrue(installed, "redis-server not installed: apt-get install -y redis-server");
        this.dir = dir;
        this.tls = tls;
        final List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        for (int i = 0; i < primaries * (1 + replicas); i++)
        {
            final RedisClusterInstance instance = RedisClusterInstance.startFree(dir, tls);
            instances.add(instance);
            create.add("127.0.0.1:" + instance.port);
        }
        create.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
        final String created = run(create, 30);
        if (!created.contains("All 16384 slots covered"))
        {
            throw new IllegalStateException("redis-cli --cluster create failed: " + created);
        }
        awaitOk(OK_TIMEOUT_MS);
    }

    /** @return the seed URL a node is given: any one instance; the client discovers the rest. */
    public String url()
    {
        return "redis://127.0.0.1:" + instances.get(0).port;
    }

    /** @return the seed URL a node is given over TLS. */
    public String tlsUrl()
    {
        return "rediss://127.0.0.1:" + instances.get(0).tlsPort;
    }

    /** Waits until every live instance says the cluster is ok and agrees on one slot map. */
    void awaitOk(final long timeoutMs) throws Exception
    {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        while (true)
        {
            boolean ok = true;
            for (final RedisClusterInstance instance : instances)
            {
                if (instance.process.isAlive() && !instance.cli("CLUSTER", "INFO").contains("cluster_state:ok"))
                {
                    ok = false;
                }
            }
            if (ok && run(List.of("redis-cli", "--cluster", "check", "127.0.0.1:" + livePort()), 10)
                .contains("All 16384 slots covered"))
            {
                return;
            }
            if (System.currentTimeMillis() > deadline)
            {
                throw new IllegalStateException("redis cluster not ok within timeoutMs=" + timeoutMs);
            }
            Thread.sleep(100);
        }
    }

    /**
     * Waits until {@code redis-cli --cluster check} passes from a live instance: the nodes agree on the slot map, no
     * slot is open, every slot is covered. A rebalance checks that first and refuses otherwise; the nodes' views
     * settle by gossip, so just after a node joins or slots move they can still differ for a moment (the docs test
     * of CLUSTER.md met "Nodes don't agree about configuration" once so).
     */
    void awaitCheck(final long timeoutMs) throws Exception
    {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        while (true)
        {
            final String check = run(List.of("redis-cli", "--cluster", "check", "127.0.0.1:" + livePort()), 10);
            if (check.contains("All nodes agree about slots configuration") && !check.contains("[ERR]"))
            {
                return;
            }
            if (System.currentTimeMillis() > deadline)
            {
                throw new IllegalStateException("redis cluster check not passed within timeoutMs=" + timeoutMs +
                    ": " + check);
            }
            Thread.sleep(100);
        }
    }

    int livePort()
    {
        for (final RedisClusterInstance instance : instances)
        {
            if (instance.process.isAlive())
            {
                return instance.port;
            }
        }
        throw new IllegalStateException("no live instance");
    }

    /** @return the instance serving a slot as primary, as the live instances' CLUSTER NODES says. */
    RedisClusterInstance primaryOf(final int slot) throws Exception
    {
        for (final RedisClusterInstance instance : instances)
        {
            if (!instance.process.isAlive())
            {
                continue;
            }
            for (final String line : instance.cli("CLUSTER", "NODES").split("\n"))
            {
                final String[] fields = line.trim().split(" ");
                if (fields.length < 9 || !fields[2].contains("master") || fields[2].contains("fail"))
                {
                    continue;
                }
                for (int i = 8; i < fields.length; i++)
                {
                    if (fields[i].startsWith("["))
                    {
                        continue; // a slot being migrated or imported
                    }
                    final String[] range = fields[i].split("-");
                    final int from = Integer.parseInt(range[0]);
                    final int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
                    if (slot >= from && slot <= to)
                    {
                        final int port = Integer.parseInt(fields[1].substring(fields[1].indexOf(':') + 1,
                            fields[1].indexOf('@')));
                        for (final RedisClusterInstance candidate : instances)
                        {
                            if (candidate.port == port)
                            {
                                return candidate;
                            }
                        }
                    }
                }
            }
            break;
        }
        throw new IllegalStateException("no primary serves slot=" + slot);
    }

    private List<RedisClusterInstance> live(final boolean primaries) throws Exception
    {
        final List<RedisClusterInstance> out = new ArrayList<>();
        for (final RedisClusterInstance instance : instances)
        {
            if (instance.process.isAlive() && instance.isPrimary() == primaries)
            {
                out.add(instance);
            }
        }
        return out;
    }

    /**
     * A replica takes over from its primary, gracefully (CLUSTER FAILOVER: no acknowledged write is lost). Only a
     * replica in sync can: one still in its first sync lets the manual failover time out (Redis gives it 5 s) and
     * stays a replica, so this waits for one in sync, asks again when an ask timed out, and fails loudly when no
     * replica was promoted: a test that goes on would assert on a failover that never happened.
     */
    public void failover(final java.util.Random random) throws Exception
    {
        if (live(false).isEmpty())
        {
            return;
        }
        final long deadline = System.currentTimeMillis() + FAILOVER_TIMEOUT_MS;
        List<RedisClusterInstance> inSync = inSync();
        while (inSync.isEmpty() && System.currentTimeMillis() < deadline)
        {
            Thread.sleep(100);
            inSync = inSync();
        }
        if (inSync.isEmpty())
        {
            throw new IllegalStateException("no replica in sync to fail over to: timeoutMs=" + FAILOVER_TIMEOUT_MS);
        }
        final RedisClusterInstance replica = inSync.get(random.nextInt(inSync.size()));
        String answer = "";
        while (!replica.isPrimary())
        {
            if (System.currentTimeMillis() > deadline)
            {
                throw new IllegalStateException("the replica was not promoted: port=" + replica.port +
                    " timeoutMs=" + FAILOVER_TIMEOUT_MS + " answer=" + answer.trim());
            }
            answer = replica.cli("CLUSTER", "FAILOVER");
            final long askedUntil = System.currentTimeMillis() + MANUAL_FAILOVER_WAIT_MS;
            while (!replica.isPrimary() && System.currentTimeMillis() < askedUntil)
            {
                Thread.sleep(50);
            }
        }
        awaitOk(OK_TIMEOUT_MS);
    }

    /** @return the live replicas whose link to their primary is up (ROLE says connected). */
    private List<RedisClusterInstance> inSync() throws Exception
    {
        final List<RedisClusterInstance> out = new ArrayList<>();
        for (final RedisClusterInstance replica : live(false))
        {
            if (syncedPrimaryPort(replica) >= 0)
            {
                out.add(replica);
            }
        }
        return out;
    }

    /**
     * @return the port of the primary a replica follows while its link to it is up (ROLE: slave, host, port,
     *     connected), or -1: still syncing, or no longer a replica (promoted since it was listed).
     */
    private static int syncedPrimaryPort(final RedisClusterInstance replica) throws Exception
    {
        final String[] role = replica.cli("ROLE").split("\n");
        return role.length >= 4 && "slave".equals(role[0].trim()) && "connected".equals(role[3].trim()) &&
            role[2].trim().matches("[0-9]+") ? Integer.parseInt(role[2].trim()) : -1;
    }

    /**
     * Kills a primary that has a replica (SIGKILL): the replica is promoted once the others see the primary gone.
     * What the primary acknowledged but had not yet replicated is lost.
     *
     * @return the killed instance, to be started again (it then rejoins as a replica), or null when no primary had
     *     a replica in sync (nothing was killed).
     */
    RedisClusterInstance killPrimary(final java.util.Random random) throws Exception
    {
        final List<RedisClusterInstance> primaries = live(true);
        // Only a primary with a replica in sync can be replaced (a replica still loading refuses to take over).
        final List<RedisClusterInstance> replaceable = new ArrayList<>();
        for (final RedisClusterInstance replica : live(false))
        {
            final int followed = syncedPrimaryPort(replica);
            for (final RedisClusterInstance primary : primaries)
            {
                if (primary.port == followed && !replaceable.contains(primary))
                {
                    replaceable.add(primary);
                }
            }
        }
        if (replaceable.isEmpty())
        {
            return null;
        }
        final RedisClusterInstance victim = replaceable.get(random.nextInt(replaceable.size()));
        victim.kill();
        final long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline)
        {
            int promoted = 0;
            for (final RedisClusterInstance instance : live(true))
            {
                promoted++;
            }
            if (promoted == primaries.size())
            {
                break;
            }
            Thread.sleep(100);
        }
        awaitOk(OK_TIMEOUT_MS);
        return victim;
    }

    /** Migrates {@code slots} slots from one primary to another (redis-cli --cluster reshard), keys included. */
    void reshard(final java.util.Random random, final int slots) throws Exception
    {
        final List<RedisClusterInstance> primaries = live(true);
        final RedisClusterInstance from = primaries.get(random.nextInt(primaries.size()));
        RedisClusterInstance to = primaries.get(random.nextInt(primaries.size()));
        while (to == from)
        {
            to = primaries.get(random.nextInt(primaries.size()));
        }
        final String answer = run(List.of("redis-cli", "--cluster", "reshard", "127.0.0.1:" + from.port,
            "--cluster-from", from.cli("CLUSTER", "MYID").trim(), "--cluster-to", to.cli("CLUSTER", "MYID").trim(),
            "--cluster-slots", Integer.toString(slots), "--cluster-yes"), 60);
        if (answer.contains("[ERR]"))
        {
            throw new IllegalStateException("reshard failed: " + answer);
        }
        awaitOk(OK_TIMEOUT_MS);
    }

    /**
     * Scales the cluster out by one shard, as an operator does: a new instance joins as a primary without slots
     * ({@code redis-cli --cluster add-node}); slots are then moved to it ({@link #reshard}, {@link SlotMoves}).
     *
     * @return the new primary, once every live instance knows it and the cluster is whole.
     */
    RedisClusterInstance addPrimary() throws Exception
    {
        final RedisClusterInstance added = RedisClusterInstance.startFree(dir, tls);
        instances.add(added);
        final String answer = run(List.of("redis-cli", "--cluster", "add-node", "127.0.0.1:" + added.port,
            "127.0.0.1:" + livePort()), 30);
        if (!answer.contains("New node added correctly"))
        {
            throw new IllegalStateException("add-node failed: " + answer);
        }
        final String id = added.cli("CLUSTER", "MYID").trim();
        final long deadline = System.currentTimeMillis() + OK_TIMEOUT_MS;
        for (final RedisClusterInstance instance : instances)
        {
            while (instance.process.isAlive() && !instance.cli("CLUSTER", "NODES").contains(id))
            {
                if (System.currentTimeMillis() > deadline)
                {
                    throw new IllegalStateException("the new primary is not known: port=" + instance.port);
                }
                Thread.sleep(50);
            }
        }
        awaitOk(OK_TIMEOUT_MS);
        return added;
    }

    /**
     * Moves a share of every primary's slots, keys included, to those with fewer (a primary just added has none):
     * {@code redis-cli --cluster rebalance --cluster-use-empty-masters}.
     */
    void rebalance() throws Exception
    {
        awaitCheck(OK_TIMEOUT_MS);
        final String moved = run(List.of("redis-cli", "--cluster", "rebalance", "127.0.0.1:" + livePort(),
            "--cluster-use-empty-masters"), 120);
        if (moved.contains("[ERR]"))
        {
            throw new IllegalStateException("rebalance failed: " + moved);
        }
        awaitOk(OK_TIMEOUT_MS);
    }

    /**
     * Scales the cluster in by one shard, as an operator does: every slot of the primary moves to the others with
     * its keys ({@code redis-cli --cluster rebalance} with the shard's weight 0), the others forget it
     * ({@code redis-cli --cluster del-node}), and its process is stopped.
     */
    void removePrimary(final RedisClusterInstance removed) throws Exception
    {
        final String id = removed.cli("CLUSTER", "MYID").trim();
        awaitCheck(OK_TIMEOUT_MS);
        final String moved = run(List.of("redis-cli", "--cluster", "rebalance", "127.0.0.1:" + removed.port,
            "--cluster-weight", id + "=0"), 120);
        if (moved.contains("[ERR]"))
        {
            throw new IllegalStateException("rebalance failed: " + moved);
        }
        final RedisClusterInstance other = instances.stream()
            .filter(i -> i != removed && i.process.isAlive()).findFirst().orElseThrow();
        final String deleted = run(List.of("redis-cli", "--cluster", "del-node", "127.0.0.1:" + other.port, id), 30);
        if (deleted.contains("[ERR]"))
        {
            throw new IllegalStateException("del-node failed: " + deleted);
        }
        removed.process.destroy();
        removed.process.waitFor(10, TimeUnit.SECONDS);
        awaitOk(OK_TIMEOUT_MS);
    }

    /** Runs redis-cli (or any command) to the end. @return its output (stdout and stderr). */
    static String run(final List<String> command, final int timeoutSeconds) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IllegalStateException("timed out: " + command);
        }
        return new String(out, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws Exception
    {
        for (final RedisClusterInstance instance : instances)
        {
            if (instance.process != null && instance.process.isAlive())
            {
                instance.process.destroy();
                if (!instance.process.waitFor(10, TimeUnit.SECONDS))
                {
                    instance.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        }
    }
}
