package dev.agentwire.server.websocket;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads a client's frames (RFC 6455 section 5) from whatever bytes arrive, a frame split anywhere, and hands the
 * handler whole messages (reassembled from fragments), pings, pongs and the close. A client's frames must be
 * masked, use no extension (RSV bits 0) and a known opcode; control frames are final and at most 125 bytes;
 * continuations continue something; a message is at most {@code maxMessageBytes}; text is UTF-8; a close carries
 * nothing, or a valid code and a UTF-8 reason. Anything else ends the connection with the code the RFC gives:
 * 1002, 1007 or 1009. One per connection, on its I/O thread; holds a message's bytes only while it is incomplete.
 */
final class FrameReader
{
    /** What {@link #read} returns while the connection may go on. */
    static final int OK = 0;
    /** What {@link #read} returns when the handler asked to stop (it is closing the connection). */
    static final int STOPPED = -1;

    /** Told about each frame and message, on the connection's I/O thread. */
    interface Handler
    {
        /**
         * A frame begins (any opcode, continuations and control frames included): the hook for counting frames.
         *
         * @param payloadLength the frame's payload length, as its header says.
         * @return false to stop reading (the handler closes the connection).
         */
        boolean onFrame(int opcode, long payloadLength);

        /** A whole text (UTF-8 checked) or binary message; the bytes are valid during the call only. */
        void onMessage(int opcode, DirectBuffer data, int offset, int length);

        /** A ping, to be answered with a pong carrying the same bytes (valid during the call only). */
        void onPing(DirectBuffer data, int offset, int length);

        /** A pong. */
        void onPong();

        /** The client's close, with its code ({@link WebSocketFrames#NO_STATUS} when it gave none). */
        void onClose(int code, String reason);
    }

    private final int maxMessageBytes;
    private final byte[] header = new byte[14];
    private int headerFill;
    private int headerLength;
    private int opcode;
    private boolean fin;
    private long remaining;
    private final byte[] mask = new byte[4];
    private int maskIndex;
    // A data message being read: its first opcode (-1: none), its bytes so far.
    private int messageOpcode = -1;
    private ExpandableArrayBuffer message;
    private int messageLength;
    private final UnsafeBuffer control = new UnsafeBuffer(new byte[WebSocketFrames.MAX_CONTROL_PAYLOAD]);
    private int controlLength;
    private boolean closed;

    FrameReader(final int maxMessageBytes)
    {
        this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * Reads every byte available.
     *
     * @return {@link #OK}, {@link #STOPPED}, or the close code the client's violation calls for.
     */
    int read(final ByteBuffer in, final Handler handler)
    {
        while (in.hasRemaining() && !closed)
        {
            if (headerLength == 0 || headerFill < headerLength)
            {
                final int status = readHeader(in, handler);
                if (status != OK)
                {
                    return status;
                }
                if (headerLength == 0)
                {
                    continue; // a frame without payload, handled whole: the next one may follow in these bytes
                }
                if (headerFill < headerLength)
                {
                    return OK;
                }
            }
            final int take = (int)Math.min(remaining, in.remaining());
            if (isControl(opcode))
            {
                for (int i = 0; i < take; i++)
                {
                    control.putByte(controlLength++, unmask(in.get()));
                }
            }
            else
            {
                if (message == null)
                {
                    message = new ExpandableArrayBuffer(Math.max(64, (int)Math.min(remaining, maxMessageBytes)));
                }
                for (int i = 0; i < take; i++)
                {
                    message.putByte(messageLength++, unmask(in.get()));
                }
            }
            remaining -= take;
            if (remaining == 0)
            {
                final int status = endOfFrame(handler);
                headerLength = 0;
                headerFill = 0;
                if (status != OK)
                {
                    return status;
                }
            }
        }
        return OK;
    }

    private int readHeader(final ByteBuffer in, final Handler handler)
    {
        if (headerLength == 0)
        {
            headerLength = 2;
        }
        while (headerFill < headerLength && in.hasRemaining())
        {
            header[headerFill++] = in.get();
            if (headerFill == 2)
            {
                final int b0 = header[0] & 0xFF;
                final int b1 = header[1] & 0xFF;
                if ((b0 & 0x70) != 0 || (b1 & 0x80) == 0)
                {
                    return WebSocketFrames.PROTOCOL_ERROR; // an extension bit, or an unmasked client frame
                }
                final int length7 = b1 & 0x7F;
                headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
            }
        }
        if (headerFill < headerLength)
        {
            return OK;
        }
        final int b0 = header[0] & 0xFF;
        fin = (b0 & 0x80) != 0;
        opcode = b0 & 0x0F;
        final int length7 = header[1] & 0x7F;
        long length = length7;
        int at = 2;
        if (length7 == 126)
        {
            length = ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
            at = 4;
        }
        else if (length7 == 127)
        {
            length = 0;
            for (int i = 0; i < 8; i++)
            {
                length = (length << 8) | (header[2 + i] & 0xFF);
            }
            at = 10;
            if (length < 0)
            {
                return WebSocketFrames.PROTOCOL_ERROR;
            }
        }
        System.arraycopy(header, at, mask, 0, 4);
        maskIndex = 0;
        remaining = length;
        if (!handler.onFrame(opcode, length))
        {
            return STOPPED;
        }
        if (isControl(opcode))
        {
            if (opcode != WebSocketFrames.CLOSE && opcode != WebSocketFrames.PING && opcode != WebSocketFrames.PONG)
            {
                return WebSocketFrames.PROTOCOL_ERROR;
            }
            if (!fin || length > WebSocketFrames.MAX_CONTROL_PAYLOAD)
            {
                return WebSocketFrames.PROTOCOL_ERROR;
            }
            controlLength = 0;
        }
        else if (opcode == WebSocketFrames.CONTINUATION)
        {
            if (messageOpcode < 0)
            {
                return WebSocketFrames.PROTOCOL_ERROR;
            }
        }
        else if (opcode == WebSocketFrames.TEXT || opcode == WebSocketFrames.BINARY)
        {
            if (messageOpcode >= 0)
            {
                return WebSocketFrames.PROTOCOL_ERROR; // a new message inside a fragmented one
            }
            messageOpcode = opcode;
            messageLength = 0;
        }
        else
        {
            return WebSocketFrames.PROTOCOL_ERROR;
        }
        if (!isControl(opcode) && messageLength + length > maxMessageBytes)
        {
            return WebSocketFrames.TOO_BIG;
        }
        if (length == 0)
        {
            final int status = endOfFrame(handler);
            headerLength = 0;
            headerFill = 0;
            return status;
        }
        return OK;
    }

    private int endOfFrame(final Handler handler)
    {
        switch (opcode)
        {
            case WebSocketFrames.PING:
                handler.onPing(control, 0, controlLength);
                return OK;
            case WebSocketFrames.PONG:
                handler.onPong();
                return OK;
            case WebSocketFrames.CLOSE:
                return readClose(handler);
            default:
                break;
        }
        if (!fin)
        {
            return OK;
        }
        final int completed = messageOpcode;
        final ExpandableArrayBuffer bytes = message;
        final int length = messageLength;
        messageOpcode = -1;
        message = null;
        messageLength = 0;
        final DirectBuffer data = bytes == null ? control : bytes;
        if (completed == WebSocketFrames.TEXT && !Utf8Validator.isValid(data, 0, length))
        {
            return WebSocketFrames.INVALID_DATA;
        }
        handler.onMessage(completed, data, 0, length);
        return OK;
    }

    private int readClose(final Handler handler)
    {
        closed = true;
        if (controlLength == 0)
        {
            handler.onClose(WebSocketFrames.NO_STATUS, "");
            return OK;
        }
        if (controlLength == 1)
        {
            return WebSocketFrames.PROTOCOL_ERROR;
        }
        final int code = ((control.getByte(0) & 0xFF) << 8) | (control.getByte(1) & 0xFF);
        if (!WebSocketFrames.isValidCloseCode(code))
        {
            return WebSocketFrames.PROTOCOL_ERROR;
        }
        if (!Utf8Validator.isValid(control, 2, controlLength - 2))
        {
            return WebSocketFrames.INVALID_DATA;
        }
        final byte[] reason = new byte[controlLength - 2];
        control.getBytes(2, reason);
        handler.onClose(code, new String(reason, StandardCharsets.UTF_8));
        return OK;
    }

    private byte unmask(final byte b)
    {
        final byte value = (byte)(b ^ mask[maskIndex]);
        maskIndex = (maskIndex + 1) & 3;
        return value;
    }

    private static boolean isControl(final int opcode)
    {
        return (opcode & 0x8) != 0;
    }
}
