package dev.agentwire.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentWireConfigTest
{
    @Test
    void shouldBuildValidDefaults()
    {
        final AgentWireConfig config = AgentWireConfig.defaults();
        assertEquals(AgentWireConfig.DEFAULT_RING_SIZE, config.ringSize());
        assertEquals(Runtime.getRuntime().availableProcessors(), config.sliceCount());
        assertEquals(AgentWireConfig.LifecycleMode.STRICT, config.lifecycleMode());
        assertEquals(AgentWireConfig.WaitStrategy.BLOCKING, config.waitStrategy());
    }

    @Test
    void shouldNameTheBadKeyAndValue()
    {
        final IllegalArgumentException ringSize = assertThrows(IllegalArgumentException.class,
            () -> AgentWireConfig.builder().ringSize(1000).build());
        assertEquals("invalid config: ringSize=1000 must be a power of two >= 64", ringSize.getMessage());

        // Each slice's log must hold at least two of the largest events.
        final IllegalArgumentException log = assertThrows(IllegalArgumentException.class,
            () -> AgentWireConfig.builder().sliceCount(2).maxPayloadBytes(1 << 20).historyMaxTotalBytes(2 << 20)
                .build());
        assertTrue(log.getMessage().startsWith("invalid config: historyMaxTotalBytes=2097152"), log.getMessage());
        assertEquals(1 << 20, AgentWireConfig.builder().sliceCount(3).maxPayloadBytes(1024)
            .historyMaxTotalBytes(3 << 20).build().sliceLogCapacity(), "a power of two per slice");

        assertThrows(IllegalArgumentException.class, () -> AgentWireConfig.builder().sliceCount(0).build());
        assertThrows(IllegalArgumentException.class, () -> AgentWireConfig.builder().publishStripes(3).build());
        assertThrows(IllegalArgumentException.class, () -> AgentWireConfig.builder().clock(null).build());
        assertThrows(IllegalArgumentException.class,
            () -> AgentWireConfig.builder().maxPayloadBytes(1 << 20).largePayloadMaxBytes(1024).build());
    }

    @Test
    void shouldClassifyEventTypes()
    {
        assertTrue(EventTypes.isAgentType("agent_started"));
        assertTrue(EventTypes.isCustomType("app.progress"));
        assertTrue(EventTypes.isCustomType("ui.card_shown.v2"));
        assertTrue(EventTypes.isCustomType("a-b.c-d"));
        assertFalse(EventTypes.isCustomType("progress"));
        assertFalse(EventTypes.isCustomType("App.progress"));
        assertFalse(EventTypes.isCustomType("app..progress"));
        assertFalse(EventTypes.isCustomType("app.progress."));
        assertFalse(EventTypes.isCustomType(".app"));
        assertFalse(EventTypes.isCustomType("app.pro gress"));
        assertFalse(EventTypes.isCustomType("a." + "x".repeat(64)));
        assertFalse(EventTypes.isCustomType(null));
    }

    @Test
    void shouldNameEveryStatusAndOutcome()
    {
        for (long status = PublishStatus.CLOSED; status >= PublishStatus.TOOL_CALLS_OPEN; status--)
        {
            final String name = PublishStatus.name(status);
            if (status > PublishStatus.DUPLICATE - 1 || status <= PublishStatus.RUN_NOT_STARTED)
            {
                assertFalse(name.startsWith("unknown"), "status " + status);
            }
        }
        assertEquals("accepted", PublishStatus.name(0));
        assertEquals(Outcome.CANCELLED, Outcome.parse("cancelled"));
        assertEquals(Outcome.NONE, Outcome.parse("done"));
        assertEquals("success", Outcome.name(Outcome.SUCCESS));
    }
}
