package dev.agentwire.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.PublishStatus;

/**
 * Renders a batch's outcome for HTTP answers and producer-socket acks.
 */
final class ResultCodec
{
    private ResultCodec()
    {
    }

    static ObjectNode result(final BatchPublisher.EventResult result)
    {
        final ObjectNode node = Http.object();
        node.put("index", result.index);
        node.put("status", result.status);
        if (result.position >= 0)
        {
            node.put("position", result.position);
        }
        final ArrayNode seqs = node.putArray("seqs");
        synchronized (result)
        {
            for (int i = 0; i < result.seqs.size(); i++)
            {
                final ObjectNode seq = seqs.addObject();
                seq.put("user", result.users.get(i));
                seq.put("epoch", result.seqs.get(i)[0]);
                seq.put("seq", result.seqs.get(i)[1]);
            }
        }
        return node;
    }

    static ObjectNode batch(final BatchPublisher.BatchResult batch)
    {
        final ObjectNode body = Http.object();
        body.put("accepted", batch.accepted);
        if (!batch.allAccepted())
        {
            final ObjectNode error = body.putObject("error");
            error.put("code", ClusterPublisher.statusName(batch.refusal));
            error.put("message", message(batch.refusal));
        }
        final ArrayNode results = body.putArray("results");
        for (final BatchPublisher.EventResult result : batch.results)
        {
            results.add(result(result));
        }
        return body;
    }

    static String message(final long refusal)
    {
        if (refusal == PublishStatus.RUN_NOT_STARTED)
        {
            return "lifecycle rule run_not_started: the run has no agent_started yet";
        }
        if (refusal == PublishStatus.RUN_ALREADY_STARTED)
        {
            return "lifecycle rule run_already_started: agent_started was already published for this run";
        }
        if (refusal == PublishStatus.RUN_COMPLETED)
        {
            return "lifecycle rule run_completed: the run has completed; a new run needs a new run_id";
        }
        if (refusal == PublishStatus.TOOL_CALL_UNKNOWN)
        {
            return "lifecycle rule tool_call_unknown: tool_completed names no open tool_executing call";
        }
        if (refusal == PublishStatus.TOOL_CALL_DUPLICATE)
        {
            return "lifecycle rule tool_call_duplicate: this tool_call_id is already open";
        }
        if (refusal == PublishStatus.TOOL_CALLS_OPEN)
        {
            return "lifecycle rule tool_calls_open: agent_completed with outcome success while tool calls are open";
        }
        if (refusal == PublishStatus.RING_FULL)
        {
            return "the event spine is full; retry after the Retry-After delay";
        }
        if (refusal == PublishStatus.CLOSED)
        {
            return "the server is shutting down";
        }
        if (refusal == ClusterPublisher.UNAVAILABLE)
        {
            return "the cluster's Redis is unreachable or did not answer in time; nothing from this event on was " +
                "accepted; retry after the Retry-After delay, with the same event ids";
        }
        return "the event was refused: " + PublishStatus.name(refusal);
    }
}
