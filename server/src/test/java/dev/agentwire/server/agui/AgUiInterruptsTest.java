package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.sequencing.RunStateGuard;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * AG-UI 1.0's interrupt rules as the run states keep them per thread: what an input on a waiting thread must answer,
 * how an answer closes the wait, how a new run supersedes it, and how the wait travels to another node. The same
 * rules against the real server, over both transports and across a cluster, are in the client's tests
 * (ag-ui.test.mjs, ag-ui-http.test.mjs) and ClusterAgUiRunsTest.
 */
class AgUiInterruptsTest
{
    private static final String OWNER = "u:alice";
    private static final long NOW_MS = 1_764_000_000_000L; // 2025-11-24T16:00:00Z

    private static JsonNode json(final String text) throws Exception
    {
        return Json.MAPPER.readTree(text);
    }

    private static AgUiRules waiting(final String interrupts) throws Exception
    {
        final AgUiRules rules = new AgUiRules(100, 16, 60_000, 60_000);
        rules.check(OWNER, json("[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"r1\"}," +
            "{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"r1\",\"outcome\":{\"type\":\"interrupt\"," +
            "\"interrupts\":" + interrupts + "}}]"), null, null, NOW_MS);
        return rules;
    }

    private static String refusal(final AgUiRules rules, final String resume)
    {
        return assertThrows(AgUiRules.Violation.class,
            () -> rules.checkInput(OWNER, "t", resume == null ? null : json(resume), NOW_MS)).rule;
    }

    @Test
    void shouldRequireEveryInterruptAnsweredOnceBeforeTheThreadRunsAgain() throws Exception
    {
        final AgUiRules rules = waiting("[{\"id\":\"a\",\"reason\":\"approval\"},{\"id\":\"b\",\"reason\":\"input\"}]");
        assertEquals(AgUiInterrupts.OPEN, refusal(rules, null));
        assertEquals(AgUiInterrupts.OPEN, refusal(rules, "[]"));
        assertEquals(AgUiInterrupts.UNCOVERED, refusal(rules, "[{\"interruptId\":\"a\",\"status\":\"resolved\"}]"));
        assertEquals(AgUiInterrupts.UNKNOWN, refusal(rules, "[{\"interruptId\":\"a\",\"status\":\"resolved\"}," +
            "{\"interruptId\":\"c\",\"status\":\"resolved\"}]"));
        assertEquals(AgUiInterrupts.RESUME_INVALID, refusal(rules, "[{\"interruptId\":\"a\",\"status\":\"resolved\"}," +
            "{\"interruptId\":\"a\",\"status\":\"cancelled\"}]"));
        assertEquals(AgUiInterrupts.RESUME_INVALID, refusal(rules, "[{\"interruptId\":\"a\",\"status\":\"ok\"}]"));
        assertEquals(AgUiInterrupts.OPEN, refusal(rules, null), "a refusal changed nothing");

        rules.checkInput(OWNER, "t", json("[{\"interruptId\":\"b\",\"status\":\"cancelled\"}," +
            "{\"interruptId\":\"a\",\"status\":\"resolved\",\"payload\":{\"ok\":true}}]"), NOW_MS);
        assertEquals(AgUiInterrupts.UNKNOWN, refusal(rules, "[{\"interruptId\":\"a\",\"status\":\"resolved\"}]"),
            "answered once: a second answer names nothing that waits");
        rules.checkInput(OWNER, "t", null, NOW_MS); // a plain input runs again
        rules.checkInput(OWNER, "another-thread", null, NOW_MS);
    }

    @Test
    void shouldLetAnExpiredInterruptBeCancelledButNotResolved() throws Exception
    {
        final AgUiRules rules = waiting("[{\"id\":\"a\",\"reason\":\"approval\",\"expiresAt\":\"2025-11-24T15:59:59Z\"}]");
        assertEquals(AgUiInterrupts.EXPIRED, refusal(rules, "[{\"interruptId\":\"a\",\"status\":\"resolved\"}]"));
        rules.checkInput(OWNER, "t", json("[{\"interruptId\":\"a\",\"status\":\"cancelled\"}]"), NOW_MS);

        final AgUiRules later = waiting("[{\"id\":\"a\",\"reason\":\"approval\",\"expiresAt\":\"2025-11-24T16:00:01Z\"}]");
        later.checkInput(OWNER, "t", json("[{\"interruptId\":\"a\",\"status\":\"resolved\"}]"), NOW_MS);
        final AgUiRules unreadable = waiting("[{\"id\":\"a\",\"reason\":\"approval\",\"expiresAt\":\"tomorrow\"}]");
        unreadable.checkInput(OWNER, "t", json("[{\"interruptId\":\"a\",\"status\":\"resolved\"}]"), NOW_MS);
    }

    @Test
    void shouldEndTheWaitWhenANewRunStartsOnTheThread() throws Exception
    {
        final AgUiRules rules = waiting("[{\"id\":\"a\",\"reason\":\"approval\"}]");
        rules.check(OWNER, json("[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"r2\"}]"), null, null, NOW_MS);
        rules.checkInput(OWNER, "t", null, NOW_MS);
    }

    @Test
    void shouldRefuseAnInterruptOutcomeNobodyCouldAnswer() throws Exception
    {
        for (final String interrupts : new String[]{"[]", "[{\"reason\":\"approval\"}]",
            "[{\"id\":\"a\",\"reason\":\"x\"},{\"id\":\"a\",\"reason\":\"y\"}]"})
        {
            assertEquals(AgUiInterrupts.INTERRUPT_INVALID,
                assertThrows(AgUiRules.Violation.class, () -> waiting(interrupts)).rule, interrupts);
        }
    }

    @Test
    void shouldWaitAgainWhenTheAnswerReachedNoRuntime() throws Exception
    {
        final AgUiRules rules = waiting("[{\"id\":\"a\",\"reason\":\"approval\"}]");
        final AgUiPlan answered = rules.checkInput(OWNER, "t",
            json("[{\"interruptId\":\"a\",\"status\":\"resolved\"}]"), NOW_MS);
        final RunStateGuard writeBack = rules.giveBack(answered);
        assertEquals(1, writeBack.size());
        assertEquals(AgUiInterrupts.OPEN, refusal(rules, null), "the wait is back");
    }

    @Test
    void shouldJudgeAnInputOnTheWaitAnotherNodeRecorded() throws Exception
    {
        // Node one recorded the wait; its guard carries the thread's entry as a cluster stores it.
        final AgUiRules one = new AgUiRules(100, 16, 60_000, 60_000);
        final AgUiPlan interrupted = one.check(OWNER, json("[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\"," +
            "\"runId\":\"r1\"},{\"type\":\"RUN_FINISHED\",\"threadId\":\"t\",\"runId\":\"r1\",\"outcome\":{\"type\":" +
            "\"interrupt\",\"interrupts\":[{\"id\":\"a\",\"reason\":\"approval\"}]}}]"), null, null, NOW_MS);
        final RunStateGuard stored = one.guard(interrupted);
        int entry = -1;
        for (int i = 0; i < stored.size(); i++)
        {
            entry = AgUiInterrupts.entryOf("t").equals(stored.runId(i)) ? i : entry;
        }
        assertEquals(0, stored.version(entry), "a new entry");

        // Node two passes a plain input against what it holds (nothing), and verifies that against the shared
        // entry: stale, so it takes the stored state and judges again.
        final AgUiRules two = new AgUiRules(100, 16, 60_000, 60_000);
        final AgUiPlan unaware = two.checkInput(OWNER, "t", null, NOW_MS);
        final RunStateGuard verify = two.guard(unaware);
        assertEquals(1, verify.size());
        assertEquals(0, verify.version(0));
        verify.current(0, 1, stored.newState(entry));
        two.refresh(verify);
        assertEquals(AgUiInterrupts.OPEN, refusal(two, null));
    }
}
