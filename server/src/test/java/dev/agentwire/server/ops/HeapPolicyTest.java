package dev.agentwire.server.ops;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The soft max heap chosen, and that a JVM not on ZGC is left as it is (the process test covers ZGC). */
final class HeapPolicyTest
{
    @Test
    void shouldAimForOneGibibyteUnlessTheMaxHeapIsSmaller()
    {
        final long target = HeapPolicy.DEFAULT_SOFT_MAX_BYTES;
        assertEquals(target, HeapPolicy.softMaxFor(6L << 30, target));
        assertEquals(512L << 20, HeapPolicy.softMaxFor(512L << 20, target), "never above the max heap");
        assertEquals(target, HeapPolicy.softMaxFor(1L << 30, target));
    }

    @Test
    void shouldLeaveAnotherCollectorAlone()
    {
        final boolean zgc = ManagementFactory.getGarbageCollectorMXBeans().stream()
            .anyMatch(gc -> gc.getName().startsWith("ZGC"));
        final long before = HeapPolicy.softMaxBytes();
        final long set = HeapPolicy.apply();
        if (!zgc)
        {
            assertEquals(-1, set);
            assertEquals(before, HeapPolicy.softMaxBytes());
        }
        else
        {
            assertEquals(set < 0 ? before : set, HeapPolicy.softMaxBytes());
        }
    }
}
