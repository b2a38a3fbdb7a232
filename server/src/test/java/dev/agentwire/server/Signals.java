package dev.agentwire.server;

import java.util.concurrent.TimeUnit;

/** Signals to the processes tests start (SIGSTOP freezes one with its sockets open; SIGCONT lets it run again). */
final class Signals
{
    private Signals()
    {
    }

    /** @param name the signal without its SIG prefix, as {@code kill -NAME} takes it. */
    static void send(final Process process, final String name) throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
        if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0)
        {
            throw new IllegalStateException("kill -" + name + " failed: pid=" + process.pid());
        }
    }
}
