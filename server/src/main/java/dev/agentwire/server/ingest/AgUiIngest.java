package dev.agentwire.server.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.EventDraft;
import dev.agentwire.server.http.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Native AG-UI in ({@code POST /v1/ag-ui/events}, docs/AG-UI.md): a body {@code {"user"|"room": …, "runId"?: …,
 * "events": [AG-UI events]}} becomes drafts of the custom types {@code ag-ui.<type in lower case>}, their data the
 * AG-UI event as sent, each carrying its run's id and thread — after {@link AgUiRules} passed the whole batch.
 * Not the fan-out hot path: the body is parsed into a tree. Thread-safe.
 */
final class AgUiIngest
{
    /** The custom type prefix of native AG-UI events on the stream. */
    static final String TYPE_PREFIX = "ag-ui.";

    /** A checked batch: its drafts and the run state it applied. */
    static final class Batch
    {
        final List<EventDraft> drafts;
        final AgUiRules.Plan plan;

        Batch(final List<EventDraft> drafts, final AgUiRules.Plan plan)
        {
            this.drafts = drafts;
            this.plan = plan;
        }
    }

    private final AgUiRules rules;
    private final int maxMessageBytes;

    AgUiIngest(final int maxRuns, final int maxMessageBytes)
    {
        this.rules = new AgUiRules(maxRuns);
        this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * @throws IngestParser.Invalid the body is not the documented shape (400).
     * @throws AgUiRules.Violation  an event breaks a run rule (422); nothing was applied.
     */
    Batch parse(final byte[] body, final int length) throws IngestParser.Invalid, AgUiRules.Violation
    {
        final JsonNode root;
        try
        {
            root = Json.MAPPER.readTree(body, 0, length);
        }
        catch (final IOException ex)
        {
            throw new IngestParser.Invalid("body is not JSON: " + ex.getMessage());
        }
        return parse(root);
    }

    /**
     * The same, for a body already parsed (a producer-socket frame's {@code ag_ui} member).
     *
     * @throws IngestParser.Invalid the body is not the documented shape (400).
     * @throws AgUiRules.Violation  an event breaks a run rule (422); nothing was applied.
     */
    Batch parse(final JsonNode root) throws IngestParser.Invalid, AgUiRules.Violation
    {
        if (root == null || !root.isObject())
        {
            throw new IngestParser.Invalid("body must be an object {\"user\" or \"room\", \"events\": [...]}");
        }
        final String user = text(root, "user");
        final String room = text(root, "room");
        if ((user == null) == (room == null))
        {
            throw new IngestParser.Invalid("body needs exactly one of user and room");
        }
        final JsonNode events = root.get("events");
        if (events == null || !events.isArray() || events.isEmpty())
        {
            throw new IngestParser.Invalid("events must be a non-empty array of AG-UI events");
        }
        final byte[][] payloads = new byte[events.size()][];
        for (int i = 0; i < events.size(); i++)
        {
            try
            {
                payloads[i] = Json.MAPPER.writeValueAsBytes(events.get(i));
            }
            catch (final IOException ex)
            {
                throw new IngestParser.Invalid("events[" + i + "] cannot be encoded");
            }
            if (payloads[i].length > maxMessageBytes)
            {
                throw new IngestParser.Invalid("events[" + i + "] is over " + maxMessageBytes + " bytes");
            }
        }
        final AgUiRules.Plan plan = rules.check(user != null ? "u:" + user : "r:" + room, events, text(root, "runId"));
        final List<EventDraft> drafts = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++)
        {
            final EventDraft draft = new EventDraft();
            if (user != null)
            {
                draft.toUser(user);
            }
            else
            {
                draft.toRoom(room);
            }
            draft.type(TYPE_PREFIX + events.get(i).get("type").asText().toLowerCase(Locale.ROOT))
                .runId(plan.runIds[i])
                .threadId(plan.threadIds[i])
                .payload(payloads[i], 0, payloads[i].length);
            drafts.add(draft);
        }
        return new Batch(drafts, plan);
    }

    private static final byte[] FRAME_KEY = "\"ag_ui\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** @return true when a producer-socket frame may be a native AG-UI batch (it mentions the key at all). */
    static boolean mayBeFrame(final byte[] frame, final int length)
    {
        outer:
        for (int i = 0; i + FRAME_KEY.length <= length; i++)
        {
            for (int j = 0; j < FRAME_KEY.length; j++)
            {
                if (frame[i + j] != FRAME_KEY[j])
                {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The batch was not accepted: its run state is taken back. */
    void revert(final Batch batch)
    {
        rules.revert(batch.plan);
    }

    private static String text(final JsonNode root, final String field) throws IngestParser.Invalid
    {
        final JsonNode value = root.get(field);
        if (value == null || value.isNull())
        {
            return null;
        }
        if (!value.isTextual() || value.asText().isEmpty())
        {
            throw new IngestParser.Invalid(field + " must be a non-empty string");
        }
        return value.asText();
    }
}
