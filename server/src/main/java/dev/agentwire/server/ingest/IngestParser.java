package dev.agentwire.server.ingest;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.server.http.Json;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns producer JSON into validated {@link EventDraft}s (one per event, ready to publish), or says precisely what
 * is wrong ({@code events[2].data.tool_call_id is required}). One streaming pass over the body, no tree: each
 * event's {@code data} is taken as the exact bytes of the body it occupies, so it reaches users byte for byte as the
 * producer wrote it (numbers such as {@code 1e400}, key order, duplicate keys inside it), and the drafts point into
 * the body rather than copying it. A batch is validated whole before anything is published; a key given twice at
 * an event's top level is refused. Thread-safe (its scratch state is per thread).
 */
final class IngestParser
{
    /** Most events in one batch. */
    static final int MAX_BATCH = dev.agentwire.server.sequencing.Sequencer.MAX_BATCH_EVENTS;
    static final int MAX_ID_LENGTH = EventDraft.MAX_ID_LENGTH;

    /** The payload of an event without data; read only, so one view serves every thread. */
    private static final UnsafeBuffer EMPTY_DATA = new UnsafeBuffer("{}".getBytes(StandardCharsets.US_ASCII));

    /** A validation error; its message is safe to return to the producer. */
    static final class Invalid extends Exception
    {
        private static final long serialVersionUID = 1L;

        Invalid(final String message)
        {
            super(message, null, false, false);
        }
    }

    /** Where a problem is when it is in the binary endpoint's query. */
    static final int QUERY = -2;
    /** Where a problem is when the body or frame is one event, not an array. */
    static final int SINGLE = -1;

    /** One per thread: what the event being parsed said so far, and the thread's type names. */
    private static final ThreadLocal<EventFields> FIELDS = ThreadLocal.withInitial(EventFields::new);

    private final int maxDataBytes;

    IngestParser(final int maxDataBytes)
    {
        this.maxDataBytes = maxDataBytes;
    }

    /** @return the events of a body ({@code body[0, length)}) holding one event object or an array of them. */
    List<EventDraft> parseBody(final byte[] body, final int length) throws Invalid
    {
        try (JsonParser parser = Json.FACTORY.createParser(body, 0, length))
        {
            final EventFields fields = FIELDS.get();
            // One view of the body for all its events: their payloads are regions of it.
            final UnsafeBuffer bodyView = new UnsafeBuffer(body, 0, length);
            final JsonToken first = parser.nextToken();
            if (first == null)
            {
                throw new Invalid("body is empty");
            }
            final List<EventDraft> events = new ArrayList<>();
            if (first == JsonToken.START_ARRAY)
            {
                int index = 0;
                JsonToken token;
                while ((token = parser.nextToken()) != JsonToken.END_ARRAY)
                {
                    if (token == null)
                    {
                        throw new Invalid("body is not valid JSON: the array is not closed");
                    }
                    if (index == MAX_BATCH)
                    {
                        throw new Invalid("batch has more than " + MAX_BATCH + " events, at most " + MAX_BATCH +
                            " allowed");
                    }
                    events.add(parseEvent(parser, bodyView, index, null, fields));
                    index++;
                }
                if (index == 0)
                {
                    throw new Invalid("batch is empty");
                }
            }
            else
            {
                events.add(parseEvent(parser, bodyView, SINGLE, null, fields));
            }
            if (parser.nextToken() != null)
            {
                throw new Invalid("body is not valid JSON: more after the end of the value");
            }
            return events;
        }
        catch (final JsonParseException ex)
        {
            throw new Invalid("body is not valid JSON: " + ex.getOriginalMessage());
        }
        catch (final IOException ex)
        {
            throw new Invalid("body could not be read");
        }
    }

    /**
     * One producer-socket frame ({@code frame[0, length)}): an event with an optional {@code ref}.
     *
     * @param ref receives the frame's {@code ref} (at index 0) when there is one, also when the event is invalid.
     */
    EventDraft parseFrame(final byte[] frame, final int length, final String[] ref) throws Invalid
    {
        try (JsonParser parser = Json.FACTORY.createParser(frame, 0, length))
        {
            if (parser.nextToken() == null)
            {
                throw new Invalid("not valid JSON");
            }
            final UnsafeBuffer frameView = new UnsafeBuffer(frame, 0, length);
            final EventDraft event = parseEvent(parser, frameView, SINGLE, ref, FIELDS.get());
            if (parser.nextToken() != null)
            {
                throw new Invalid("not valid JSON");
            }
            return event;
        }
        catch (final JsonParseException ex)
        {
            throw new Invalid("not valid JSON");
        }
        catch (final IOException ex)
        {
            throw new Invalid("could not be read");
        }
    }

    /** Reads one event object; the parser is on its first token. */
    private EventDraft parseEvent(
        final JsonParser parser, final DirectBuffer body, final int at, final String[] ref, final EventFields fields)
        throws IOException, Invalid
    {
        if (parser.currentToken() != JsonToken.START_OBJECT)
        {
            parser.skipChildren();
            throw new Invalid(where(at) + " must be a JSON object");
        }
        fields.reset();
        Set<String> others = null;
        int seen = 0;
        JsonToken token;
        while ((token = parser.nextToken()) == JsonToken.FIELD_NAME)
        {
            final String name = parser.currentName();
            final int bit = fieldBit(name);
            if (bit != 0 ? (seen & bit) != 0 : !(others == null ? (others = new HashSet<>(4)) : others).add(name))
            {
                throw new Invalid(where(at) + " has the key " + truncate(name) + " more than once");
            }
            seen |= bit;
            final JsonToken value = parser.nextToken();
            switch (name)
            {
                case "user":
                    fields.user = name(parser, value, at, "user", fields.names);
                    break;
                case "room":
                    fields.room = name(parser, value, at, "room", fields.names);
                    break;
                case "type":
                    fields.type = typeName(parser, value, at, fields);
                    break;
                case "run_id":
                    fields.runId = name(parser, value, at, "run_id", fields.names);
                    break;
                case "thread_id":
                    fields.threadId = name(parser, value, at, "thread_id", fields.names);
                    break;
                case "id":
                    fields.id = text(parser, value, at, "id");
                    break;
                case "broadcast":
                    fields.broadcast = value;
                    break;
                case "ref":
                    fields.ref = value.isScalarValue() && value != JsonToken.VALUE_NULL ? parser.getText() : null;
                    parser.skipChildren();
                    break;
                case "data":
                    readData(parser, value, fields);
                    break;
                default:
                    parser.skipChildren();
                    break;
            }
        }
        if (token != JsonToken.END_OBJECT)
        {
            throw new Invalid("body is not valid JSON: " + where(at) + " is not closed");
        }
        if (ref != null)
        {
            ref[0] = fields.ref;
        }
        return toDraft(fields, body, at);
    }

    private static int fieldBit(final String name)
    {
        switch (name)
        {
            case "user":
                return 1;
            case "room":
                return 1 << 1;
            case "type":
                return 1 << 2;
            case "run_id":
                return 1 << 3;
            case "thread_id":
                return 1 << 4;
            case "id":
                return 1 << 5;
            case "broadcast":
                return 1 << 6;
            case "ref":
                return 1 << 7;
            case "data":
                return 1 << 8;
            default:
                return 0;
        }
    }

    /** Notes the data's byte range, and the top-level fields the agent types require. */
    private static void readData(final JsonParser parser, final JsonToken value, final EventFields fields)
        throws IOException
    {
        fields.hasData = value != JsonToken.VALUE_NULL;
        if (value != JsonToken.START_OBJECT)
        {
            parser.skipChildren();
            return;
        }
        fields.dataStart = (int)parser.currentTokenLocation().getByteOffset();
        JsonToken token;
        while ((token = parser.nextToken()) == JsonToken.FIELD_NAME)
        {
            final String name = parser.currentName();
            final JsonToken fieldValue = parser.nextToken();
            for (int i = 0; i < EventFields.DATA_STRINGS.length; i++)
            {
                if (EventFields.DATA_STRINGS[i].equals(name))
                {
                    fields.present[i] = true;
                    if (fieldValue == JsonToken.VALUE_STRING)
                    {
                        fields.strings[i] = i == EventFields.TOOL_CALL_ID || i == EventFields.OUTCOME ?
                            parser.getText() : EventFields.UNREAD;
                        fields.lengths[i] = parser.getTextLength();
                    }
                    else
                    {
                        fields.strings[i] = fieldValue == JsonToken.VALUE_NULL ? null : EventFields.NOT_A_STRING;
                    }
                }
            }
            parser.skipChildren();
        }
        if (token != JsonToken.END_OBJECT)
        {
            throw new JsonParseException(parser, "data is not closed");
        }
        fields.dataEnd = (int)parser.currentTokenLocation().getByteOffset() + 1;
    }

    private EventDraft toDraft(final EventFields fields, final DirectBuffer body, final int at) throws Invalid
    {
        final EventDraft event = new EventDraft();
        target(fields.user, fields.room, fields.broadcast, at, event);
        final String type = required(fields.type, at, "type");
        final boolean agentType = fields.typeKind == TypeNames.AGENT;
        if (fields.typeKind == TypeNames.INVALID)
        {
            throw new Invalid(where(at) + ".type '" + type + "' is not an agent event type (agent_started, " +
                "agent_thinking, agent_answer, tool_executing, tool_completed, agent_completed) nor a namespaced " +
                "custom type " +
                "(like app.progress)");
        }
        event.type(type)
            .runId(agentType ? required(fields.runId, at, "run_id") : fields.runId)
            .threadId(fields.threadId)
            .eventId(fields.id);
        if (!fields.hasData)
        {
            if (agentType)
            {
                throw new Invalid(where(at) + ".data is required for " + type);
            }
            return event.payload(EMPTY_DATA, 0, EMPTY_DATA.capacity());
        }
        if (fields.dataStart < 0)
        {
            throw new Invalid(where(at) + ".data must be a JSON object");
        }
        if (agentType)
        {
            EventFields.checkAgentData(type, event, fields, at);
        }
        final int length = fields.dataEnd - fields.dataStart;
        if (length > maxDataBytes)
        {
            throw new Invalid(where(at) + ".data is " + length + " bytes, at most " + maxDataBytes + " allowed");
        }
        return event.payload(body, fields.dataStart, length);
    }

    /** user / room / broadcast: exactly one. */
    static void target(final String user, final String room, final JsonToken broadcast, final int at,
        final EventDraft event) throws Invalid
    {
        if (broadcast != null && broadcast != JsonToken.VALUE_TRUE && broadcast != JsonToken.VALUE_FALSE)
        {
            throw new Invalid(where(at) + ".broadcast must be true or false");
        }
        final boolean toAll = broadcast == JsonToken.VALUE_TRUE;
        final int targets = (user != null ? 1 : 0) + (room != null ? 1 : 0) + (toAll ? 1 : 0);
        if (targets != 1)
        {
            throw new Invalid(where(at) + " must name exactly one of user, room or broadcast:true");
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

    /** A top-level string: null when absent or JSON null, else a non-empty string of at most 256 characters. */
    private static String text(final JsonParser parser, final JsonToken value, final int at, final String field)
        throws IOException, Invalid
    {
        if (value == JsonToken.VALUE_NULL)
        {
            return null;
        }
        if (value != JsonToken.VALUE_STRING)
        {
            parser.skipChildren();
            throw new Invalid(where(at) + "." + field + " must be a string");
        }
        return checked(parser.getText(), at, field);
    }

    /** As {@link #text}, for a name that recurs from event to event: the String kept for it when seen lately. */
    private static String name(
        final JsonParser parser, final JsonToken value, final int at, final String field, final NameCache names)
        throws IOException, Invalid
    {
        // A name past the bound is refused by text(), never kept: what the cache holds stays within its slots' names.
        if (value != JsonToken.VALUE_STRING || parser.getTextLength() > MAX_ID_LENGTH)
        {
            return text(parser, value, at, field);
        }
        return checked(names.name(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength()), at,
            field);
    }

    /** The type: as {@link #text}, the String kept for the name when it was seen before, its kind noted. */
    private static String typeName(
        final JsonParser parser, final JsonToken value, final int at, final EventFields fields)
        throws IOException, Invalid
    {
        if (value != JsonToken.VALUE_STRING)
        {
            return text(parser, value, at, "type");
        }
        final String name = fields.types.intern(
            parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
        fields.typeKind = fields.types.lastKind();
        return checked(name, at, "type");
    }

    static String checked(final String text, final int at, final String field) throws Invalid
    {
        checkLength(text.length(), at, field);
        return text;
    }

    /** A string field of {@code length} characters: not empty, and within the bound unless it is data.text. */
    static void checkLength(final int length, final int at, final String field) throws Invalid
    {
        if (length == 0)
        {
            throw new Invalid(where(at) + "." + field + " must not be empty");
        }
        if (length > MAX_ID_LENGTH && field != EventFields.DATA_LABELS[EventFields.TEXT])
        {
            throw new Invalid(where(at) + "." + field + " is longer than " + MAX_ID_LENGTH + " characters");
        }
    }

    static String required(final String value, final int at, final String field) throws Invalid
    {
        if (value == null)
        {
            throw new Invalid(where(at) + "." + field + " is required");
        }
        return value;
    }

    /** Checks a value given outside JSON (the binary endpoint's query) as a top-level string field. */
    static String queryText(final String value, final String field) throws Invalid
    {
        return value == null ? null : checked(value, QUERY, field);
    }

    /** @return how messages name the event at: {@code events[i]}, {@code event} or {@code query}. */
    static String where(final int at)
    {
        return at >= 0 ? "events[" + at + "]" : at == SINGLE ? "event" : "query";
    }

    private static String truncate(final String s)
    {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
