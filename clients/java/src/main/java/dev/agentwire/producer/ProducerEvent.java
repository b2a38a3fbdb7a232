package dev.agentwire.producer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One event, as the wire contract writes it (docs/PROTOCOL.md), in the embedded engine's vocabulary
 * ({@code EventDraft}: {@code toUser}, {@code type}, {@code runId}, {@code threadId}): exactly one of a user, a room
 * or everyone; a type; for the five agent types a run; and its data. Not thread-safe; publishing copies it.
 */
public final class ProducerEvent
{
    static final ObjectMapper MAPPER = new ObjectMapper();

    private String user;
    private String room;
    private boolean broadcast;
    private String type;
    private String runId;
    private String threadId;
    private String id;
    private JsonNode data = MAPPER.createObjectNode();

    private ProducerEvent()
    {
    }

    /** @return an event to one user. */
    public static ProducerEvent toUser(final String user)
    {
        final ProducerEvent event = new ProducerEvent();
        event.user = user;
        return event;
    }

    /** @return an event to a room's members. */
    public static ProducerEvent toRoom(final String room)
    {
        final ProducerEvent event = new ProducerEvent();
        event.room = room;
        return event;
    }

    /** @return an event to every connected user. */
    public static ProducerEvent toEveryone()
    {
        final ProducerEvent event = new ProducerEvent();
        event.broadcast = true;
        return event;
    }

    /** @param type one of the five agent types, or your own. @return this. */
    public ProducerEvent type(final String type)
    {
        this.type = type;
        return this;
    }

    /** @param runId the run (required for the five agent types). @return this. */
    public ProducerEvent runId(final String runId)
    {
        this.runId = runId;
        return this;
    }

    /** @param threadId the conversation. @return this. */
    public ProducerEvent threadId(final String threadId)
    {
        this.threadId = threadId;
        return this;
    }

    /** @param id the idempotency key; the client makes one when none is given. @return this. */
    public ProducerEvent id(final String id)
    {
        this.id = id;
        return this;
    }

    /** @param data a JSON object, or anything Jackson makes one of (a Map, a record). @return this. */
    public ProducerEvent data(final Object data)
    {
        final JsonNode node = data instanceof JsonNode ? (JsonNode)data : MAPPER.valueToTree(data);
        if (!node.isObject())
        {
            throw new IllegalArgumentException("data must be a JSON object: " + node.getNodeType());
        }
        this.data = node;
        return this;
    }

    /** @return the event as it goes on the wire, with this id. */
    ObjectNode toJson(final String idIfNone)
    {
        if (type == null || type.isEmpty())
        {
            throw new IllegalArgumentException("type is required");
        }
        final ObjectNode out = MAPPER.createObjectNode();
        if (user != null)
        {
            out.put("user", user);
        }
        else if (room != null)
        {
            out.put("room", room);
        }
        else
        {
            out.put("broadcast", true);
        }
        out.put("type", type);
        if (runId != null)
        {
            out.put("run_id", runId);
        }
        if (threadId != null)
        {
            out.put("thread_id", threadId);
        }
        out.put("id", id != null ? id : idIfNone);
        out.set("data", data);
        return out;
    }
}
