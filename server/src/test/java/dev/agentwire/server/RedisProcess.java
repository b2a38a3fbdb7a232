package dev.agentwire.server;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real redis-server on a free loopback port, started and stopped by the test that owns it. Debian's package
 * (.ci/run installs it); without it the test is skipped locally and fails in CI.
 */
final class RedisProcess implements AutoCloseable
{
    private static final String BINARY = "redis-server";

    final int port;
    /** Where it also listens for TLS clients, with {@link #tls}'s certificate; 0 without TLS. */
    final int tlsPort;
    private final Path dir;
    private final boolean durable;
    private final TestCertificates tls;
    private Process process;

    /**
     * @param dir     where Redis keeps its files.
     * @param durable true for an append-only file fsynced on every write, so a stop and start keeps the data.
     */
    RedisProcess(final Path dir, final boolean durable) throws Exception
    {
        this(dir, durable, null);
    }

    /**
     * @param tls a certificate to also listen with on {@link #tlsPort}, or null. Clients must present a certificate
     *            its authority signed (Redis's default, {@code tls-auth-clients yes}). The plain port stays open for
     *            the test's own commands.
     */
    RedisProcess(final Path dir, final boolean durable, final TestCertificates tls) throws Exception
    {
        final boolean installed = isInstalled();
        if (!installed && "true".equals(System.getenv("CI")))
        {
            throw new IllegalStateException("CI must have redis-server (.ci/run installs it)");
        }
        assumeTrue(installed, "redis-server not installed: apt-get install -y redis-server");
        this.dir = dir;
        this.durable = durable;
        this.tls = tls;
        port = TestPorts.free();
        tlsPort = tls == null ? 0 : TestPorts.free();
        start();
    }

    String url()
    {
        return "redis://127.0.0.1:" + port;
    }

    /** @return the TLS port's URL. */
    String tlsUrl()
    {
        return "rediss://127.0.0.1:" + tlsPort;
    }

    /** Starts it (again) on the same port and directory. */
    void start() throws Exception
    {
        final List<String> command = new ArrayList<>(List.of(BINARY, "--port", Integer.toString(port),
            "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "", "--daemonize", "no",
            "--protected-mode", "yes"));
        if (tls != null)
        {
            command.addAll(List.of("--tls-port", Integer.toString(tlsPort), "--tls-cert-file", tls.certFile.toString(),
                "--tls-key-file", tls.keyFile.toString(), "--tls-ca-cert-file", tls.caFile.toString()));
        }
        if (durable)
        {
            command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
        }
        else
        {
            command.addAll(List.of("--appendonly", "no"));
        }
        process = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis-" + port + ".log").toFile())
            .start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!"+PONG".equals(command("PING")))
        {
            if (System.nanoTime() > deadline || !process.isAlive())
            {
                throw new IllegalStateException("redis-server did not start: port=" + port + " log=" +
                    Files.readString(dir.resolve("redis-" + port + ".log")));
            }
            Thread.sleep(20);
        }
    }

    /** Stops it as an operator would (SIGTERM: a durable one writes its file first) and waits. */
    void stop() throws Exception
    {
        if (process != null && process.isAlive())
        {
            Signals.send(process, "CONT");
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Freezes it (SIGSTOP): it keeps its sockets but answers nothing, as a stalled or overloaded Redis. */
    void pause() throws Exception
    {
        Signals.send(process, "STOP");
    }

    /** Lets a paused Redis run again (SIGCONT). */
    void unpause() throws Exception
    {
        Signals.send(process, "CONT");
    }

    /** Stops it and starts it again with no data at all. */
    void restartEmpty() throws Exception
    {
        stop();
        try (var files = Files.list(dir))
        {
            for (final Path file : (Iterable<Path>)files::iterator)
            {
                if (!file.getFileName().toString().endsWith(".log"))
                {
                    deleteRecursively(file.toFile());
                }
            }
        }
        start();
    }

    /** One inline command over a raw socket; null when Redis does not answer. */
    String command(final String line)
    {
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            socket.setSoTimeout(1_000);
            final OutputStream out = socket.getOutputStream();
            out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final InputStream in = socket.getInputStream();
            final StringBuilder reply = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\r')
            {
                reply.append((char)c);
            }
            return reply.toString();
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    @Override
    public void close() throws Exception
    {
        stop();
    }

    static boolean isInstalled()
    {
        for (final String path : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator))
        {
            if (new File(path, BINARY).canExecute())
            {
                return true;
            }
        }
        return false;
    }

    private static void deleteRecursively(final File file)
    {
        final File[] children = file.listFiles();
        if (children != null)
        {
            for (final File child : children)
            {
                deleteRecursively(child);
            }
        }
        if (!file.delete())
        {
            throw new IllegalStateException("cannot delete file=" + file);
        }
    }
}
