package dev.agentwire.server.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.server.http.Http;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The demo agent's human in the loop (AG-UI 1.0 interrupts): a prompt that asks it to act in the world ("book a
 * table for two at 19:00") gets a run that proposes the action as a tool call and ends with an interrupt asking the
 * person to approve it; the next run, whose input answers the interrupt in {@code resume[]}, carries the action out
 * (resolved) or drops it (cancelled). Both runs are published as native AG-UI events through native ingest, like a
 * runtime that speaks AG-UI, so the server's run rules and interrupt rules hold them as they hold any runtime's.
 * On the demo agent's scheduler thread.
 */
final class DemoApproval
{
    /** What makes a prompt ask for approval: it asks the agent to act. */
    private static final Pattern ACTS = Pattern.compile("\\b(book|buy|order|send|pay|reserve)\\b",
        Pattern.CASE_INSENSITIVE);
    /** An interrupt's id is this and the tool call it approves. */
    static final String APPROVE = "approve-";
    private static final Logger LOG = LoggerFactory.getLogger(DemoApproval.class);

    private final ScheduledExecutorService scheduler;
    private final Set<String> cancelled;
    private volatile DemoAgent.AgUiPublisher publisher;

    DemoApproval(final ScheduledExecutorService scheduler, final Set<String> cancelled)
    {
        this.scheduler = scheduler;
        this.cancelled = cancelled;
    }

    void publisher(final DemoAgent.AgUiPublisher publisher)
    {
        this.publisher = publisher;
    }

    /** @return whether the prompt asks the agent to act (and native AG-UI is wired to publish the approval). */
    boolean asksApproval(final String prompt)
    {
        return publisher != null && ACTS.matcher(prompt).find();
    }

    /** @return the answer to one of this agent's approvals in an input's {@code resume[]}, or null. */
    static JsonNode answerIn(final JsonNode input)
    {
        for (final JsonNode entry : input.path("resume"))
        {
            if (entry.path("interruptId").asText("").startsWith(APPROVE))
            {
                return entry;
            }
        }
        return null;
    }

    /** A run that proposes the action and stops to ask: a few words, the proposed tool call, the interrupt. */
    void ask(final String userId, final String thread, final String runId, final String prompt)
    {
        final String callId = "book-" + runId;
        final ObjectNode opening = batch(userId, null);
        final ArrayNode events = opening.withArray("events");
        events.addObject().put("type", "RUN_STARTED").put("threadId", thread).put("runId", runId);
        text(events, "m-" + runId, "I can do that. It acts in the world, so I need your approval first.");
        publish(opening);
        scheduler.schedule(() ->
        {
            if (stopIfCancelled(userId, thread, runId))
            {
                return;
            }
            final ObjectNode proposal = batch(userId, runId);
            final ArrayNode calls = proposal.withArray("events");
            calls.addObject().put("type", "TOOL_CALL_START").put("toolCallId", callId).put("toolCallName", "book");
            calls.addObject().put("type", "TOOL_CALL_ARGS").put("toolCallId", callId)
                .put("delta", Http.object().put("request", prompt).toString());
            calls.addObject().put("type", "TOOL_CALL_END").put("toolCallId", callId);
            final ObjectNode interrupt = calls.addObject().put("type", "RUN_FINISHED").put("threadId", thread)
                .put("runId", runId);
            final ObjectNode outcome = interrupt.putObject("outcome").put("type", "interrupt");
            outcome.putArray("interrupts").addObject().put("id", APPROVE + callId).put("reason", "approval")
                .put("message", "Go ahead and book: \u201c" + DemoAgent.shorten(prompt) + "\u201d?")
                .put("toolCallId", callId);
            publish(proposal);
        }, 400, TimeUnit.MILLISECONDS);
    }

    /** The run that continues: the approved action's result (or that it was dropped), and the answer. */
    void answer(final String userId, final String thread, final String runId, final JsonNode answer)
    {
        final String callId = answer.path("interruptId").asText().substring(APPROVE.length());
        // Resolved is approval, unless the payload says {"approved": false}; cancelled drops the action.
        final JsonNode said = answer.path("payload").path("approved");
        final boolean approved = "resolved".equals(answer.path("status").asText()) &&
            !(said.isBoolean() && !said.asBoolean());
        final ObjectNode opening = batch(userId, null);
        final ArrayNode events = opening.withArray("events");
        events.addObject().put("type", "RUN_STARTED").put("threadId", thread).put("runId", runId);
        events.addObject().put("type", "TOOL_CALL_RESULT").put("messageId", "r-" + runId).put("toolCallId", callId)
            .put("content", approved ? "booked, confirmation AW-" + Integer.toHexString(callId.hashCode() & 0xFFFF) :
                "not booked: declined");
        publish(opening);
        scheduler.schedule(() ->
        {
            final ObjectNode closing = batch(userId, runId);
            final ArrayNode rest = closing.withArray("events");
            text(rest, "m-" + runId, approved ? "Done: it is booked. Your confirmation is in the tool result." :
                "Understood: I did not book anything.");
            rest.addObject().put("type", "RUN_FINISHED").put("threadId", thread).put("runId", runId)
                .putObject("outcome").put("type", "success");
            publish(closing);
        }, 300, TimeUnit.MILLISECONDS);
    }

    private boolean stopIfCancelled(final String userId, final String thread, final String runId)
    {
        if (!cancelled.remove(runId))
        {
            return false;
        }
        final ObjectNode stop = batch(userId, runId);
        stop.withArray("events").addObject().put("type", "RUN_FINISHED").put("threadId", thread).put("runId", runId)
            .putObject("outcome").put("type", "cancelled");
        publish(stop);
        return true;
    }

    private static void text(final ArrayNode events, final String messageId, final String text)
    {
        events.addObject().put("type", "TEXT_MESSAGE_START").put("messageId", messageId).put("role", "assistant");
        events.addObject().put("type", "TEXT_MESSAGE_CONTENT").put("messageId", messageId).put("delta", text);
        events.addObject().put("type", "TEXT_MESSAGE_END").put("messageId", messageId);
    }

    private static ObjectNode batch(final String userId, final String runId)
    {
        final ObjectNode batch = Http.object().put("user", userId);
        if (runId != null)
        {
            batch.put("runId", runId);
        }
        return batch;
    }

    private void publish(final ObjectNode batch)
    {
        publisher.publish(batch, refusal -> LOG.warn("demo approval batch refused: {}", refusal));
    }
}
