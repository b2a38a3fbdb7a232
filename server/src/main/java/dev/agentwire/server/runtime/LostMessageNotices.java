package dev.agentwire.server.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishStatus;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;

/**
 * Tells a user that a message of theirs will reach no runtime, after they were answered as if it would: a message
 * handed back from a runtime's socket that ended before writing it, which no other runtime could take; or, on a
 * cluster, one that waited in the cluster's stream longer than it keeps one. The notice is an
 * event in the user's own stream ({@value #TYPE}), so it reaches them on whichever node and connection they are, and
 * after a reconnect too: {@code data} names the message ({@code type}, {@code thread_id}, {@code run_id} when it had
 * one) and why ({@code reason}: {@code no_agent}, {@code agent_busy}, or a cluster's {@code unavailable} /
 * {@code outcome_unknown}). The message's own {@code data} is not repeated. Thread-safe.
 */
public final class LostMessageNotices
{
    /** The notice's event type. */
    public static final String TYPE = "agentwire.message_lost";
    /** Tells nobody (a router before the server sets its notices). */
    public static final LostMessageNotices NONE = new LostMessageNotices(null);

    private static final Logger LOG = LoggerFactory.getLogger(LostMessageNotices.class);

    private final Sequencer sequencer;

    /** @param sequencer where the notices are published, as every event is. */
    public LostMessageNotices(final Sequencer sequencer)
    {
        this.sequencer = sequencer;
    }

    /**
     * @param frame  the message as a producer socket was sent it (its sender in {@code user}).
     * @param reason why no runtime took it: {@link InboundRouter#errorCode}'s name.
     */
    public void lost(final byte[] frame, final String reason)
    {
        final JsonNode message;
        try
        {
            message = Json.MAPPER.readTree(frame);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("a forwarded frame is not JSON", ex);
        }
        lost(message.path("user").asText(), message.path("type").asText(), message.path("thread_id").asText(null),
            message.hasNonNull("run_id") ? message.get("run_id").asText() : null, reason);
    }

    /**
     * A message that will reach no runtime, by its fields.
     *
     * @param user     its sender, who is told.
     * @param type     {@code user_message}, {@code cancel}.
     * @param threadId its thread, or null.
     * @param runId    its run, or null.
     * @param reason   why: {@link InboundRouter#errorCode}'s name.
     */
    public void lost(final String user, final String type, final String threadId, final String runId,
        final String reason)
    {
        if (sequencer == null || user == null || user.isEmpty())
        {
            return;
        }
        final ObjectNode data = Http.object().put("type", type).put("reason", reason);
        if (threadId != null)
        {
            data.put("thread_id", threadId);
        }
        if (runId != null)
        {
            data.put("run_id", runId);
        }
        final byte[] payload;
        try
        {
            payload = Json.MAPPER.writeValueAsBytes(data);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        // No run id on the notice itself: it belongs to no run, and a run's rules would refuse it once the run ended.
        final EventDraft notice = new EventDraft().toUser(user).type(TYPE).threadId(threadId)
            .payload(payload, 0, payload.length);
        sequencer.publish(List.of(notice), batch ->
        {
            if (!batch.allAccepted() && batch.refusal != PublishStatus.CLOSED)
            {
                LOG.warn("lost-message notice refused: user={} status={}", user, Refusals.name(batch.refusal));
            }
        });
    }
}
