package dev.agentwire.server.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Writes JSON straight into a buffer, allocating nothing: for what the server sends on every event and answer.
 * Lengths can be computed before writing ({@link #stringLength}, {@link #longLength}), so a frame header that
 * carries the length can be written first. Strings are escaped as Jackson escapes them (quote, backslash, the
 * control characters: {@code \b \t \n \f \r} short, the rest {@code \}{@code u00XX}) and written as UTF-8; a lone
 * surrogate becomes {@code ?}.
 */
public final class JsonWriter
{
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};

    private JsonWriter()
    {
    }

    /** @return the bytes {@link #putString} writes for {@code value}: quotes included, {@code null} for null. */
    public static int stringLength(final CharSequence value)
    {
        if (value == null)
        {
            return NULL.length;
        }
        int bytes = 2;
        for (int i = 0, n = value.length(); i < n; i++)
        {
            final char c = value.charAt(i);
            if (c < 0x20)
            {
                bytes += shortEscape(c) != 0 ? 2 : 6;
            }
            else if (c == '"' || c == '\\')
            {
                bytes += 2;
            }
            else if (c < 0x80)
            {
                bytes++;
            }
            else if (c < 0x800)
            {
                bytes += 2;
            }
            else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1)))
            {
                bytes += 4;
                i++;
            }
            else
            {
                bytes += Character.isSurrogate(c) ? 1 : 3;
            }
        }
        return bytes;
    }

    /** Writes a JSON string (or {@code null}). @return bytes written. */
    public static int putString(final MutableDirectBuffer dst, final int index, final CharSequence value)
    {
        if (value == null)
        {
            dst.putBytes(index, NULL);
            return NULL.length;
        }
        int at = index;
        dst.putByte(at++, (byte)'"');
        for (int i = 0, n = value.length(); i < n; i++)
        {
            final char c = value.charAt(i);
            if (c < 0x20)
            {
                final char escape = shortEscape(c);
                dst.putByte(at++, (byte)'\\');
                if (escape != 0)
                {
                    dst.putByte(at++, (byte)escape);
                }
                else
                {
                    dst.putByte(at++, (byte)'u');
                    dst.putByte(at++, (byte)'0');
                    dst.putByte(at++, (byte)'0');
                    dst.putByte(at++, HEX[c >> 4]);
                    dst.putByte(at++, HEX[c & 0xF]);
                }
            }
            else if (c == '"' || c == '\\')
            {
                dst.putByte(at++, (byte)'\\');
                dst.putByte(at++, (byte)c);
            }
            else if (c < 0x80)
            {
                dst.putByte(at++, (byte)c);
            }
            else if (c < 0x800)
            {
                dst.putByte(at++, (byte)(0xC0 | (c >> 6)));
                dst.putByte(at++, (byte)(0x80 | (c & 0x3F)));
            }
            else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1)))
            {
                final int cp = Character.toCodePoint(c, value.charAt(++i));
                dst.putByte(at++, (byte)(0xF0 | (cp >> 18)));
                dst.putByte(at++, (byte)(0x80 | ((cp >> 12) & 0x3F)));
                dst.putByte(at++, (byte)(0x80 | ((cp >> 6) & 0x3F)));
                dst.putByte(at++, (byte)(0x80 | (cp & 0x3F)));
            }
            else if (Character.isSurrogate(c))
            {
                dst.putByte(at++, (byte)'?');
            }
            else
            {
                dst.putByte(at++, (byte)(0xE0 | (c >> 12)));
                dst.putByte(at++, (byte)(0x80 | ((c >> 6) & 0x3F)));
                dst.putByte(at++, (byte)(0x80 | (c & 0x3F)));
            }
        }
        dst.putByte(at++, (byte)'"');
        return at - index;
    }

    /**
     * Writes UTF-8 bytes as a JSON string, quotes included, escaping what JSON requires (as {@link #putString}).
     *
     * @return bytes written.
     */
    public static int putUtf8String(
        final MutableDirectBuffer dst, final int index, final DirectBuffer src, final int from, final int length)
    {
        int at = index;
        dst.putByte(at++, (byte)'"');
        at += putEscaped(dst, at, src, from, from + length);
        dst.putByte(at++, (byte)'"');
        return at - index;
    }

    /**
     * Copies a JSON value as it is stored, without the whitespace between its tokens: what Jackson would write for
     * the parsed value, except that numbers and string escapes stay as they were sent.
     *
     * @return bytes written.
     */
    public static int putCompact(
        final MutableDirectBuffer dst, final int index, final DirectBuffer src, final int from, final int to)
    {
        int at = index;
        int i = from;
        while (i < to)
        {
            final byte b = src.getByte(i);
            if (b == '"')
            {
                final int end = JsonScan.skipString(src, i, to);
                dst.putBytes(at, src, i, end - i);
                at += end - i;
                i = end;
            }
            else
            {
                if (b != ' ' && b != '\n' && b != '\r' && b != '\t')
                {
                    dst.putByte(at++, b);
                }
                i++;
            }
        }
        return at - index;
    }

    /**
     * Writes a JSON value's text as a JSON string: {@code {"a":1}} becomes {@code "{\"a\":1}"} (compact, as
     * {@link #putCompact}).
     *
     * @return bytes written.
     */
    public static int putCompactAsString(
        final MutableDirectBuffer dst, final int index, final DirectBuffer src, final int from, final int to)
    {
        int at = index;
        dst.putByte(at++, (byte)'"');
        int i = from;
        while (i < to)
        {
            final byte b = src.getByte(i);
            if (b == '"')
            {
                // A string inside the value: its quotes and backslashes are escaped once more.
                final int end = JsonScan.skipString(src, i, to);
                at += putEscaped(dst, at, src, i, end);
                i = end;
            }
            else
            {
                if (b != ' ' && b != '\n' && b != '\r' && b != '\t')
                {
                    dst.putByte(at++, b);
                }
                i++;
            }
        }
        dst.putByte(at++, (byte)'"');
        return at - index;
    }

    /**
     * Writes a JSON scalar as the text Jackson's {@code asText()} gives it, as a JSON string: a string as it is, a
     * number or boolean quoted.
     *
     * @return bytes written, or 0 for what has no text ({@code null}, none): the caller writes its default.
     */
    public static int putScalarAsText(
        final MutableDirectBuffer dst, final int index, final DirectBuffer src, final int from, final int to)
    {
        if (from < 0 || from >= to)
        {
            return 0;
        }
        final byte first = src.getByte(from);
        if (first == '"')
        {
            dst.putBytes(index, src, from, to - from);
            return to - from;
        }
        if (first == 'n')
        {
            return 0;
        }
        if (first == '{' || first == '[')
        {
            dst.putByte(index, (byte)'"');
            dst.putByte(index + 1, (byte)'"');
            return 2;
        }
        dst.putByte(index, (byte)'"');
        dst.putBytes(index + 1, src, from, to - from);
        dst.putByte(index + 1 + to - from, (byte)'"');
        return to - from + 2;
    }

    private static int putEscaped(
        final MutableDirectBuffer dst, final int index, final DirectBuffer src, final int from, final int to)
    {
        int at = index;
        for (int i = from; i < to; i++)
        {
            final byte b = src.getByte(i);
            if (b == '"' || b == '\\')
            {
                dst.putByte(at++, (byte)'\\');
                dst.putByte(at++, b);
            }
            else if (b >= 0 && b < 0x20)
            {
                final char escape = shortEscape((char)b);
                dst.putByte(at++, (byte)'\\');
                if (escape != 0)
                {
                    dst.putByte(at++, (byte)escape);
                }
                else
                {
                    dst.putByte(at++, (byte)'u');
                    dst.putByte(at++, (byte)'0');
                    dst.putByte(at++, (byte)'0');
                    dst.putByte(at++, HEX[b >> 4]);
                    dst.putByte(at++, HEX[b & 0xF]);
                }
            }
            else
            {
                dst.putByte(at++, b);
            }
        }
        return at - index;
    }

    /** @return the digits (and sign) {@code value} takes in decimal. */
    public static int longLength(final long value)
    {
        if (value == Long.MIN_VALUE)
        {
            return 20;
        }
        if (value < 0)
        {
            return 1 + longLength(-value);
        }
        int digits = 1;
        for (long v = value; v >= 10; v /= 10)
        {
            digits++;
        }
        return digits;
    }

    /** Writes a decimal number. @return bytes written. */
    public static int putLong(final MutableDirectBuffer dst, final int index, final long value)
    {
        return dst.putLongAscii(index, value);
    }

    /** Writes ASCII text as it is (field names and punctuation). @return bytes written. */
    public static int putAscii(final MutableDirectBuffer dst, final int index, final String ascii)
    {
        return dst.putStringWithoutLengthAscii(index, ascii);
    }

    private static char shortEscape(final char c)
    {
        switch (c)
        {
            case '\b':
                return 'b';
            case '\t':
                return 't';
            case '\n':
                return 'n';
            case '\f':
                return 'f';
            case '\r':
                return 'r';
            default:
                return 0;
        }
    }
}
