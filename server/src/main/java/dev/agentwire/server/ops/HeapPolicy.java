package dev.agentwire.server.ops;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;

import java.lang.management.ManagementFactory;

/**
 * The heap ZGC aims for when the operator has not chosen one, set once as the process starts serving.
 * <p>
 * ZGC (the collector {@code bin/agentwire} starts) paces its collections by the soft max heap, which defaults to the
 * max heap, a quarter of RAM: it lets garbage fill up to 10, 20 and 30% of that before its first collections and
 * about 10% more between later ones, and returns what it touched only after 5 minutes unused. So a server whose live
 * heap is 200 MiB held 2.2 GiB after 10 minutes at 10,000 connections and 10,000 events/s (benchmarks/README.md, the
 * soak). A soft max of {@link #DEFAULT_SOFT_MAX_BYTES} makes ZGC collect before the heap grows past it: the same soak
 * peaked at 1.27 GiB and ended at 0.94 GiB, its p99 no worse (median 18 against 22 ms). It is a target, not a limit:
 * a live heap larger than it (many more connections) grows past it with collections back to back, never an
 * OutOfMemoryError.
 * <p>
 * Left alone: other collectors, and a {@code -XX:SoftMaxHeapSize} the operator gave ({@code AGENTWIRE_JAVA_OPTS}).
 * Never above the max heap (the JVM refuses that).
 */
public final class HeapPolicy
{
    /** The soft max heap set when ZGC runs with none chosen: 1 GiB, or the max heap when that is smaller. */
    public static final long DEFAULT_SOFT_MAX_BYTES = 1L << 30;

    private HeapPolicy()
    {
    }

    /**
     * Sets ZGC's soft max heap when the operator has not.
     *
     * @return the soft max heap set, in bytes, or -1 when it was left alone (not ZGC, or set by the operator).
     */
    public static long apply()
    {
        final HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        try
        {
            if (vm == null || !"true".equals(vm.getVMOption("UseZGC").getValue()))
            {
                return -1;
            }
            final VMOption soft = vm.getVMOption("SoftMaxHeapSize");
            if (soft.getOrigin() != VMOption.Origin.DEFAULT && soft.getOrigin() != VMOption.Origin.ERGONOMIC)
            {
                return -1;
            }
            final long bytes = softMaxFor(Long.parseLong(vm.getVMOption("MaxHeapSize").getValue()),
                DEFAULT_SOFT_MAX_BYTES);
            vm.setVMOption("SoftMaxHeapSize", Long.toString(bytes));
            return bytes;
        }
        catch (final IllegalArgumentException ex)
        {
            // A JVM without these options (not HotSpot, or one that will not take the value): leave it as it is.
            return -1;
        }
    }

    /** @return the soft max heap that {@code target} gives under a max heap of {@code maxHeapBytes}. */
    static long softMaxFor(final long maxHeapBytes, final long target)
    {
        return Math.min(maxHeapBytes, target);
    }

    /** @return the soft max heap in force now, in bytes (the max heap unless set), or -1 where it cannot be read. */
    static long softMaxBytes()
    {
        final HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        try
        {
            return vm == null ? -1 : Long.parseLong(vm.getVMOption("SoftMaxHeapSize").getValue());
        }
        catch (final IllegalArgumentException ex)
        {
            return -1;
        }
    }
}
