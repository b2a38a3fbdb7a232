package dev.agentwire.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lifecycle rules, one row per rule: a valid prefix is accepted, then the offending event gets its status and
 * is not delivered.
 */
@Timeout(30)
class RunLifecycleTest
{
    private AgentWire wire;
    private final EventDraft draft = new EventDraft();

    @BeforeEach
    void setUp()
    {
        wire = AgentWire.start(AgentWireConfig.builder().sliceCount(1).build());
    }

    @AfterEach
    void tearDown()
    {
        wire.close();
    }

    /** A step: type, tool call id, outcome. */
    private record Step(String type, String call, byte outcome)
    {
        static Step of(final String type)
        {
            return new Step(type, null, Outcome.NONE);
        }

        static Step tool(final String type, final String call)
        {
            return new Step(type, call, Outcome.NONE);
        }

        static Step done(final byte outcome)
        {
            return new Step(EventTypes.AGENT_COMPLETED, null, outcome);
        }
    }

    static Stream<Arguments> violations()
    {
        final Step start = Step.of(EventTypes.AGENT_STARTED);
        final Step think = Step.of(EventTypes.AGENT_THINKING);
        final Step answer = Step.of(EventTypes.AGENT_ANSWER);
        return Stream.of(
            Arguments.of("thinking before start", List.of(), think, PublishStatus.RUN_NOT_STARTED),
            Arguments.of("an answer delta before start", List.of(), answer, PublishStatus.RUN_NOT_STARTED),
            Arguments.of("an answer delta after completion", List.of(start, answer, Step.done(Outcome.SUCCESS)),
                answer, PublishStatus.RUN_COMPLETED),
            Arguments.of("tool before start", List.of(), Step.tool(EventTypes.TOOL_EXECUTING, "c"),
                PublishStatus.RUN_NOT_STARTED),
            Arguments.of("completed before start", List.of(), Step.done(Outcome.SUCCESS),
                PublishStatus.RUN_NOT_STARTED),
            Arguments.of("started twice", List.of(start), start, PublishStatus.RUN_ALREADY_STARTED),
            Arguments.of("tool_completed for unknown call", List.of(start),
                Step.tool(EventTypes.TOOL_COMPLETED, "nope"), PublishStatus.TOOL_CALL_UNKNOWN),
            Arguments.of("tool_completed twice", List.of(start, Step.tool(EventTypes.TOOL_EXECUTING, "c"),
                Step.tool(EventTypes.TOOL_COMPLETED, "c")), Step.tool(EventTypes.TOOL_COMPLETED, "c"),
                PublishStatus.TOOL_CALL_UNKNOWN),
            Arguments.of("same call id while open", List.of(start, Step.tool(EventTypes.TOOL_EXECUTING, "c")),
                Step.tool(EventTypes.TOOL_EXECUTING, "c"), PublishStatus.TOOL_CALL_DUPLICATE),
            Arguments.of("success with an open call", List.of(start, Step.tool(EventTypes.TOOL_EXECUTING, "c")),
                Step.done(Outcome.SUCCESS), PublishStatus.TOOL_CALLS_OPEN),
            Arguments.of("thinking after completion", List.of(start, Step.done(Outcome.SUCCESS)), think,
                PublishStatus.RUN_COMPLETED),
            Arguments.of("restart after completion", List.of(start, Step.done(Outcome.ERROR)), start,
                PublishStatus.RUN_COMPLETED),
            Arguments.of("tool after completion", List.of(start, Step.done(Outcome.CANCELLED)),
                Step.tool(EventTypes.TOOL_EXECUTING, "c"), PublishStatus.RUN_COMPLETED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("violations")
    void shouldRefuseAViolationAndDeliverNothingForIt(
        final String name, final List<Step> prefix, final Step offending, final long expected)
    {
        final String run = "run-" + name.hashCode();
        final RecordingSubscriber user = RecordingSubscriber.inline().subscribe(wire, "u");
        for (final Step step : prefix)
        {
            assertTrue(wire.publish(draftOf(step, run)) >= 0, "prefix step " + step);
        }
        final long status = wire.publish(draftOf(offending, run));

        assertEquals(expected, status, () -> "got " + PublishStatus.name(status));
        assertTrue(PublishStatus.isLifecycleViolation(status));
        wire.publish(Drafts.custom(draft, "u", "{\"marker\":true}"));
        RecordingSubscriber.await(() -> user.events.size() == prefix.size() + 1, 5_000, "prefix and marker");
        assertEquals("test.note", user.events.get(prefix.size()).type());
    }

    @Test
    void shouldAllowErrorOrCancelWithOpenCallsAndParallelCalls()
    {
        assertTrue(wire.publish(Drafts.started(draft, "u", "r1")) >= 0);
        assertTrue(wire.publish(Drafts.executing(draft, "u", "r1", "a")) >= 0);
        assertTrue(wire.publish(Drafts.executing(draft, "u", "r1", "b")) >= 0);
        assertTrue(wire.publish(Drafts.toolCompleted(draft, "u", "r1", "b")) >= 0);
        assertTrue(wire.publish(Drafts.completed(draft, "u", "r1", Outcome.ERROR)) >= 0);

        assertTrue(wire.publish(Drafts.started(draft, "u", "r2")) >= 0);
        assertTrue(wire.publish(Drafts.executing(draft, "u", "r2", "a")) >= 0);
        assertTrue(wire.publish(Drafts.completed(draft, "u", "r2", Outcome.CANCELLED)) >= 0);
    }

    @Test
    void shouldPassCustomTypesThroughWithoutARun()
    {
        assertTrue(wire.publish(draft.reset().toUser("u").type("app.progress").payload("{}")) >= 0);
        assertTrue(wire.publish(draft.reset().toUser("u").type("ui.card-shown").runId("never-started")
            .payload("{}")) >= 0);
    }

    @Test
    void shouldAcceptAnyOrderWhenLifecycleModeIsOff()
    {
        wire.close();
        wire = AgentWire.start(AgentWireConfig.builder().lifecycleMode(AgentWireConfig.LifecycleMode.OFF).build());
        assertTrue(wire.publish(Drafts.completed(draft, "u", "r", Outcome.SUCCESS)) >= 0);
        assertTrue(wire.publish(Drafts.toolCompleted(draft, "u", "r", "x")) >= 0);
        assertTrue(wire.publish(Drafts.started(draft, "u", "r")) >= 0);
        assertTrue(wire.publish(Drafts.started(draft, "u", "r")) >= 0);
        // Fields are still required.
        assertEquals(PublishStatus.INVALID_ARGUMENT,
            wire.publish(draft.reset().toUser("u").type(EventTypes.AGENT_COMPLETED).runId("r")));
    }

    @Test
    void shouldForgetIdleRunsAfterRetention()
    {
        wire.close();
        final ManualClock clock = new ManualClock(1_000_000);
        wire = AgentWire.start(AgentWireConfig.builder().clock(clock).runRetentionMs(2_000).tickIntervalMs(5).build());
        assertTrue(wire.publish(Drafts.started(draft, "u", "old")) >= 0);
        assertTrue(wire.publish(Drafts.completed(draft, "u", "old", Outcome.SUCCESS)) >= 0);
        assertEquals(PublishStatus.RUN_COMPLETED, wire.publish(Drafts.thinking(draft, "u", "old", "x")));

        clock.advance(10_000);
        RecordingSubscriber.await(() -> wire.publish(Drafts.thinking(draft, "u", "old", "x")) ==
            PublishStatus.RUN_NOT_STARTED, 5_000, "run forgotten");
    }

    private EventDraft draftOf(final Step step, final String run)
    {
        draft.reset().toUser("u").type(step.type()).runId(run).payload("{}");
        if (step.call() != null)
        {
            draft.toolCallId(step.call());
        }
        if (step.outcome() != Outcome.NONE)
        {
            draft.outcome(step.outcome());
        }
        return draft;
    }
}
