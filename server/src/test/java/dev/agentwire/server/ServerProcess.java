package dev.agentwire.server;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A server in a JVM of its own ({@code Main serve}, as in production), for tests that kill it with SIGKILL. Runs
 * from the module path when the tests do. Started ready (its {@code /readyz} answers 200); killed or stopped by the
 * test that owns it.
 */
final class ServerProcess implements AutoCloseable
{
    final int port;
    private final Path log;
    private final Process process;

    private ServerProcess(final int port, final Path log, final Process process)
    {
        this.port = port;
        this.log = log;
        this.process = process;
    }

    /**
     * @param port  the port (0: a free one).
     * @param log   where its output goes (appended).
     * @param env   its AGENTWIRE_* settings besides the test secrets.
     */
    static ServerProcess start(final int port, final Path log, final Map<String, String> env) throws Exception
    {
        return start(port, log, env, null);
    }

    /**
     * @param cpus the CPUs the server may run on ({@code taskset -c} syntax, e.g. {@code "0"}), or null for any: a
     *             measurement keeps the server apart from the clients that load it, as the benchmarks do. The
     *             server then runs as {@code bin/agentwire} starts it (bin/jvm.options, exit on OutOfMemoryError).
     */
    static ServerProcess start(final int port, final Path log, final Map<String, String> env, final String cpus)
        throws Exception
    {
        final int bound = port == 0 ? TestPorts.free() : port;
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final List<String> command = new ArrayList<>();
        if (cpus != null)
        {
            final Path options = Path.of("..", "bin", "jvm.options").toAbsolutePath().normalize();
            if (!Files.isRegularFile(options))
            {
                throw new IllegalStateException("jvmOptions=" + options + " not found (tests run in server/)");
            }
            command.addAll(List.of("taskset", "-c", cpus, java, "@" + options, "-XX:+ExitOnOutOfMemoryError"));
        }
        else
        {
            command.add(java);
        }
        command.addAll(List.of(
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        final String modulePath = System.getProperty("jdk.module.path");
        if (modulePath != null)
        {
            // The tests run on the module path: the server is the module dev.agentwire.server, Agrona org.agrona.
            command.addAll(List.of("--add-exports", "java.base/jdk.internal.misc=org.agrona",
                "--module-path", modulePath, "-m", "dev.agentwire.server/dev.agentwire.server.Main"));
        }
        else
        {
            command.add("dev.agentwire.server.Main");
        }
        command.addAll(List.of("serve", "--host", "127.0.0.1", "--port", Integer.toString(bound)));
        final ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("AGENTWIRE_JWT_SECRET", Tokens.SECRET);
        builder.environment().put("AGENTWIRE_PRODUCER_KEY", Tokens.PRODUCER_KEY);
        builder.environment().putAll(env);
        final ServerProcess server = new ServerProcess(bound, log, builder.start());
        server.awaitReady();
        return server;
    }

    private void awaitReady() throws Exception
    {
        final HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(2)).build();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline)
        {
            if (!process.isAlive())
            {
                throw new AssertionError("server exited: " + log());
            }
            try
            {
                if (WsClient.HTTP.send(ready, HttpResponse.BodyHandlers.ofString()).statusCode() == 200)
                {
                    return;
                }
            }
            catch (final IOException notYet)
            {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server not ready: " + log());
    }

    URI ws()
    {
        return URI.create("ws://127.0.0.1:" + port + "/v1/ws");
    }

    URI http(final String path)
    {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** SIGKILL: the process ends at once, with whatever it held. */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGSTOP: the process stands still, its sockets and what Redis holds of it untouched, until {@link #unpause}. */
    void pause() throws Exception
    {
        Signals.send(process, "STOP");
    }

    /** SIGCONT: a paused process runs again. */
    void unpause() throws Exception
    {
        Signals.send(process, "CONT");
    }

    String log()
    {
        try
        {
            return Files.readString(log);
        }
        catch (final IOException ex)
        {
            return ex.toString();
        }
    }

    @Override
    public void close() throws InterruptedException
    {
        kill();
    }

    /** Every CPU this machine has, as {@code taskset -c} takes them (for {@link #pinSelf} to undo a pinning). */
    static String allCpus()
    {
        return "0-" + (Runtime.getRuntime().availableProcessors() - 1);
    }

    /**
     * Pins every thread of this JVM (and the threads it starts from now on) to these CPUs, or back to all of them.
     *
     * @return false when it could not (no taskset, or a single CPU): the caller measures unpinned.
     */
    static boolean pinSelf(final String cpus) throws InterruptedException
    {
        if (Runtime.getRuntime().availableProcessors() < 2)
        {
            return false;
        }
        try
        {
            final Process taskset = new ProcessBuilder("taskset", "-a", "-p", "-c", cpus,
                Long.toString(ProcessHandle.current().pid())).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return taskset.waitFor(10, TimeUnit.SECONDS) && taskset.exitValue() == 0;
        }
        catch (final IOException noTaskset)
        {
            return false;
        }
    }
}
