package dev.agentwire.server;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One redis-server of a {@link RedisClusterProcess}, on loopback ports, with its own directory. */
final class RedisClusterInstance
{
    final int port;
    /** With TLS: the port TLS clients use, whose number + 10,000 is the cluster bus (TLS too); else 0. */
    final int tlsPort;
    final Path dir;
    private final TestCertificates tls;
    Process process;

    RedisClusterInstance(final int port, final int tlsPort, final TestCertificates tls, final Path dir)
    {
        this.port = port;
        this.tlsPort = tlsPort;
        this.tls = tls;
        this.dir = dir;
    }

    /**
     * Starts one instance on a port whose cluster bus port (10,000 higher) is free too. Both are taken below the
     * kernel's ephemeral range (32768 and up), where a port probed free cannot be handed to some other connection
     * before redis-server binds it, and a bus port never passes 65535 (redis-server refuses to start then: a probed
     * ephemeral port above 55535 once failed a build). A start that still fails is tried on other ports.
     */
    static RedisClusterInstance startFree(final Path dir, final TestCertificates tls) throws Exception
    {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            final int port = freePortPair();
            int tlsPort = 0;
            while (tls != null && (tlsPort == 0 || tlsPort == port || Math.abs(tlsPort - port) == 10_000))
            {
                tlsPort = freePortPair();
            }
            final RedisClusterInstance instance = new RedisClusterInstance(port, tlsPort, tls,
                Files.createDirectories(dir.resolve("redis-" + port)));
            try
            {
                instance.start();
                return instance;
            }
            catch (final IllegalStateException ex)
            {
                instance.kill();
                last = ex;
            }
        }
        throw last;
    }

    /**
     * @return a port in [11000, 22000) that is free and of this fork's share (TestPorts), with its bus port (+10000)
     * free too; both below the kernel's ephemeral range, where the other processes' ports come from.
     */
    private static int freePortPair()
    {
        final java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int tries = 0; tries < 1000; tries++)
        {
            final int port = random.nextInt(11_000, 22_000);
            if (!TestPorts.isOurs(port))
            {
                continue;
            }
            try (ServerSocket a = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress());
                 ServerSocket b = new ServerSocket(port + 10_000, 1, java.net.InetAddress.getLoopbackAddress()))
            {
                return port;
            }
            catch (final java.io.IOException taken)
            {
                // in use: another
            }
        }
        throw new IllegalStateException("no free port pair in [11000, 22000)");
    }

    void start() throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port),
            "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "", "--appendonly", "yes",
            "--appendfsync", "always", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", Long.toString(RedisClusterProcess.NODE_TIMEOUT_MS),
            "--daemonize", "no", "--protected-mode", "yes"));
        if (tls != null)
        {
            // Redis 7 tells a TLS client the TLS ports in its slot map, and the plain port stays for redis-cli.
            command.addAll(List.of("--tls-port", Integer.toString(tlsPort), "--tls-cert-file",
                tls.certFile.toString(), "--tls-key-file", tls.keyFile.toString(), "--tls-ca-cert-file",
                tls.caFile.toString(), "--tls-auth-clients", "no", "--tls-cluster", "yes",
                "--tls-replication", "yes"));
        }
        process = new ProcessBuilder(command)
            .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cli("PING").contains("PONG"))
        {
            if (System.nanoTime() > deadline || !process.isAlive())
            {
                throw new IllegalStateException("redis-server did not start: port=" + port + " log=" +
                    Files.readString(dir.resolve("redis.log")));
            }
            Thread.sleep(20);
        }
    }

    /** Kills it at once (SIGKILL): a crashed primary. */
    void kill() throws Exception
    {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    /** @return redis-cli's answer to one command on this instance (empty on failure). */
    String cli(final String... command) throws Exception
    {
        final List<String> line = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        line.addAll(List.of(command));
        return RedisClusterProcess.run(line, 5);
    }

    boolean isPrimary() throws Exception
    {
        return cli("ROLE").startsWith("master");
    }
}
