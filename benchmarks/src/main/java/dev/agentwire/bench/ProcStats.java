package dev.agentwire.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time and resident memory of another process on this Linux machine, from /proc.
 */
final class ProcStats
{
    /** What {@code jcmd GC.heap_info} says of the heap in use, e.g. "used 183250K". */
    private static final java.util.regex.Pattern HEAP_USED = java.util.regex.Pattern.compile("used (\\d+)([KMG])");

    /** Clock ticks per second of /proc/[pid]/stat (USER_HZ, 100 on Linux). */
    private static final long TICKS_PER_SECOND = 100;

    private ProcStats()
    {
    }

    /**
     * @return user + system CPU time in microseconds, its own and its reaped children's, or 0 when unknown. The
     *     children count: Redis rewrites its append-only file in a forked child (a tenth of Redis's CPU samples in
     *     one profile at 40,000 events/s), work it does for its events.
     */
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
            final long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]) + Long.parseLong(fields[13]) +
                Long.parseLong(fields[14]);
            return ticks * 1_000_000 / TICKS_PER_SECOND;
        }
        catch (final IOException | RuntimeException ex)
        {
            return 0;
        }
    }

    /** @return the CPU time of several processes together, in microseconds (0 for a pid that is not one). */
    static long cpuMicros(final long[] pids)
    {
        long total = 0;
        for (final long pid : pids)
        {
            total += cpuMicros(pid);
        }
        return total;
    }

    /** @return the pids given as text (blank entries skipped). */
    static long[] pids(final String[] texts)
    {
        return java.util.Arrays.stream(texts).filter(t -> !t.isBlank()).mapToLong(t -> Long.parseLong(t.trim()))
            .toArray();
    }

    /**
     * The process's proportional set size (PSS, from /proc/PID/smaps_rollup): resident memory with shared pages
     * divided among their sharers. Unlike VmRSS it does not count ZGC's multi-mapped heap three times; for a
     * process with nothing shared the two agree. Falls back to VmRSS where smaps_rollup is missing.
     *
     * @return kB, or 0 when unknown.
     */
    static long pssKb(final long pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        final long pss = field(Path.of("/proc/" + pid + "/smaps_rollup"), "Pss:");
        return pss > 0 ? pss : field(Path.of("/proc/" + pid + "/status"), "VmRSS:");
    }

    private static long field(final Path file, final String name)
    {
        try
        {
            for (final String line : Files.readAllLines(file))
            {
                if (line.startsWith(name))
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

    /** @return this process's CPU time (the load tool's own), or 0 where the JVM does not say. */
    static long selfCpuNanos()
    {
        final java.lang.management.OperatingSystemMXBean os =
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean ?
            ((com.sun.management.OperatingSystemMXBean)os).getProcessCpuTime() : 0;
    }

    /**
     * The process's proportional set size twice: half a second after a full collection, and again once it has sat
     * idle for {@code settleMs} in all. The two differ by what a collector frees but keeps for a while: ZGC keeps
     * freed heap committed for its {@code ZUncommitDelay} (300 s by default, 1 s as {@code bin/agentwire} starts
     * it), and a server measured at once is charged for the garbage its connections' opening left.
     *
     * @param gcFirst  ask the JVM at {@code pid} for a full collection first (jcmd GC.run), so what is measured is
     *                 what the process holds, not garbage it has not collected yet.
     * @param settleMs how long after the collection (or from now, without one) the second reading is taken.
     * @return {at once, settled}, KiB.
     */
    static long[] idlePssKb(final long pid, final boolean gcFirst, final long settleMs) throws Exception
    {
        if (gcFirst && pid > 0)
        {
            jcmd(pid, "GC.run");
        }
        final long firstMs = Math.max(0, Math.min(500, settleMs));
        Thread.sleep(firstMs);
        final long atOnce = pssKb(pid);
        Thread.sleep(Math.max(0, settleMs - firstMs));
        return new long[] {atOnce, pssKb(pid)};
    }

    /** @return {at once, settled} KiB per connection from two {@link #idlePssKb} readings; -1 without a server. */
    static double[] perConnectionKb(final long[] beforeKb, final long[] afterKb, final long pid, final int connections)
    {
        if (pid <= 0 || connections <= 0)
        {
            return new double[] {-1, -1};
        }
        return new double[] {
            (afterKb[0] - beforeKb[0]) / (double)connections, (afterKb[1] - beforeKb[1]) / (double)connections};
    }

    /**
     * @return the Java heap the JVM at {@code pid} has in use (jcmd GC.heap_info: the first "used" it prints is the
     *     heap's, for ZGC, G1, Parallel and Serial alike), KiB; -1 when it cannot be read.
     */
    static long heapUsedKb(final long pid) throws Exception
    {
        final String text = jcmd(pid, "GC.heap_info");
        final java.util.regex.Matcher used = text == null ? null : HEAP_USED.matcher(text);
        if (used == null || !used.find())
        {
            return -1;
        }
        final long value = Long.parseLong(used.group(1));
        switch (used.group(2))
        {
            case "G":
                return value << 20;
            case "M":
                return value << 10;
            default:
                return value;
        }
    }

    /**
     * Runs one jcmd command against the JVM at {@code pid}, at most 30 s. Its output goes to a file, not a pipe, so
     * the wait is bounded whatever it prints.
     *
     * @return what it printed, or null when it did not finish in time.
     */
    private static String jcmd(final long pid, final String command) throws Exception
    {
        final Path output = Files.createTempFile("jcmd-", ".txt");
        try
        {
            final Process jcmd = new ProcessBuilder("jcmd", Long.toString(pid), command)
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!jcmd.waitFor(30, java.util.concurrent.TimeUnit.SECONDS))
            {
                jcmd.destroyForcibly();
                return null;
            }
            return Files.readString(output);
        }
        finally
        {
            Files.deleteIfExists(output);
        }
    }
}
