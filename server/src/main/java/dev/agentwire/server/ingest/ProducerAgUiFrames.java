package dev.agentwire.server.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.agui.AgUiIngest;
import dev.agentwire.server.agui.AgUiRules;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.Sequencer;

import java.io.IOException;
import java.util.function.Consumer;

/**
 * A producer socket's frames of native AG-UI events, {@code {"ref": …, "ag_ui": {"user"|"room", "runId"?,
 * "events": [...]}}}: checked and answered as {@code POST /v1/ag-ui/events} is, in one ack (or nack) for the batch.
 * Looked for only in frames that are not events, so events pay nothing for it. Thread-safe (shared state is the
 * engine's and the rate limit's).
 */
final class ProducerAgUiFrames
{
    private final AgUiIngest agUi;
    private final Sequencer sequencer;
    private final TokenBucket producerLimit;
    private final ServerMetrics metrics;

    ProducerAgUiFrames(
        final AgUiIngest agUi, final Sequencer sequencer, final TokenBucket producerLimit, final ServerMetrics metrics)
    {
        this.agUi = agUi;
        this.sequencer = sequencer;
        this.producerLimit = producerLimit;
        this.metrics = metrics;
    }

    /**
     * @param frame  the frame's bytes, from 0 to {@code length}.
     * @param answer takes the frame's one answer (ack or nack), now or once published.
     * @return false when the frame is not one (an invalid event whose data merely mentions ag_ui): nothing answered.
     */
    boolean handle(final byte[] frame, final int length, final Consumer<byte[]> answer)
    {
        final JsonNode root;
        try
        {
            root = Json.readExact(frame, 0, length, Json.Numbers.EVERYWHERE);
        }
        catch (final IOException notJson)
        {
            return false; // the event parser names the problem
        }
        if (root == null || !root.isObject() || !root.has("ag_ui"))
        {
            return false;
        }
        final String ref = root.path("ref").isTextual() ? root.get("ref").asText() : null;
        final AgUiIngest.Parsed parsed;
        try
        {
            parsed = agUi.read(root.get("ag_ui"));
        }
        catch (final AgUiIngest.Invalid invalid)
        {
            metrics.refused("invalid_argument");
            answer.accept(ResultCodec.nack(ref, 400, "bad_request", invalid.getMessage()));
            return true;
        }
        agUi.submit(parsed, sequencer, events -> producerLimit.tryAcquire(events, System.nanoTime()),
            new AgUiIngest.Answer()
            {
                @Override
                public void refused(final AgUiRules.Violation violation)
                {
                    metrics.refused(AgUiRules.REFUSED);
                    answer.accept(ResultCodec.nack(ref, 422, violation.rule, violation.getMessage()));
                }

                @Override
                public void rateLimited()
                {
                    metrics.rateLimited("producer");
                    answer.accept(ResultCodec.nack(ref, 429, "rate_limited", "producer publish rate exceeded"));
                }

                @Override
                public void published(final BatchResult result)
                {
                    answer.accept(ResultCodec.batchAck(result, ref));
                }
            });
        return true;
    }
}
