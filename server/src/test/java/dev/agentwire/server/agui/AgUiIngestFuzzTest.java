package dev.agentwire.server.agui;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishStatus;
import dev.agentwire.server.sequencing.BatchResult;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of native AG-UI ingest ({@code POST /v1/ag-ui/events} and the producer socket's
 * {@code ag_ui} frames) and its run rules, across batches: whatever the bytes, {@link AgUiIngest#parse} answers
 * with a checked batch, {@link AgUiIngest.Invalid} (400) or {@link AgUiRules.Violation} (422) naming the rule;
 * a batch holds at most {@link AgUiIngest#MAX_EVENTS} events of at most the message size, each a lower-case
 * {@code ag-ui.} type; and whatever prefix the sequencer then accepts, settling it never throws. The rule state
 * stays within its bound. Inputs in {@code src/test/resources/.../AgUiIngestFuzzTestInputs}.
 */
class AgUiIngestFuzzTest
{
    private static final int MAX_MESSAGE_BYTES = 4096;
    private static final int MAX_RUNS = 64;
    private static final AgUiIngest INGEST = new AgUiIngest(
        AgentWireConfig.builder().maxRuns(MAX_RUNS).maxToolCallsPerRun(8).build(), MAX_MESSAGE_BYTES);

    @FuzzTest(maxDuration = "20s")
    void shouldAnswerEveryBatchWithARuleOrAClearError(final FuzzedDataProvider data)
    {
        final int acceptedPick = data.consumeInt(0, AgUiIngest.MAX_EVENTS + 1);
        final byte[] body = data.consumeRemainingAsBytes();
        final AgUiIngest.Batch batch;
        try
        {
            batch = INGEST.parse(body, body.length);
        }
        catch (final AgUiIngest.Invalid | AgUiRules.Violation expected)
        {
            assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty(), "an error says what");
            assertTrue(expected.getMessage().length() < 2_048, "a short answer: " + expected.getMessage().length());
            return;
        }
        assertTrue(!batch.drafts.isEmpty() && batch.drafts.size() <= AgUiIngest.MAX_EVENTS);
        for (final EventDraft draft : batch.drafts)
        {
            assertTrue(draft.type().startsWith(AgUiIngest.TYPE_PREFIX), draft.type());
            assertTrue(draft.payloadLength() > 0 && draft.payloadLength() <= MAX_MESSAGE_BYTES);
            assertTrue(draft.runId() != null, "every native event belongs to a run");
        }
        // The sequencer accepts some prefix (the ring may fill anywhere): the run state keeps exactly that.
        final BatchResult result = new BatchResult(batch.drafts.size());
        final int accepted = Math.min(acceptedPick, batch.drafts.size());
        for (int i = 0; i < accepted; i++)
        {
            result.results.get(i).status = 0;
            result.results.get(i).position = i;
        }
        if (accepted < batch.drafts.size())
        {
            result.results.get(accepted).status = PublishStatus.RING_FULL;
            result.refusal = PublishStatus.RING_FULL;
        }
        result.accepted = accepted;
        INGEST.settle(batch, result);
        assertTrue(INGEST.runs() <= MAX_RUNS, "runs kept: " + INGEST.runs());
    }
}
