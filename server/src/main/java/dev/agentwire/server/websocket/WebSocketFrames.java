package dev.agentwire.server.websocket;

import org.agrona.MutableDirectBuffer;

/**
 * RFC 6455 framing: opcodes, close codes the protocol itself uses, and the header of a frame this server sends
 * (final, unmasked: a server never masks).
 */
public final class WebSocketFrames
{
    /** Continuation of a fragmented message. */
    public static final int CONTINUATION = 0x0;
    /** A text (UTF-8) message. */
    public static final int TEXT = 0x1;
    /** A binary message. */
    public static final int BINARY = 0x2;
    /** Close. */
    public static final int CLOSE = 0x8;
    /** Ping. */
    public static final int PING = 0x9;
    /** Pong. */
    public static final int PONG = 0xA;

    /** Close: the frame broke the protocol. */
    public static final int PROTOCOL_ERROR = 1002;
    /** Close: a text message that is not UTF-8. */
    public static final int INVALID_DATA = 1007;
    /** Close: a message over the size limit. */
    public static final int TOO_BIG = 1009;
    /** The code a close frame without one is read as (never sent). */
    public static final int NO_STATUS = 1005;

    /** Most bytes a frame header this server writes takes. */
    public static final int MAX_HEADER_LENGTH = 10;
    /** The largest payload of a control frame (ping, pong, close), RFC 6455 section 5.5. */
    public static final int MAX_CONTROL_PAYLOAD = 125;

    private WebSocketFrames()
    {
    }

    /** @return the bytes the header of a frame with this much payload takes. */
    public static int headerLength(final long payloadLength)
    {
        return payloadLength < 126 ? 2 : payloadLength <= 0xFFFF ? 4 : 10;
    }

    /**
     * Writes a final, unmasked frame header.
     *
     * @return bytes written ({@link #headerLength}).
     */
    public static int putHeader(
        final MutableDirectBuffer dst, final int index, final int opcode, final long payloadLength)
    {
        dst.putByte(index, (byte)(0x80 | opcode));
        if (payloadLength < 126)
        {
            dst.putByte(index + 1, (byte)payloadLength);
            return 2;
        }
        if (payloadLength <= 0xFFFF)
        {
            dst.putByte(index + 1, (byte)126);
            dst.putByte(index + 2, (byte)(payloadLength >>> 8));
            dst.putByte(index + 3, (byte)payloadLength);
            return 4;
        }
        dst.putByte(index + 1, (byte)127);
        for (int i = 0; i < 8; i++)
        {
            dst.putByte(index + 2 + i, (byte)(payloadLength >>> (56 - 8 * i)));
        }
        return 10;
    }

    /**
     * Where a frame's payload starts when its length is not known until it is written: room for the largest header
     * is reserved in front of it ({@link #finish} closes it). The one way the server writes a frame of unknown
     * length.
     */
    public static int payloadOffset(final int frameOffset)
    {
        return frameOffset + MAX_HEADER_LENGTH;
    }

    /**
     * Finishes a frame whose payload was written from {@link #payloadOffset}: puts the header in front of it and
     * moves the payload back over the room the header did not need.
     *
     * @param payloadEnd where the payload's last byte was written, plus one.
     * @return the frame's length.
     */
    public static int finish(final MutableDirectBuffer dst, final int frameOffset, final int payloadEnd,
        final int opcode)
    {
        final int payloadAt = payloadOffset(frameOffset);
        final int payload = payloadEnd - payloadAt;
        final int header = headerLength(payload);
        if (header != MAX_HEADER_LENGTH)
        {
            dst.putBytes(frameOffset + header, dst, payloadAt, payload);
        }
        putHeader(dst, frameOffset, opcode, payload);
        return header + payload;
    }

    /** @return the reason this server gives with a close code the protocol itself uses. */
    public static String reason(final int code)
    {
        switch (code)
        {
            case PROTOCOL_ERROR:
                return "protocol error";
            case INVALID_DATA:
                return "text is not UTF-8";
            case TOO_BIG:
                return "message too big";
            default:
                return "closed";
        }
    }

    /** @return true for a close code a peer may send (RFC 6455 section 7.4). */
    static boolean isValidCloseCode(final int code)
    {
        // RFC 6455 section 7.4.1 and IANA's registry: 1012-1014 (service restart, try again later, bad gateway) are
        // valid on the wire; 1004-1006 and 1015 are reserved and never sent.
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }
}
