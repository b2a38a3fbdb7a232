package dev.agentwire.server.ingest;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;

/**
 * Renders a batch's outcome for HTTP answers and producer-socket acks.
 */
final class ResultCodec
{
    private ResultCodec()
    {
    }

    static ObjectNode result(final EventResult result)
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

    static ObjectNode batch(final BatchResult batch)
    {
        final ObjectNode body = Http.object();
        body.put("accepted", batch.accepted);
        if (!batch.allAccepted())
        {
            final ObjectNode error = body.putObject("error");
            error.put("code", Refusals.name(batch.refusal));
            error.put("message", Refusals.message(batch.refusal));
        }
        final ArrayNode results = body.putArray("results");
        for (final EventResult result : batch.results)
        {
            results.add(result(result));
        }
        return body;
    }
}
