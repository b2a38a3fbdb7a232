package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The native AG-UI run rules when the sequencer accepts only part of a batch, with and without a batch key, and the
 * rules' bounds. The socket-level version (a full ring) is in AgUiIngestBoundsTest.
 */
class AgUiRulesTest
{
    private static final String OWNER = "u:alice";

    private static JsonNode events(final String json) throws Exception
    {
        return Json.MAPPER.readTree(json);
    }

    private static final String BATCH = "[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"r1\"}," +
        "{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"m1\",\"role\":\"assistant\"}," +
        "{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"m1\",\"delta\":\"hi\"}," +
        "{\"type\":\"TEXT_MESSAGE_END\",\"messageId\":\"m1\"}," +
        "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"r1\"}]";

    @Test
    void shouldContinueARunFromTheSharedStateAnotherNodeLeftIt() throws Exception
    {
        // Node one starts r1 and opens m1; its guard carries the state a cluster stores (version 1).
        final AgUiRules one = new AgUiRules(100, 16, 60_000, 60_000);
        final AgUiPlan started = one.check(OWNER, events("[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\"," +
            "\"runId\":\"r1\"},{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"m1\",\"role\":\"assistant\"}]"), null,
            "k1", 1_000);
        final dev.agentwire.server.sequencing.RunStateGuard stored = one.guard(started);
        assertEquals(2, stored.size(), "the run, and its thread's entry verified (none waits: version 0)");
        assertEquals(0, stored.version(0));
        assertEquals(AgUiInterrupts.entryOf("t"), stored.runId(1));
        assertEquals(null, stored.newState(1));

        // Node two never saw r1: its refusal is verified, and the cluster answers the stored state.
        final AgUiRules two = new AgUiRules(100, 16, 60_000, 60_000);
        final JsonNode end = events("[{\"type\":\"TEXT_MESSAGE_END\",\"messageId\":\"m1\"}," +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"r1\"}]");
        assertEquals("run_not_started", assertThrows(AgUiRules.Violation.class, () -> two.check(OWNER, end, "r1")).rule);
        final dev.agentwire.server.sequencing.RunStateGuard verify = two.verifyGuard(OWNER, end, "r1");
        assertEquals("r1", verify.runId(0));
        assertEquals(0, verify.version(0));
        verify.current(0, 1, stored.newState(0));
        two.refresh(verify);

        final AgUiPlan finished = two.check(OWNER, end, "r1");
        assertEquals("t", finished.threadIds[1], "the thread came with the state");
        assertEquals(1, two.guard(finished).version(0), "checked against the stored version");
        assertEquals("run_finished", assertThrows(AgUiRules.Violation.class, () -> two.check(OWNER, events(
            "[{\"type\":\"CUSTOM\",\"name\":\"x\",\"value\":1}]"), "r1")).rule);
    }

    @Test
    void shouldKeepTheAcceptedPrefixSoARetryFromTheFirstRefusedEventContinues() throws Exception
    {
        final AgUiRules rules = new AgUiRules(100, 16, 60_000, 60_000);
        final AgUiPlan plan = rules.check(OWNER, events(BATCH), null);
        rules.keepPrefix(plan, 2); // RUN_STARTED and TEXT_MESSAGE_START accepted, the ring filled at CONTENT

        final JsonNode rest = events("[{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"m1\",\"delta\":\"hi\"}," +
            "{\"type\":\"TEXT_MESSAGE_END\",\"messageId\":\"m1\"}," +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"r1\"}]");
        final AgUiPlan retried = rules.check(OWNER, rest, "r1");
        assertEquals("r1", retried.runIds[2]);
    }

    @Test
    void shouldRefuseAWholeRetryWithoutAKeyAsTheRunAlreadyStarted() throws Exception
    {
        final AgUiRules rules = new AgUiRules(100, 16, 60_000, 60_000);
        rules.keepPrefix(rules.check(OWNER, events(BATCH), null), 2);
        final AgUiRules.Violation violation =
            assertThrows(AgUiRules.Violation.class, () -> rules.check(OWNER, events(BATCH), null));
        assertEquals("run_already_started", violation.rule);
    }

    @Test
    void shouldPassOverWhatAKeyedBatchHadAcceptedWhenItIsSentAgain() throws Exception
    {
        final AgUiRules rules = new AgUiRules(100, 16, 60_000, 60_000);
        rules.keepPrefix(rules.check(OWNER, events(BATCH), null, "k1", 0), 2);
        final AgUiPlan again = rules.check(OWNER, events(BATCH), null, "k1", 0);
        assertEquals(2, again.repeated);
        // Once the whole batch is through, the same key again repeats all of it (every event a duplicate).
        assertEquals(5, rules.check(OWNER, events(BATCH), null, "k1", 0).repeated);
    }

    @Test
    void shouldRefuseABatchKeySentAgainWithAnotherRun() throws Exception
    {
        // Found by the fuzzer: a key first used to continue r1, sent again starting another run.
        final AgUiRules rules = new AgUiRules(100, 16, 60_000, 60_000);
        rules.check(OWNER, events("[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"r1\"}]"), null);
        rules.check(OWNER, events("[{\"type\":\"CUSTOM\",\"name\":\"n\",\"value\":1}]"), "r1", "k2", 0);
        final AgUiRules.Violation violation = assertThrows(AgUiRules.Violation.class, () -> rules.check(OWNER,
            events("[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"other\"}]"), "r1", "k2", 0));
        assertEquals("batch_key_reused", violation.rule);
        assertEquals(0, violation.index);
    }

    @Test
    void shouldPassOverAKeyedContinuationThatHadEndedItsRun() throws Exception
    {
        final AgUiRules rules = new AgUiRules(100, 16, 60_000, 60_000);
        rules.check(OWNER, events("[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"r1\"}]"), null);
        final JsonNode end = events("[{\"type\":\"CUSTOM\",\"name\":\"n\",\"value\":1}," +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"r1\"}]");
        rules.check(OWNER, end, "r1", "k2", 0);
        // Its answer was lost; the same batch again is all duplicates, not run_finished.
        assertEquals(2, rules.check(OWNER, end, "r1", "k2", 0).repeated);
        // Without the key it is refused: the run ended.
        assertEquals("run_finished", assertThrows(AgUiRules.Violation.class, () -> rules.check(OWNER, end, "r1", null, 0)).rule);
    }

    @Test
    void shouldStillRefuseAKeyedResendWhoseRepeatedPartIsNotAgUi() throws Exception
    {
        // Found by AgUiIngestFuzzTest: the repeated part was passed over unchecked, and a draft without a type threw.
        final AgUiRules rules = new AgUiRules(100, 16, 60_000, 60_000);
        rules.check(OWNER, events(BATCH), null, "k3", 0);
        final JsonNode forged = events("[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"r1\"}," +
            "{\"tyPe\":\"TEXT_MESSAGE_START\"}]");
        assertEquals("unknown_event_type",
            assertThrows(AgUiRules.Violation.class, () -> rules.check(OWNER, forged, null, "k3", 0)).rule);
    }

    @Test
    void shouldHonourABatchKeyOnlyWithinTheDedupWindow() throws Exception
    {
        // Past the engine's dedup window a repeated event would be delivered again: the batch is checked whole.
        final AgUiRules rules = new AgUiRules(100, 16, 600_000, 60_000);
        rules.keepPrefix(rules.check(OWNER, events(BATCH), null, "k4", 1_000), 2);
        assertEquals("run_already_started", assertThrows(AgUiRules.Violation.class,
            () -> rules.check(OWNER, events(BATCH), null, "k4", System.currentTimeMillis() + 61_000)).rule);
    }

    @Test
    void shouldTakeEverythingBackWhenNothingWasAccepted() throws Exception
    {
        final AgUiRules rules = new AgUiRules(100, 16, 60_000, 60_000);
        rules.keepPrefix(rules.check(OWNER, events(BATCH), null), 0);
        assertEquals(0, rules.size());
        rules.check(OWNER, events(BATCH), null);
    }

    @Test
    void shouldBoundOpenPartsAndIdLengthAndForgetFinishedRunsAfterTheRetention() throws Exception
    {
        final AgUiRules rules = new AgUiRules(100, 2, 1_000, 60_000);
        final AgUiRules.Violation tooMany = assertThrows(AgUiRules.Violation.class, () -> rules.check(OWNER, events(
            "[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"r\"}," +
            "{\"type\":\"STEP_STARTED\",\"stepName\":\"a\"},{\"type\":\"STEP_STARTED\",\"stepName\":\"b\"}," +
            "{\"type\":\"STEP_STARTED\",\"stepName\":\"c\"}]"), null));
        assertEquals("run_too_many_open_parts", tooMany.rule);
        assertEquals(3, tooMany.index);

        final AgUiRules.Violation tooLong = assertThrows(AgUiRules.Violation.class, () -> rules.check(OWNER, events(
            "[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"" + "x".repeat(257) + "\"}]"), null));
        assertEquals("field_too_long", tooLong.rule);

        rules.check(OWNER, events(BATCH), null, null, 10_000);
        assertEquals(1, rules.size());
        rules.check(OWNER, events(BATCH.replace("r1", "r2")), null, null, 10_500);
        assertEquals(2, rules.size(), "within the retention both are kept");
        rules.check(OWNER, events(BATCH.replace("r1", "r3")), null, null, 11_200);
        assertEquals(2, rules.size(), "r1 ended 1.2 s ago: forgotten");
        assertEquals(1, rules.forgotten());
    }
}
