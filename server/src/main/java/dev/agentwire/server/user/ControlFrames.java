package dev.agentwire.server.user;

import dev.agentwire.server.websocket.WebSocketFrames;
import dev.agentwire.server.wire.JsonWriter;
import org.agrona.MutableDirectBuffer;

/**
 * The text frames a user socket sends besides events (docs/PROTOCOL.md): welcome, resumed, joined, left, error and
 * pong, written into a buffer with their WebSocket header the server's one way ({@link WebSocketFrames#finish}:
 * the payload written after reserved header room, the header put in front), allocating nothing. Each returns the
 * frame's length, or -1 when it may not fit in {@code capacity} (each string counted at its worst,
 * {@link JsonWriter#maxStringLength}).
 */
final class ControlFrames
{
    /** Bytes of a control frame besides its strings, at most (field names, numbers, punctuation, header). */
    private static final int FIXED_BYTES = 192;

    private ControlFrames()
    {
    }

    static int welcome(
        final MutableDirectBuffer dst, final int at, final int capacity, final String user, final long epoch,
        final long seq)
    {
        if (!fits(capacity, user, null))
        {
            return -1;
        }
        int i = WebSocketFrames.payloadOffset(at);
        i += JsonWriter.putAscii(dst, i, "{\"type\":\"welcome\",\"user\":");
        i += JsonWriter.putString(dst, i, user);
        i += JsonWriter.putAscii(dst, i, ",\"epoch\":");
        i += JsonWriter.putLong(dst, i, epoch);
        i += JsonWriter.putAscii(dst, i, ",\"seq\":");
        i += JsonWriter.putLong(dst, i, seq);
        dst.putByte(i++, (byte)'}');
        return WebSocketFrames.finish(dst, at, i, WebSocketFrames.TEXT);
    }

    static int resumed(
        final MutableDirectBuffer dst, final int at, final int capacity, final boolean recovered, final long epoch,
        final long from, final long to)
    {
        if (!fits(capacity, null, null))
        {
            return -1;
        }
        int i = WebSocketFrames.payloadOffset(at);
        i += JsonWriter.putAscii(dst, i, "{\"type\":\"resumed\",\"recovered\":");
        i += JsonWriter.putAscii(dst, i, recovered ? "true" : "false");
        i += JsonWriter.putAscii(dst, i, ",\"epoch\":");
        i += JsonWriter.putLong(dst, i, epoch);
        i += JsonWriter.putAscii(dst, i, ",\"from\":");
        i += JsonWriter.putLong(dst, i, from);
        i += JsonWriter.putAscii(dst, i, ",\"to\":");
        i += JsonWriter.putLong(dst, i, to);
        dst.putByte(i++, (byte)'}');
        return WebSocketFrames.finish(dst, at, i, WebSocketFrames.TEXT);
    }

    static int room(final MutableDirectBuffer dst, final int at, final int capacity, final boolean joined,
        final String room)
    {
        if (!fits(capacity, room, null))
        {
            return -1;
        }
        int i = WebSocketFrames.payloadOffset(at);
        i += JsonWriter.putAscii(dst, i, joined ? "{\"type\":\"joined\",\"room\":" : "{\"type\":\"left\",\"room\":");
        i += JsonWriter.putString(dst, i, room);
        dst.putByte(i++, (byte)'}');
        return WebSocketFrames.finish(dst, at, i, WebSocketFrames.TEXT);
    }

    static int error(final MutableDirectBuffer dst, final int at, final int capacity, final String code,
        final String message)
    {
        if (!fits(capacity, code, message))
        {
            return -1;
        }
        int i = WebSocketFrames.payloadOffset(at);
        i += JsonWriter.putAscii(dst, i, "{\"type\":\"error\",\"code\":");
        i += JsonWriter.putString(dst, i, code);
        i += JsonWriter.putAscii(dst, i, ",\"message\":");
        i += JsonWriter.putString(dst, i, message);
        dst.putByte(i++, (byte)'}');
        return WebSocketFrames.finish(dst, at, i, WebSocketFrames.TEXT);
    }

    static int pong(final MutableDirectBuffer dst, final int at, final int capacity)
    {
        if (!fits(capacity, null, null))
        {
            return -1;
        }
        int i = WebSocketFrames.payloadOffset(at);
        i += JsonWriter.putAscii(dst, i, "{\"type\":\"pong\"}");
        return WebSocketFrames.finish(dst, at, i, WebSocketFrames.TEXT);
    }

    /** @return true when a frame with these strings fits in {@code capacity} whatever they hold. */
    private static boolean fits(final int capacity, final String a, final String b)
    {
        return (long)FIXED_BYTES + JsonWriter.maxStringLength(a) + JsonWriter.maxStringLength(b) <= capacity;
    }
}
