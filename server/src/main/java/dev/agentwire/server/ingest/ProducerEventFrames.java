package dev.agentwire.server.ingest;

import dev.agentwire.core.EventDraft;
import dev.agentwire.server.agui.AgUiIngest;
import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;

import java.util.Collections;
import java.util.function.Consumer;

/**
 * What a runtime publishes over its producer socket: each text frame one event (the HTTP schema, plus an optional
 * {@code ref}), or else a native AG-UI batch ({@link ProducerAgUiFrames}), answered with one ack or nack carrying the
 * ref. Limited by the producers' publish rate (a {@code 429} nack each). Thread-safe (shared state is the engine's and
 * the rate limit's); a frame's bytes must stay as they are until {@link #handle} returns.
 */
final class ProducerEventFrames
{
    private final IngestParser parser;
    private final ProducerAgUiFrames agUiFrames;
    private final Sequencer sequencer;
    private final TokenBucket producerLimit;
    private final ServerMetrics metrics;

    ProducerEventFrames(final IngestParser parser, final AgUiIngest agUi, final Sequencer sequencer,
        final TokenBucket producerLimit, final ServerMetrics metrics)
    {
        this.parser = parser;
        this.agUiFrames = new ProducerAgUiFrames(agUi, sequencer, producerLimit, metrics);
        this.sequencer = sequencer;
        this.producerLimit = producerLimit;
        this.metrics = metrics;
    }

    /**
     * @param frame  the frame's bytes, from 0 to {@code length}.
     * @param answer takes the frame's one answer (ack or nack), now or once published.
     */
    void handle(final byte[] frame, final int length, final Consumer<byte[]> answer)
    {
        final String[] refs = new String[1];
        final EventDraft event;
        try
        {
            event = parser.parseFrame(frame, length, refs);
        }
        catch (final IngestParser.Invalid invalid)
        {
            // Not an event: a native AG-UI batch is one (looked for only here, so events pay nothing for it).
            if (AgUiIngest.mayBeFrame(frame, length) && agUiFrames.handle(frame, length, answer))
            {
                return;
            }
            if (!"not valid JSON".equals(invalid.getMessage()))
            {
                metrics.refused("invalid_argument");
            }
            answer.accept(ResultCodec.nack(refs[0], 400, "bad_request", invalid.getMessage()));
            return;
        }
        final String ref = refs[0];
        if (!producerLimit.tryAcquire(1, System.nanoTime()))
        {
            metrics.rateLimited("producer");
            answer.accept(ResultCodec.nack(ref, 429, "rate_limited", "producer publish rate exceeded"));
            return;
        }
        // The draft points into the frame's bytes: published now, before the next frame is read into them.
        sequencer.publish(Collections.singletonList(event), batch ->
        {
            final EventResult result = batch.results.get(0);
            answer.accept(batch.allAccepted() ? ResultCodec.ack(result, ref) : ResultCodec.nack(ref,
                Refusals.httpStatus(batch.refusal), Refusals.name(result.status), Refusals.message(batch.refusal)));
        });
    }
}
