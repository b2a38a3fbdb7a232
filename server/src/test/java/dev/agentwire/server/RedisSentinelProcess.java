package dev.agentwire.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A Redis primary, one replica of it and a Sentinel watching them (quorum 1, a primary judged down after 1 s), the
 * servers with a password and the Sentinel without one (with TLS, with one of its own), all real {@code redis-server}
 * processes on free loopback ports (Debian's package; the Sentinel is the same binary with {@code --sentinel}). A
 * server killed and started again keeps its port and data; the Sentinel makes a returning primary a replica. Stopped
 * by {@link #close()}.
 */
final class RedisSentinelProcess implements AutoCloseable
{
    /** The name the Sentinel knows the primary by, as a node's URL gives it ({@code #master}). */
    static final String MASTER = "agentwire";
    private static final long DOWN_AFTER_MS = 1_000;

    private final Path dir;
    private final List<Server> servers = new ArrayList<>();
    final Server first;
    final Server replica;
    final Server sentinel;

    /** A redis-server process on its port, which can be killed and started again with the same data. */
    static final class Server
    {
        final int port;
        /** With TLS: the port TLS clients and the other servers use (the plain one stays for redis-cli); else 0. */
        final int tlsPort;
        private final List<String> command;
        private final Path log;
        private final String password;
        private volatile Process process;

        private Server(final int port, final int tlsPort, final List<String> command, final Path log,
            final String password)
        {
            this.port = port;
            this.tlsPort = tlsPort;
            this.command = command;
            this.log = log;
            this.password = password;
        }

        /** @return redis-cli's answer to {@code command} on this server, trimmed. */
        String cli(final String... command) throws Exception
        {
            final List<String> line = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
            if (password != null)
            {
                line.addAll(List.of("--no-auth-warning", "-a", password));
            }
            line.addAll(List.of(command));
            return RedisClusterProcess.run(line, 10).trim();
        }

        /** Kills it as a crash would (SIGKILL): nothing written, no goodbye to its replica. */
        void kill() throws Exception
        {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }

        boolean isAlive()
        {
            return process.isAlive();
        }

        /** Starts it (again) on its port and data, and waits for its PING. */
        void start() throws Exception
        {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!"PONG".equals(cli("PING")))
            {
                check(System.nanoTime() < deadline && process.isAlive(), "did not start", this);
                Thread.sleep(20);
            }
        }

        /** @return the port the Sentinel and the other servers know it by: its TLS port under TLS. */
        int announced()
        {
            return tlsPort != 0 ? tlsPort : port;
        }

        String log() throws Exception
        {
            return Files.exists(log) ? Files.readString(log) : "";
        }
    }

    /** The primary's and replica's password (the Sentinel has none of its own). */
    final String password;
    /** With TLS everywhere (clients, replication, the Sentinel's own connections), else null. */
    private final TestCertificates tls;
    /** The Sentinel's own password (its {@code requirepass}), set with TLS; else null. */
    final String sentinelPassword;

    RedisSentinelProcess(final Path dir, final String password) throws Exception
    {
        this(dir, password, null);
    }

    /**
     * @param tls a certificate for every server and the Sentinel, each also listening for TLS clients, which must
     *            present a certificate its authority signed (Redis's default); replication and the Sentinel's own
     *            connections speak TLS too, so the Sentinel names the servers by their TLS ports. The Sentinel is
     *            then hardened as in production, with a password of its own ({@link #sentinelPassword}). Or null.
     */
    RedisSentinelProcess(final Path dir, final String password, final TestCertificates tls) throws Exception
    {
        this.password = password;
        this.tls = tls;
        this.sentinelPassword = tls == null ? null : password + "-sentinel";
        final boolean installed = RedisProcess.isInstalled();
        if (!installed && "true".equals(System.getenv("CI")))
        {
            throw new IllegalStateException("CI must have redis-server (.ci/run installs it)");
        }
        assumeTrue(installed, "redis-server not installed: apt-get install -y redis-server");
        this.dir = dir;
        first = start("primary", List.of());
        replica = start("replica", List.of("--replicaof", "127.0.0.1", Integer.toString(first.announced())));
        awaitReplicaInSync();
        final int sentinelPort = TestPorts.free();
        final int sentinelTlsPort = tls == null ? 0 : TestPorts.free();
        final List<String> tlsLines = tls == null ? List.of() : List.of("tls-port " + sentinelTlsPort,
            "tls-cert-file " + tls.certFile, "tls-key-file " + tls.keyFile, "tls-ca-cert-file " + tls.caFile,
            "tls-replication yes");
        final Path config = Files.writeString(dir.resolve("sentinel.conf"), String.join("\n",
            "port " + sentinelPort,
            "bind 127.0.0.1",
            "dir " + dir,
            String.join("\n", tlsLines),
            "sentinel monitor " + MASTER + " 127.0.0.1 " + first.announced() + " 1",
            "sentinel auth-pass " + MASTER + " " + password,
            sentinelPassword == null ? "" : "requirepass " + sentinelPassword,
            "sentinel down-after-milliseconds " + MASTER + " " + DOWN_AFTER_MS,
            // Also how long before the Sentinel fails the same primary's name over again (twice this).
            "sentinel failover-timeout " + MASTER + " 3000",
            "sentinel parallel-syncs " + MASTER + " 1", ""));
        sentinel = launch("sentinel", sentinelPort, sentinelTlsPort,
            List.of("redis-server", config.toString(), "--sentinel"));
        // The Sentinel learns the replica from the primary's INFO (every 10 s at first, then it is known).
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!sentinel.cli("SENTINEL", "REPLICAS", MASTER).contains(Integer.toString(replica.announced())))
        {
            check(System.nanoTime() < deadline, "the sentinel never saw the replica", sentinel);
            Thread.sleep(100);
        }
    }

    /** @return the URL a node is given: the servers' password, the Sentinel and the primary's name. */
    String url()
    {
        return (tls == null ? "redis-sentinel://:" : "rediss-sentinel://:") + password + "@127.0.0.1:" +
            sentinel.announced() + "#" + MASTER;
    }

    /** @return the server the Sentinel names as the primary now. */
    Server primary() throws Exception
    {
        final int port = primaryPort();
        return port == first.announced() ? first : replica;
    }

    /**
     * @return whether the server the Sentinel does not name as primary is its replica, linked and synced: a failover
     *     now would promote a server with the primary's data (the case Sentinel is made for).
     */
    boolean hasSyncedReplica() throws Exception
    {
        final Server other = primary() == first ? replica : first;
        if (!other.isAlive())
        {
            return false;
        }
        final String info = other.cli("INFO", "replication");
        return info.contains("role:slave") && info.contains("master_link_status:up") &&
            info.contains("master_sync_in_progress:0") && info.contains("master_port:" + primaryPort());
    }

    /** @return the port of the primary the Sentinel names now (its TLS port under TLS). */
    int primaryPort() throws Exception
    {
        final String[] answer = sentinel.cli("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER).split("\n");
        return Integer.parseInt(answer[answer.length - 1].trim());
    }

    /** Waits until the Sentinel names a primary other than {@code oldPort} and that primary takes writes. */
    void awaitFailoverFrom(final int oldPort, final long timeoutMs) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (primaryPort() == oldPort || !primary().cli("ROLE").startsWith("master"))
        {
            check(System.nanoTime() < deadline, "no failover within " + timeoutMs + " ms", sentinel);
            Thread.sleep(100);
        }
    }

    private void awaitReplicaInSync() throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!replica.cli("INFO", "replication").contains("master_link_status:up"))
        {
            check(System.nanoTime() < deadline, "the replica never synced", replica);
            Thread.sleep(50);
        }
    }

    private Server start(final String name, final List<String> extra) throws Exception
    {
        final int port = TestPorts.free();
        final int tlsPort = tls == null ? 0 : TestPorts.free();
        final Path data = Files.createDirectories(dir.resolve(name));
        final List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port),
            "--bind", "127.0.0.1", "--dir", data.toString(), "--save", "", "--appendonly", "yes",
            "--daemonize", "no", "--requirepass", password, "--masterauth", password));
        if (tls != null)
        {
            command.addAll(List.of("--tls-port", Integer.toString(tlsPort), "--tls-cert-file", tls.certFile.toString(),
                "--tls-key-file", tls.keyFile.toString(), "--tls-ca-cert-file", tls.caFile.toString(),
                "--tls-replication", "yes"));
        }
        command.addAll(extra);
        return launch(name, port, tlsPort, command);
    }

    private Server launch(final String name, final int port, final int tlsPort, final List<String> command)
        throws Exception
    {
        final Server server = new Server(port, tlsPort, command, dir.resolve(name + ".log"),
            command.contains("--sentinel") ? sentinelPassword : password);
        servers.add(server);
        server.start();
        return server;
    }

    private static void check(final boolean ok, final String what, final Server server) throws Exception
    {
        if (!ok)
        {
            throw new IllegalStateException(what + ": port=" + server.port + " log=" + server.log());
        }
    }

    @Override
    public void close() throws Exception
    {
        for (final Server server : servers)
        {
            if (server.process != null)
            {
                server.kill();
            }
        }
    }
}
