package dev.agentwire.server.user;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.FrameEncoder;
import dev.agentwire.core.Utf8;
import dev.agentwire.server.wire.JsonWriter;
import dev.agentwire.server.websocket.WebSocketFrames;
import org.agrona.MutableDirectBuffer;

/**
 * What each event becomes on {@code /v1/ws} (wire contract v1, docs/PROTOCOL.md), made once per recipient when
 * its slice numbers it and then copied to that user's sockets as it is: a whole WebSocket frame.
 * <ul>
 *   <li>a JSON event: a text frame of {@code {"type":..,"seq":..,"epoch":..,"id":..,"run_id":..,"thread_id":..,
 *       ["room":..,]["broadcast":true,]"ts":..,"data":} + the producer's {@code data} bytes as they came + {@code }};
 *   <li>a binary event: a binary frame of the documented header ({@code 'AW'}, version, flags, header length, seq,
 *       epoch, ts, five length-prefixed strings) + the payload.
 * </ul>
 * Stateless (one instance serves every slice), allocates nothing.
 */
public final class WireFrameEncoder implements FrameEncoder
{
    /** First two bytes of every binary event frame: 'A' 'W'. */
    static final short BINARY_MAGIC = 0x4157;
    static final byte BINARY_VERSION = 1;
    static final byte FLAG_ROOM = 1;
    static final byte FLAG_BROADCAST = 2;
    private static final int BINARY_FIXED = 2 + 1 + 1 + 2 + 8 + 8 + 8;

    private static final String TYPE = "{\"type\":";
    private static final String SEQ = ",\"seq\":";
    private static final String EPOCH = ",\"epoch\":";
    private static final String ID = ",\"id\":";
    private static final String RUN_ID = ",\"run_id\":";
    private static final String THREAD_ID = ",\"thread_id\":";
    private static final String ROOM = ",\"room\":";
    private static final String BROADCAST = ",\"broadcast\":true";
    private static final String TS = ",\"ts\":";
    private static final String DATA = ",\"data\":";

    @Override
    public int maxFramingBytes()
    {
        // JSON: the fixed text, a type, four ids escaped at worst six bytes a character, three numbers, a header.
        final int json = 120 + (2 + EventTypes.MAX_TYPE_LENGTH) + 4 * (2 + 6 * EventDraft.MAX_ID_LENGTH) + 3 * 20 + 1;
        final int binary = BINARY_FIXED + 2 + EventTypes.MAX_TYPE_LENGTH + 4 * (2 + 3 * EventDraft.MAX_ID_LENGTH);
        return WebSocketFrames.MAX_HEADER_LENGTH + Math.max(json, binary);
    }

    @Override
    public int encodePrefix(final AgentEvent event, final MutableDirectBuffer dst, final int offset)
    {
        return event.isBinary() ? binaryPrefix(event, dst, offset) : jsonPrefix(event, dst, offset);
    }

    @Override
    public int encodeSuffix(final AgentEvent event, final MutableDirectBuffer dst, final int offset)
    {
        if (event.isBinary())
        {
            return 0;
        }
        dst.putByte(offset, (byte)'}');
        return 1;
    }

    private static int jsonPrefix(final AgentEvent event, final MutableDirectBuffer dst, final int offset)
    {
        final String room = event.room();
        final boolean broadcast = event.isBroadcast();
        final int envelope = TYPE.length() + JsonWriter.stringLength(event.type()) +
            SEQ.length() + JsonWriter.longLength(event.seq()) +
            EPOCH.length() + JsonWriter.longLength(event.epoch()) +
            ID.length() + JsonWriter.stringLength(event.eventId()) +
            RUN_ID.length() + JsonWriter.stringLength(event.runId()) +
            THREAD_ID.length() + JsonWriter.stringLength(event.threadId()) +
            (room != null ? ROOM.length() + JsonWriter.stringLength(room) : 0) +
            (broadcast ? BROADCAST.length() : 0) +
            TS.length() + JsonWriter.longLength(event.timestampMs()) +
            DATA.length();
        int at = offset + WebSocketFrames.putHeader(
            dst, offset, WebSocketFrames.TEXT, (long)envelope + event.payloadLength() + 1);
        at += JsonWriter.putAscii(dst, at, TYPE);
        at += JsonWriter.putString(dst, at, event.type());
        at += JsonWriter.putAscii(dst, at, SEQ);
        at += JsonWriter.putLong(dst, at, event.seq());
        at += JsonWriter.putAscii(dst, at, EPOCH);
        at += JsonWriter.putLong(dst, at, event.epoch());
        at += JsonWriter.putAscii(dst, at, ID);
        at += JsonWriter.putString(dst, at, event.eventId());
        at += JsonWriter.putAscii(dst, at, RUN_ID);
        at += JsonWriter.putString(dst, at, event.runId());
        at += JsonWriter.putAscii(dst, at, THREAD_ID);
        at += JsonWriter.putString(dst, at, event.threadId());
        if (room != null)
        {
            at += JsonWriter.putAscii(dst, at, ROOM);
            at += JsonWriter.putString(dst, at, room);
        }
        if (broadcast)
        {
            at += JsonWriter.putAscii(dst, at, BROADCAST);
        }
        at += JsonWriter.putAscii(dst, at, TS);
        at += JsonWriter.putLong(dst, at, event.timestampMs());
        at += JsonWriter.putAscii(dst, at, DATA);
        return at - offset;
    }

    private static int binaryPrefix(final AgentEvent event, final MutableDirectBuffer dst, final int offset)
    {
        final String type = event.type();
        final String runId = event.runId();
        final String threadId = event.threadId();
        final String id = event.eventId();
        final String room = event.room();
        final int headerLength = BINARY_FIXED + stringLength(type) + stringLength(runId) + stringLength(threadId) +
            stringLength(id) + stringLength(room);
        int at = offset + WebSocketFrames.putHeader(
            dst, offset, WebSocketFrames.BINARY, (long)headerLength + event.payloadLength());
        final byte flags = (byte)((room != null ? FLAG_ROOM : 0) | (event.isBroadcast() ? FLAG_BROADCAST : 0));
        dst.putShort(at, BINARY_MAGIC, java.nio.ByteOrder.BIG_ENDIAN);
        dst.putByte(at + 2, BINARY_VERSION);
        dst.putByte(at + 3, flags);
        dst.putShort(at + 4, (short)headerLength, java.nio.ByteOrder.BIG_ENDIAN);
        dst.putLong(at + 6, event.seq(), java.nio.ByteOrder.BIG_ENDIAN);
        dst.putLong(at + 14, event.epoch(), java.nio.ByteOrder.BIG_ENDIAN);
        dst.putLong(at + 22, event.timestampMs(), java.nio.ByteOrder.BIG_ENDIAN);
        at += BINARY_FIXED;
        at += putString(dst, at, type);
        at += putString(dst, at, runId);
        at += putString(dst, at, threadId);
        at += putString(dst, at, id);
        at += putString(dst, at, room);
        return at - offset;
    }

    private static int stringLength(final String value)
    {
        return 2 + (value == null ? 0 : Utf8.length(value));
    }

    private static int putString(final MutableDirectBuffer dst, final int index, final String value)
    {
        if (value == null)
        {
            dst.putShort(index, (short)0, java.nio.ByteOrder.BIG_ENDIAN);
            return 2;
        }
        final int length = Utf8.put(dst, index + 2, value);
        dst.putShort(index, (short)length, java.nio.ByteOrder.BIG_ENDIAN);
        return 2 + length;
    }
}
