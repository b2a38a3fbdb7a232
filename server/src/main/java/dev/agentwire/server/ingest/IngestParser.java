package dev.agentwire.server.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.server.http.Json;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns producer JSON into validated {@link EventDraft}s (one per event, ready to publish), or says precisely what is wrong
 * ({@code events[2].data.tool_call_id is required}). A batch is validated whole before anything is published.
 */
final class IngestParser
{
    /** Most events in one batch. */
    static final int MAX_BATCH = 1_000;
    static final int MAX_ID_LENGTH = 256;

    /** A validation error; its message is safe to return to the producer. */
    static final class Invalid extends Exception
    {
        private static final long serialVersionUID = 1L;

        Invalid(final String message)
        {
            super(message, null, false, false);
        }
    }

    private final int maxDataBytes;

    IngestParser(final int maxDataBytes)
    {
        this.maxDataBytes = maxDataBytes;
    }

    /** @return the events of a body holding one event object or an array of them. */
    List<EventDraft> parseBody(final byte[] body) throws Invalid
    {
        final JsonNode root;
        try
        {
            root = Json.MAPPER.readTree(body);
        }
        catch (final JsonProcessingException ex)
        {
            throw new Invalid("body is not valid JSON: " + ex.getOriginalMessage());
        }
        catch (final java.io.IOException ex)
        {
            throw new Invalid("body could not be read");
        }
        if (root == null || root.isMissingNode())
        {
            throw new Invalid("body is empty");
        }
        final List<EventDraft> events = new ArrayList<>();
        if (root.isArray())
        {
            if (root.isEmpty())
            {
                throw new Invalid("batch is empty");
            }
            if (root.size() > MAX_BATCH)
            {
                throw new Invalid("batch has " + root.size() + " events, at most " + MAX_BATCH + " allowed");
            }
            for (int i = 0; i < root.size(); i++)
            {
                events.add(parseEvent(root.get(i), "events[" + i + "]"));
            }
        }
        else
        {
            events.add(parseEvent(root, "event"));
        }
        return events;
    }

    EventDraft parseEvent(final JsonNode node, final String at) throws Invalid
    {
        if (node == null || !node.isObject())
        {
            throw new Invalid(at + " must be a JSON object");
        }
        final EventDraft event = new EventDraft();
        parseTarget(node, at, event);
        final String type = requiredText(node, "type", at);
        final boolean agentType = EventTypes.isAgentType(type);
        if (!agentType && !EventTypes.isCustomType(type))
        {
            throw new Invalid(at + ".type '" + type + "' is not an agent event type nor a namespaced custom " +
                "type (like app.progress)");
        }
        event.type(type)
            .runId(agentType ? requiredText(node, "run_id", at) : optionalText(node, "run_id", at))
            .threadId(optionalText(node, "thread_id", at))
            .eventId(optionalText(node, "id", at));

        final JsonNode data = node.get("data");
        if (data == null || data.isNull())
        {
            if (agentType)
            {
                throw new Invalid(at + ".data is required for " + type);
            }
            final byte[] empty = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            return event.payload(empty, 0, empty.length);
        }
        if (!data.isObject())
        {
            throw new Invalid(at + ".data must be a JSON object");
        }
        if (agentType)
        {
            checkAgentData(type, event, (ObjectNode)data, at + ".data");
        }
        final byte[] bytes;
        try
        {
            bytes = Json.MAPPER.writeValueAsBytes(data);
        }
        catch (final JsonProcessingException ex)
        {
            throw new Invalid(at + ".data could not be encoded");
        }
        if (bytes.length > maxDataBytes)
        {
            throw new Invalid(at + ".data is " + bytes.length + " bytes, at most " + maxDataBytes + " allowed");
        }
        return event.payload(bytes, 0, bytes.length);
    }

    /** Reads user / room / broadcast: exactly one. */
    static void parseTarget(final JsonNode node, final String at, final EventDraft event) throws Invalid
    {
        final String user = optionalText(node, "user", at);
        final String room = optionalText(node, "room", at);
        final JsonNode broadcast = node.get("broadcast");
        if (broadcast != null && !broadcast.isBoolean())
        {
            throw new Invalid(at + ".broadcast must be true or false");
        }
        final boolean toAll = broadcast != null && broadcast.booleanValue();
        final int targets = (user != null ? 1 : 0) + (room != null ? 1 : 0) + (toAll ? 1 : 0);
        if (targets != 1)
        {
            throw new Invalid(at + " must name exactly one of user, room or broadcast:true");
        }
        if (user != null)
        {
            event.toUser(user);
        }
        else if (room != null)
        {
            event.toRoom(room);
        }
        else
        {
            event.toBroadcast();
        }
    }

    private static void checkAgentData(
        final String type, final EventDraft event, final ObjectNode data, final String at) throws Invalid
    {
        switch (type)
        {
            case EventTypes.AGENT_STARTED:
                requiredText(data, "agent", at);
                break;
            case EventTypes.AGENT_THINKING:
                requiredText(data, "text", at);
                break;
            case EventTypes.TOOL_EXECUTING:
                event.toolCallId(requiredText(data, "tool_call_id", at));
                requiredText(data, "tool", at);
                if (!data.has("args"))
                {
                    throw new Invalid(at + ".args is required");
                }
                break;
            case EventTypes.TOOL_COMPLETED:
                event.toolCallId(requiredText(data, "tool_call_id", at));
                requireResultOrError(data, at);
                break;
            case EventTypes.AGENT_COMPLETED:
                final byte outcome = Outcome.parse(requiredText(data, "outcome", at));
                if (outcome == Outcome.NONE)
                {
                    throw new Invalid(at + ".outcome must be success, error or cancelled");
                }
                event.outcome(outcome);
                requireResultOrError(data, at);
                break;
            default:
                throw new IllegalStateException("type=" + type);
        }
    }

    private static void requireResultOrError(final ObjectNode data, final String at) throws Invalid
    {
        if (!data.has("result") && !data.has("error"))
        {
            throw new Invalid(at + " needs result or error");
        }
    }

    static String requiredText(final JsonNode node, final String field, final String at) throws Invalid
    {
        final String value = optionalText(node, field, at);
        if (value == null)
        {
            throw new Invalid(at + "." + field + " is required");
        }
        return value;
    }

    static String optionalText(final JsonNode node, final String field, final String at) throws Invalid
    {
        final JsonNode value = node.get(field);
        if (value == null || value.isNull())
        {
            return null;
        }
        if (!value.isTextual())
        {
            throw new Invalid(at + "." + field + " must be a string");
        }
        final String text = value.textValue();
        if (text.isEmpty())
        {
            throw new Invalid(at + "." + field + " must not be empty");
        }
        if (text.length() > MAX_ID_LENGTH && !"text".equals(field))
        {
            throw new Invalid(at + "." + field + " is longer than " + MAX_ID_LENGTH + " characters");
        }
        return text;
    }
}
