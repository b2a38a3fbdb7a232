package dev.agentwire.server.ops;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the process really holds, for {@code /metrics}: RSS alone misleads with ZGC, which maps the heap several
 * times (measured: RSS 1.19 GB while PSS was 739 MB and the heap after GC 144 MB). PSS counts each shared page once
 * per process that maps it, so it is the figure to alert on; committed heap says what the collector keeps. Read at
 * scrape time, from {@code /proc/self/smaps_rollup} (Linux 4.14+; -1 where it cannot be read) and the JVM's beans.
 */
final class ProcessMemory
{
    private static final Path SMAPS_ROLLUP = Path.of("/proc/self/smaps_rollup");

    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(pool -> "direct".equals(pool.getName())).findFirst().orElse(null);

    void register(final MetricsExporter exporter)
    {
        exporter.gauge("agentwire_process_pss_bytes", "Proportional set size of the process (each shared page " +
            "counted once): the memory figure to alert on.", () -> rollup("Pss:"));
        exporter.gauge("agentwire_process_rss_bytes", "Resident set size; with ZGC it counts the heap's multi-mapped " +
            "pages more than once, so it overstates what the process holds.", () -> rollup("Rss:"));
        exporter.gauge("agentwire_heap_committed_bytes", "Heap the collector has committed (holds from the OS).",
            () -> memory.getHeapMemoryUsage().getCommitted());
        exporter.gauge("agentwire_heap_used_bytes", "Heap in use now (live and not yet collected).",
            () -> memory.getHeapMemoryUsage().getUsed());
        exporter.gauge("agentwire_nonheap_committed_bytes", "Metaspace, code cache and other non-heap JVM memory " +
            "committed.", () -> memory.getNonHeapMemoryUsage().getCommitted());
        exporter.gauge("agentwire_heap_soft_max_bytes", "The heap the collector paces its collections to (ZGC's " +
            "soft max heap: HeapPolicy's 1 GiB unless the operator chose one; the max heap for other collectors).",
            HeapPolicy::softMaxBytes);
        exporter.gauge("agentwire_direct_buffer_bytes", "Direct (off-heap) NIO buffers held.",
            () -> direct == null ? -1 : direct.getMemoryUsed());
    }

    /** @return the field of smaps_rollup in bytes, or -1 when it cannot be read (not Linux, or an old kernel). */
    static long rollup(final String field)
    {
        final String text;
        try
        {
            text = new String(Files.readAllBytes(SMAPS_ROLLUP), StandardCharsets.US_ASCII);
        }
        catch (final IOException | SecurityException | UnsupportedOperationException ex)
        {
            return -1;
        }
        return parseKb(text, field);
    }

    /** @return the value of a {@code Field:   123 kB} line in bytes, or -1 when there is none. */
    static long parseKb(final String text, final String field)
    {
        int at = text.indexOf('\n' + field);
        if (at < 0 && text.startsWith(field))
        {
            at = -1;
        }
        else if (at < 0)
        {
            return -1;
        }
        int i = at + 1 + field.length();
        while (i < text.length() && text.charAt(i) == ' ')
        {
            i++;
        }
        long kb = 0;
        boolean digits = false;
        while (i < text.length() && Character.isDigit(text.charAt(i)))
        {
            kb = kb * 10 + (text.charAt(i++) - '0');
            digits = true;
        }
        return digits ? kb * 1024 : -1;
    }
}
