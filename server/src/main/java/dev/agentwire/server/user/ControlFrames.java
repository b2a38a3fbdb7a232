package dev.agentwire.server.user;

import dev.agentwire.server.wire.JsonWriter;
import dev.agentwire.server.websocket.WebSocketFrames;
import org.agrona.MutableDirectBuffer;

/**
 * The text frames a user socket sends besides events (docs/PROTOCOL.md): welcome, resumed, joined, left, error and
 * pong, written into a buffer with their WebSocket header, allocating nothing. Each returns the frame's length, or
 * -1 when it does not fit in {@code capacity}.
 */
final class ControlFrames
{
    private static final String WELCOME = "{\"type\":\"welcome\",\"user\":";
    private static final String RESUMED = "{\"type\":\"resumed\",\"recovered\":";
    private static final String ERROR = "{\"type\":\"error\",\"code\":";
    private static final String MESSAGE = ",\"message\":";
    private static final String EPOCH = ",\"epoch\":";
    private static final String SEQ = ",\"seq\":";
    private static final String FROM = ",\"from\":";
    private static final String TO = ",\"to\":";

    private ControlFrames()
    {
    }

    static int welcome(
        final MutableDirectBuffer dst, final int at, final int capacity, final String user, final long epoch,
        final long seq)
    {
        final int body = WELCOME.length() + JsonWriter.stringLength(user) + EPOCH.length() +
            JsonWriter.longLength(epoch) + SEQ.length() + JsonWriter.longLength(seq) + 1;
        if (WebSocketFrames.headerLength(body) + body > capacity)
        {
            return -1;
        }
        int i = at + WebSocketFrames.putHeader(dst, at, WebSocketFrames.TEXT, body);
        i += JsonWriter.putAscii(dst, i, WELCOME);
        i += JsonWriter.putString(dst, i, user);
        i += JsonWriter.putAscii(dst, i, EPOCH);
        i += JsonWriter.putLong(dst, i, epoch);
        i += JsonWriter.putAscii(dst, i, SEQ);
        i += JsonWriter.putLong(dst, i, seq);
        dst.putByte(i++, (byte)'}');
        return checked(at, i, body);
    }

    static int resumed(
        final MutableDirectBuffer dst, final int at, final int capacity, final boolean recovered, final long epoch,
        final long from, final long to)
    {
        final int body = RESUMED.length() + (recovered ? 4 : 5) + EPOCH.length() + JsonWriter.longLength(epoch) +
            FROM.length() + JsonWriter.longLength(from) + TO.length() + JsonWriter.longLength(to) + 1;
        if (WebSocketFrames.headerLength(body) + body > capacity)
        {
            return -1;
        }
        int i = at + WebSocketFrames.putHeader(dst, at, WebSocketFrames.TEXT, body);
        i += JsonWriter.putAscii(dst, i, RESUMED);
        i += JsonWriter.putAscii(dst, i, recovered ? "true" : "false");
        i += JsonWriter.putAscii(dst, i, EPOCH);
        i += JsonWriter.putLong(dst, i, epoch);
        i += JsonWriter.putAscii(dst, i, FROM);
        i += JsonWriter.putLong(dst, i, from);
        i += JsonWriter.putAscii(dst, i, TO);
        i += JsonWriter.putLong(dst, i, to);
        dst.putByte(i++, (byte)'}');
        return checked(at, i, body);
    }

    static int room(final MutableDirectBuffer dst, final int at, final int capacity, final boolean joined,
        final String room)
    {
        final String head = joined ? "{\"type\":\"joined\",\"room\":" : "{\"type\":\"left\",\"room\":";
        final int body = head.length() + JsonWriter.stringLength(room) + 1;
        if (WebSocketFrames.headerLength(body) + body > capacity)
        {
            return -1;
        }
        int i = at + WebSocketFrames.putHeader(dst, at, WebSocketFrames.TEXT, body);
        i += JsonWriter.putAscii(dst, i, head);
        i += JsonWriter.putString(dst, i, room);
        dst.putByte(i++, (byte)'}');
        return checked(at, i, body);
    }

    static int error(final MutableDirectBuffer dst, final int at, final int capacity, final String code,
        final String message)
    {
        final int body = ERROR.length() + JsonWriter.stringLength(code) + MESSAGE.length() +
            JsonWriter.stringLength(message) + 1;
        if (WebSocketFrames.headerLength(body) + body > capacity)
        {
            return -1;
        }
        int i = at + WebSocketFrames.putHeader(dst, at, WebSocketFrames.TEXT, body);
        i += JsonWriter.putAscii(dst, i, ERROR);
        i += JsonWriter.putString(dst, i, code);
        i += JsonWriter.putAscii(dst, i, MESSAGE);
        i += JsonWriter.putString(dst, i, message);
        dst.putByte(i++, (byte)'}');
        return checked(at, i, body);
    }

    static int pong(final MutableDirectBuffer dst, final int at, final int capacity)
    {
        final String body = "{\"type\":\"pong\"}";
        if (2 + body.length() > capacity)
        {
            return -1;
        }
        int i = at + WebSocketFrames.putHeader(dst, at, WebSocketFrames.TEXT, body.length());
        i += JsonWriter.putAscii(dst, i, body);
        return i - at;
    }

    /** The length computed for the header must be the length written: a mismatch is a bug here, caught at once. */
    private static int checked(final int at, final int end, final int body)
    {
        final int length = end - at;
        if (length != WebSocketFrames.headerLength(body) + body)
        {
            throw new IllegalStateException("frame length mismatch: body=" + body + " written=" + length);
        }
        return length;
    }
}
