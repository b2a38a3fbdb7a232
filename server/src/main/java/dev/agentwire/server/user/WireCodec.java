package dev.agentwire.server.user;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.agentwire.server.http.Json;
import dev.agentwire.core.AgentEvent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Encodes what the server sends (wire contract v1, see docs/PROTOCOL.md): JSON text frames for control messages and
 * events, and the binary frame layout for binary events. One instance per connection, used on its I/O thread.
 */
final class WireCodec
{
    /** First two bytes of every binary event frame: 'A' 'W'. */
    static final short BINARY_MAGIC = 0x4157;
    static final byte BINARY_VERSION = 1;
    static final byte FLAG_ROOM = 1;
    static final byte FLAG_BROADCAST = 2;

    private static final byte[] DATA_FIELD = ",\"data\":".getBytes(StandardCharsets.US_ASCII);

    /** Exposes its array so a frame is built with one copy of the envelope and one of the payload. */
    private static final class Bytes extends ByteArrayOutputStream
    {
        Bytes(final int size)
        {
            super(size);
        }

        byte[] array()
        {
            return buf;
        }
    }

    private final Bytes out = new Bytes(512);

    /** Writes a control message's fields; the envelope and its type are written around them. */
    @FunctionalInterface
    private interface Fields
    {
        void write(JsonGenerator g) throws IOException;
    }

    ByteBuffer welcome(final String userId, final long epoch, final long seq)
    {
        return control("welcome", g ->
        {
            g.writeStringField("user", userId);
            g.writeNumberField("epoch", epoch);
            g.writeNumberField("seq", seq);
        });
    }

    ByteBuffer resumed(final boolean recovered, final long epoch, final long from, final long to)
    {
        return control("resumed", g ->
        {
            g.writeBooleanField("recovered", recovered);
            g.writeNumberField("epoch", epoch);
            g.writeNumberField("from", from);
            g.writeNumberField("to", to);
        });
    }

    ByteBuffer room(final String type, final String room)
    {
        return control(type, g -> g.writeStringField("room", room));
    }

    ByteBuffer error(final String code, final String message)
    {
        return control("error", g ->
        {
            g.writeStringField("code", code);
            g.writeStringField("message", message);
        });
    }

    ByteBuffer pong()
    {
        return control("pong", g -> { });
    }

    private ByteBuffer control(final String type, final Fields fields)
    {
        out.reset();
        try (JsonGenerator g = Json.FACTORY.createGenerator(out))
        {
            g.writeStartObject();
            g.writeStringField("type", type);
            fields.write(g);
            g.writeEndObject();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return ByteBuffer.wrap(out.toByteArray());
    }

    /** A JSON event: the envelope fields, then the producer's {@code data} object spliced in as it was stored. */
    ByteBuffer event(final AgentEvent event)
    {
        out.reset();
        try (JsonGenerator g = Json.FACTORY.createGenerator(out))
        {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_JSON_CONTENT);
            g.writeStartObject();
            g.writeStringField("type", event.type());
            g.writeNumberField("seq", event.seq());
            g.writeNumberField("epoch", event.epoch());
            g.writeStringField("id", event.eventId());
            g.writeStringField("run_id", event.runId());
            g.writeStringField("thread_id", event.threadId());
            if (event.room() != null)
            {
                g.writeStringField("room", event.room());
            }
            if (event.isBroadcast())
            {
                g.writeBooleanField("broadcast", true);
            }
            g.writeNumberField("ts", event.timestampMs());
            g.flush();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        final ByteBuffer frame = ByteBuffer.allocate(out.size() + DATA_FIELD.length + event.payloadLength() + 1);
        frame.put(out.array(), 0, out.size()).put(DATA_FIELD);
        event.getPayload(frame);
        frame.put((byte)'}').flip();
        return frame;
    }

    /**
     * A binary event frame, big-endian:
     * <pre>
     *   u16 magic 'AW' | u8 version (1) | u8 flags (1 room, 2 broadcast) | u16 header length (from byte 0)
     *   i64 seq | i64 epoch | i64 ts (epoch ms)
     *   str type | str run_id | str thread_id | str id | str room      (str: u16 length + UTF-8; length 0 = absent)
     *   payload bytes to the end of the frame
     * </pre>
     */
    static ByteBuffer binaryEvent(final AgentEvent event)
    {
        final byte[] type = utf8(event.type());
        final byte[] runId = utf8(event.runId());
        final byte[] threadId = utf8(event.threadId());
        final byte[] id = utf8(event.eventId());
        final byte[] room = utf8(event.room());
        final int headerLength = 2 + 1 + 1 + 2 + 8 + 8 + 8 +
            5 * 2 + type.length + runId.length + threadId.length + id.length + room.length;
        final ByteBuffer frame = ByteBuffer.allocate(headerLength + event.payloadLength());
        byte flags = 0;
        if (event.room() != null)
        {
            flags |= FLAG_ROOM;
        }
        if (event.isBroadcast())
        {
            flags |= FLAG_BROADCAST;
        }
        frame.putShort(BINARY_MAGIC).put(BINARY_VERSION).put(flags).putShort((short)headerLength);
        frame.putLong(event.seq()).putLong(event.epoch()).putLong(event.timestampMs());
        putString(frame, type);
        putString(frame, runId);
        putString(frame, threadId);
        putString(frame, id);
        putString(frame, room);
        event.getPayload(frame);
        frame.flip();
        return frame;
    }

    private static void putString(final ByteBuffer frame, final byte[] bytes)
    {
        frame.putShort((short)bytes.length).put(bytes);
    }

    private static byte[] utf8(final String value)
    {
        if (value == null)
        {
            return new byte[0];
        }
        final byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 0xFFFF)
        {
            throw new IllegalArgumentException("string field longer than 65535 bytes");
        }
        return bytes;
    }
}
