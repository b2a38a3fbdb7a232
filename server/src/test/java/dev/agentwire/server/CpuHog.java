package dev.agentwire.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Busy processes that compete with the server for the machine's cores, as other builds on a shared CI machine
 * do: a scenario run under them shows that CPU starvation may slow delivery but never loses an event silently.
 */
final class CpuHog implements AutoCloseable
{
    private final List<Process> hogs = new ArrayList<>();

    /** @param processes busy loops to start (one per core starves the machine as two other builds would). */
    CpuHog(final int processes) throws Exception
    {
        for (int i = 0; i < processes; i++)
        {
            hogs.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
        }
    }

    @Override
    public void close() throws Exception
    {
        for (final Process hog : hogs)
        {
            hog.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
