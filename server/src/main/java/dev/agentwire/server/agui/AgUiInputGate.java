package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.runtime.InboundGate;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.RunStateGuard;
import dev.agentwire.server.sequencing.Sequencer;

import java.util.List;

/**
 * AG-UI's interrupt rules on what users send ({@link AgUiInterrupts}): a {@code user_message} on a thread that waits
 * for answers must answer them all in its input's {@code resume[]}, and one that answers is the only one that does.
 * Judged against the thread's entry among the native run states; in a cluster, the shared entry is the judge: an
 * answer is written there with a guard (two tabs answering at once on two nodes: one wins, the other is refused), and
 * a refusal is verified against it first, as for native ingest. Thread-safe.
 */
public final class AgUiInputGate implements InboundGate
{
    /** Checks made again when another node changed the thread meanwhile. */
    private static final int MAX_ATTEMPTS = 8;
    /** What a user reads when the check itself failed: what it means for their message, then why. */
    private static final String UNCHECKED = "the message was not handed to an agent runtime: the cluster's Redis " +
        "could not check the thread's interrupts (unreachable, or no answer in time); send it again";

    private final AgUiRules rules;
    private final Sequencer sequencer;

    /**
     * @param ingest    native AG-UI ingest, whose run states hold each thread's wait.
     * @param sequencer where those states are shared (a cluster), or not (one node).
     */
    public AgUiInputGate(final AgUiIngest ingest, final Sequencer sequencer)
    {
        this.rules = ingest.rules();
        this.sequencer = sequencer;
    }

    @Override
    public void admit(final String userId, final String type, final JsonNode message, final Verdict verdict)
    {
        if (!"user_message".equals(type) || !message.path("thread_id").isTextual())
        {
            verdict.decided(null, null, null);
            return;
        }
        final String threadId = message.get("thread_id").asText();
        if (threadId.length() > AgUiRules.MAX_ID_LENGTH)
        {
            verdict.decided(null, null, null); // no native run can have it: nothing waits on it
            return;
        }
        attempt("u:" + userId, threadId, message.path("data").path("input").path("resume"), verdict, 1);
    }

    private void attempt(final String owner, final String threadId, final JsonNode resume, final Verdict verdict,
        final int attempt)
    {
        final AgUiPlan plan;
        try
        {
            plan = rules.checkInput(owner, threadId, resume, System.currentTimeMillis());
        }
        catch (final AgUiRules.Violation violation)
        {
            if (!sequencer.sharesRunState())
            {
                verdict.decided(violation.rule, violation.getMessage(), null);
                return;
            }
            final RunStateGuard verify = rules.verifyInputGuard(owner, threadId);
            sequencer.publish(List.of(), verify, result ->
            {
                if (result.refusal == Refusals.RUN_STATE_CHANGED && attempt < MAX_ATTEMPTS)
                {
                    rules.refresh(verify);
                    attempt(owner, threadId, resume, verdict, attempt + 1);
                }
                else if (result.allAccepted() || result.refusal == Refusals.RUN_STATE_CHANGED)
                {
                    verdict.decided(violation.rule, violation.getMessage(), null);
                }
                else
                {
                    verdict.decided(Refusals.name(result.refusal), UNCHECKED, null);
                }
            });
            return;
        }
        if (!sequencer.sharesRunState())
        {
            verdict.decided(null, null, plan.after.isEmpty() ? null : () -> rules.giveBack(plan));
            return;
        }
        final RunStateGuard guard = rules.guard(plan);
        sequencer.publish(List.of(), guard, result ->
        {
            if (result.refusal == Refusals.RUN_STATE_CHANGED)
            {
                rules.revert(plan);
                rules.refresh(guard);
                if (attempt < MAX_ATTEMPTS)
                {
                    attempt(owner, threadId, resume, verdict, attempt + 1);
                }
                else
                {
                    verdict.decided(Refusals.name(result.refusal), "the thread changed while its interrupts were " +
                        "checked; send again", null);
                }
                return;
            }
            if (!result.allAccepted())
            {
                rules.forget(plan); // what Redis stored is unknown: the next check reads the shared entry
                verdict.decided(Refusals.name(result.refusal), UNCHECKED, null);
                return;
            }
            verdict.decided(null, null, plan.after.isEmpty() ? null : () -> writeBack(plan));
        });
    }

    /** The answer no runtime took: the thread waits again, here and in the shared entry. */
    private void writeBack(final AgUiPlan plan)
    {
        final RunStateGuard guard = rules.giveBack(plan);
        if (guard.size() > 0)
        {
            sequencer.publish(List.of(), guard, result ->
            {
                if (!result.allAccepted())
                {
                    rules.forget(plan);
                }
            });
        }
    }
}
