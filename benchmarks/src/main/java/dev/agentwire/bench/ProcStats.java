package dev.agentwire.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time and resident memory of another process on this Linux machine, from /proc.
 */
final class ProcStats
{
    /** Clock ticks per second of /proc/[pid]/stat (USER_HZ, 100 on Linux). */
    private static final long TICKS_PER_SECOND = 100;

    private ProcStats()
    {
    }

    /** @return user + system CPU time in microseconds, or 0 when unknown. */
    static long cpuMicros(final long pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        try
        {
            final String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // Fields after the command name (which may hold spaces), counted from field 3.
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            final long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return ticks * 1_000_000 / TICKS_PER_SECOND;
        }
        catch (final IOException | RuntimeException ex)
        {
            return 0;
        }
    }

    /** @return resident set size in KiB, or 0 when unknown. */
    static long rssKb(final long pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/" + pid + "/status")))
            {
                if (line.startsWith("VmRSS:"))
                {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            return 0;
        }
        return 0;
    }
}
