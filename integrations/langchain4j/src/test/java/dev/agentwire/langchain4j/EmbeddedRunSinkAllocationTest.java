package dev.agentwire.langchain4j;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A token published to an embedded engine allocates nothing on AgentWire's side once warm: the sink's draft and
 * payload writer are reused, and the engine's publish path allocates nothing (WholePathAllocationTest). Measured
 * with the JVM's per-thread allocation counter around 100,000 tokens (the tokens themselves made beforehand).
 */
@Timeout(60)
class EmbeddedRunSinkAllocationTest
{
    @Test
    void shouldPublishATokenWithoutAllocatingOnceWarm()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final String[] tokens = new String[64];
        for (int i = 0; i < tokens.length; i++)
        {
            tokens[i] = "token-" + i + " é ";
        }
        try (AgentWire engine = AgentWire.start(AgentWireConfig.builder().sliceCount(1).historyMaxEvents(16).build()))
        {
            final EmbeddedRunSink sink = new EmbeddedRunSink(engine, "alloc", "run-alloc", "th");
            sink.started();
            for (int i = 0; i < 20_000; i++)
            {
                sink.answer(tokens[i & 63]);
            }
            final long thread = Thread.currentThread().getId();
            final long before = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < 100_000; i++)
            {
                sink.answer(tokens[i & 63]);
            }
            final long allocated = threads.getThreadAllocatedBytes(thread) - before;
            sink.completed("done");
            assertEquals(0, sink.firstRefusal(), "every token accepted");
            assertTrue(allocated < 100_000, "allocated " + allocated + " bytes for 100,000 tokens");
        }
    }
}
