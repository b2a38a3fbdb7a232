package dev.agentwire.server.wire;

import dev.agentwire.core.Utf8;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Writes JSON straight into a buffer, allocating nothing: for what the server sends on every event and answer.
 * Lengths can be computed before writing ({@link #stringLength}, {@link #longLength}), so a frame header that
 * carries the length can be written first. Strings are escaped as Jackson escapes them (quote, backslash, the
 * control characters: {@code \b \t \n \f \r} short, the rest {@code \}{@code u00XX}) and written as UTF-8 by
 * core's {@link Utf8}, the one encoder; a lone surrogate becomes {@code ?}.
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
        int run = 0;
        final int n = value.length();
        for (int i = 0; i < n; i++)
        {
            final char c = value.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\')
            {
                bytes += Utf8.length(value, run, i) + (c >= 0x20 || shortEscape(c) != 0 ? 2 : 6);
                run = i + 1;
            }
        }
        return bytes + Utf8.length(value, run, n);
    }

    /**
     * @return the most bytes {@link #putString} can write for {@code value} whatever it holds (six a character,
     *         quotes included), without reading it: a bound for checking room before writing.
     */
    public static int maxStringLength(final CharSequence value)
    {
        return value == null ? NULL.length : 2 + 6 * value.length();
    }

    /** Writes a JSON string (or {@code null}): escaped here, encoded by {@link Utf8}. @return bytes written. */
    public static int putString(final MutableDirectBuffer dst, final int index, final CharSequence value)
    {
        if (value == null)
        {
            dst.putBytes(index, NULL);
            return NULL.length;
        }
        int at = index;
        dst.putByte(at++, (byte)'"');
        int run = 0;
        final int n = value.length();
        for (int i = 0; i < n; i++)
        {
            final char c = value.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\')
            {
                // The chars before it need no escaping: one run of UTF-8 (a run never splits a surrogate pair).
                at += Utf8.put(dst, at, value, run, i);
                at += putEscape(dst, at, c);
                run = i + 1;
            }
        }
        at += Utf8.put(dst, at, value, run, n);
        dst.putByte(at++, (byte)'"');
        return at - index;
    }

    /** Writes the escape of a quote, a backslash or a control character. @return bytes written. */
    private static int putEscape(final MutableDirectBuffer dst, final int index, final int c)
    {
        dst.putByte(index, (byte)'\\');
        if (c == '"' || c == '\\')
        {
            dst.putByte(index + 1, (byte)c);
            return 2;
        }
        final char escape = shortEscape((char)c);
        if (escape != 0)
        {
            dst.putByte(index + 1, (byte)escape);
            return 2;
        }
        dst.putByte(index + 1, (byte)'u');
        dst.putByte(index + 2, (byte)'0');
        dst.putByte(index + 3, (byte)'0');
        dst.putByte(index + 4, HEX[c >> 4]);
        dst.putByte(index + 5, HEX[c & 0xF]);
        return 6;
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
        // Runs without whitespace are copied whole: JSON a producer sent compact is one copy.
        int at = index;
        int run = from;
        int i = from;
        while (i < to)
        {
            final byte b = src.getByte(i);
            if (b == '"')
            {
                i = JsonScan.skipString(src, i, to);
            }
            else if (b == ' ' || b == '\n' || b == '\r' || b == '\t')
            {
                dst.putBytes(at, src, run, i - run);
                at += i - run;
                run = ++i;
            }
            else
            {
                i++;
            }
        }
        dst.putBytes(at, src, run, to - run);
        return at + to - run - index;
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
        int run = from;
        for (int i = from; i < to; i++)
        {
            final byte b = src.getByte(i);
            if (b == '"' || b == '\\' || (b >= 0 && b < 0x20))
            {
                dst.putBytes(at, src, run, i - run);
                at += i - run;
                at += putEscape(dst, at, b);
                run = i + 1;
            }
        }
        dst.putBytes(at, src, run, to - run);
        return at + to - run - index;
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
