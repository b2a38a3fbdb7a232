package dev.agentwire.server.agui;

import dev.agentwire.server.websocket.WebSocketFrames;
import dev.agentwire.server.wire.JsonScan;
import dev.agentwire.server.wire.JsonWriter;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Writes AG-UI events as WebSocket text frames, one JSON object a frame, the way every frame of the server is written
 * when its length is not known up front: room for the largest header is reserved, the body written, and the header
 * put in front of it ({@link #end} moves the body back over the room it did not need). The values come from where
 * they are stored (an event's record and payload), copied, never decoded: nothing is allocated.
 * <p>
 * Holds where it is writing; one per stage, used on the stage's I/O thread only.
 */
final class AgUiFrames
{
    private static final byte[] BASE64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(
            java.nio.charset.StandardCharsets.US_ASCII);

    private MutableDirectBuffer out;
    private int at;
    private int frameAt;
    private boolean firstField;

    /** Starts writing at {@code offset} of {@code dst}. */
    AgUiFrames wrap(final MutableDirectBuffer dst, final int offset)
    {
        out = dst;
        at = offset;
        return this;
    }

    /** @return where the next frame starts: the end of what was written. */
    int position()
    {
        return at;
    }

    /** Drops the reference to the buffer written (it is the I/O thread's, not the connection's). */
    void release()
    {
        out = null;
    }

    /** Opens a frame and its JSON object. */
    AgUiFrames begin()
    {
        frameAt = at;
        at = WebSocketFrames.payloadOffset(frameAt);
        out.putByte(at++, (byte)'{');
        firstField = true;
        return this;
    }

    /** Opens a frame of an AG-UI event whose type member is {@code typeMember} ({@link AgUiTokens}). */
    AgUiFrames begin(final byte[] typeMember)
    {
        begin();
        out.putBytes(at, typeMember);
        at += typeMember.length;
        firstField = false;
        return this;
    }

    /** Closes the JSON object and puts the frame's header in front of it. */
    void end()
    {
        out.putByte(at++, (byte)'}');
        at = frameAt + WebSocketFrames.finish(out, frameAt, at, WebSocketFrames.TEXT);
    }

    /** Writes a field's name, {@code "name":} from {@link AgUiTokens} (and the comma before it, unless first). */
    AgUiFrames name(final byte[] member)
    {
        if (!firstField)
        {
            out.putByte(at++, (byte)',');
        }
        firstField = false;
        out.putBytes(at, member);
        at += member.length;
        return this;
    }

    /** Writes bytes as they are: a literal value from {@link AgUiTokens}. */
    AgUiFrames raw(final byte[] literal)
    {
        out.putBytes(at, literal);
        at += literal.length;
        return this;
    }

    /** Writes a field name given as its stored JSON token (quotes included), as it is. */
    AgUiFrames rawName(final DirectBuffer src, final int from, final int to)
    {
        if (!firstField)
        {
            out.putByte(at++, (byte)',');
        }
        firstField = false;
        out.putBytes(at, src, from, to - from);
        at += to - from;
        out.putByte(at++, (byte)':');
        return this;
    }

    /** Writes an object's members kept as bytes (fields without braces), as they are. */
    AgUiFrames members(final byte[] members)
    {
        if (members.length > 0)
        {
            if (!firstField)
            {
                out.putByte(at++, (byte)',');
            }
            out.putBytes(at, members);
            at += members.length;
            firstField = false;
        }
        return this;
    }

    /** Opens an object value ({@link #close} closes it). */
    AgUiFrames open()
    {
        out.putByte(at++, (byte)'{');
        firstField = true;
        return this;
    }

    AgUiFrames close()
    {
        out.putByte(at++, (byte)'}');
        firstField = false;
        return this;
    }

    /** Writes ASCII as it is: punctuation, literals, quoted constants. */
    AgUiFrames ascii(final String ascii)
    {
        at += JsonWriter.putAscii(out, at, ascii);
        return this;
    }

    AgUiFrames number(final long value)
    {
        at += JsonWriter.putLong(out, at, value);
        return this;
    }

    AgUiFrames string(final String value)
    {
        at += JsonWriter.putString(out, at, value);
        return this;
    }

    /** A stored UTF-8 string (an event's run id, type, …) as a JSON string. */
    AgUiFrames utf8(final DirectBuffer src, final int offset, final int length)
    {
        at += JsonWriter.putUtf8String(out, at, src, offset, length);
        return this;
    }

    /** An id made from a cursor: {@code "aw-<epoch>-<seq>"}. */
    AgUiFrames cursorId(final long epoch, final long seq)
    {
        at += JsonWriter.putAscii(out, at, "\"aw-");
        at += JsonWriter.putLong(out, at, epoch);
        out.putByte(at++, (byte)'-');
        at += JsonWriter.putLong(out, at, seq);
        out.putByte(at++, (byte)'"');
        return this;
    }

    /** A stored JSON value, compact. */
    AgUiFrames value(final DirectBuffer src, final int from, final int to)
    {
        at += JsonWriter.putCompact(out, at, src, from, to);
        return this;
    }

    /** A stored JSON value's text, as a JSON string. */
    AgUiFrames valueAsString(final DirectBuffer src, final int from, final int to)
    {
        at += JsonWriter.putCompactAsString(out, at, src, from, to);
        return this;
    }

    /**
     * A stored value as Jackson's {@code asText(fallback)} would give it: a string as it is, a number or boolean as
     * its text, an object or array as {@code ""}, and {@code fallback} for null or none.
     */
    AgUiFrames text(final DirectBuffer src, final int from, final int end, final String fallback)
    {
        final int written = from < 0 ? 0 :
            JsonWriter.putScalarAsText(out, at, src, from, JsonScan.skipValue(src, from, end));
        if (written == 0)
        {
            at += JsonWriter.putString(out, at, fallback);
        }
        else
        {
            at += written;
        }
        return this;
    }

    /** Bytes as base64 in a JSON string. */
    AgUiFrames base64(final DirectBuffer src, final int from, final int length)
    {
        out.putByte(at++, (byte)'"');
        int i = from;
        final int end = from + length;
        for (; i + 3 <= end; i += 3)
        {
            final int bits =
                (src.getByte(i) & 0xFF) << 16 | (src.getByte(i + 1) & 0xFF) << 8 | src.getByte(i + 2) & 0xFF;
            out.putByte(at++, BASE64[bits >>> 18]);
            out.putByte(at++, BASE64[(bits >>> 12) & 0x3F]);
            out.putByte(at++, BASE64[(bits >>> 6) & 0x3F]);
            out.putByte(at++, BASE64[bits & 0x3F]);
        }
        if (i < end)
        {
            final int left = end - i;
            final int bits = (src.getByte(i) & 0xFF) << 16 | (left == 2 ? (src.getByte(i + 1) & 0xFF) << 8 : 0);
            out.putByte(at++, BASE64[bits >>> 18]);
            out.putByte(at++, BASE64[(bits >>> 12) & 0x3F]);
            out.putByte(at++, left == 2 ? BASE64[(bits >>> 6) & 0x3F] : (byte)'=');
            out.putByte(at++, (byte)'=');
        }
        out.putByte(at++, (byte)'"');
        return this;
    }
}
