package dev.agentwire.server.wire;

import org.agrona.DirectBuffer;

/**
 * Finds values in JSON the server itself stored or made (an event's {@code data}, checked as JSON at ingest) without
 * decoding it: positions only, so a transport can copy a value's bytes from the stored event to the socket and
 * allocate nothing. Not a validator: on input that is not JSON the positions are meaningless but stay within the
 * given range (callers pass only what ingest accepted). Stateless.
 */
public final class JsonScan
{
    /** Returned by {@link #field} when the object has no such field. */
    public static final int MISSING = -1;

    private JsonScan()
    {
    }

    /** @return the first index from {@code at} that is not JSON whitespace (or {@code end}). */
    public static int skipWhitespace(final DirectBuffer src, final int at, final int end)
    {
        int i = at;
        while (i < end && isWhitespace(src.getByte(i)))
        {
            i++;
        }
        return i;
    }

    /** @return the index just past the value that starts at {@code at} (whitespace before it skipped). */
    public static int skipValue(final DirectBuffer src, final int at, final int end)
    {
        int i = skipWhitespace(src, at, end);
        if (i >= end)
        {
            return end;
        }
        final byte first = src.getByte(i);
        if (first == '"')
        {
            return skipString(src, i, end);
        }
        if (first == '{' || first == '[')
        {
            int depth = 0;
            while (i < end)
            {
                final byte b = src.getByte(i);
                if (b == '"')
                {
                    i = skipString(src, i, end);
                    continue;
                }
                if (b == '{' || b == '[')
                {
                    depth++;
                }
                else if ((b == '}' || b == ']') && --depth == 0)
                {
                    return i + 1;
                }
                i++;
            }
            return end;
        }
        // A number or literal: up to the next delimiter.
        while (i < end)
        {
            final byte b = src.getByte(i);
            if (b == ',' || b == '}' || b == ']' || isWhitespace(b))
            {
                break;
            }
            i++;
        }
        return i;
    }

    /** @return the index just past the string whose opening quote is at {@code at}. */
    public static int skipString(final DirectBuffer src, final int at, final int end)
    {
        int i = at + 1;
        while (i < end)
        {
            final byte b = src.getByte(i);
            if (b == '\\')
            {
                i += 2;
                continue;
            }
            i++;
            if (b == '"')
            {
                return i;
            }
        }
        return end;
    }

    /**
     * Finds a top-level field of the object that starts at {@code objectAt}.
     *
     * @param key the field's name as its JSON string token, quotes included ({@code "\"text\""} as bytes): names are
     *            compared as written, so a name spelled with escapes is not found.
     * @return where the field's value starts, or {@link #MISSING}.
     */
    public static int field(final DirectBuffer src, final int objectAt, final int end, final byte[] key)
    {
        int i = skipWhitespace(src, objectAt, end);
        if (i >= end || src.getByte(i) != '{')
        {
            return MISSING;
        }
        i++;
        while (true)
        {
            i = skipWhitespace(src, i, end);
            if (i >= end || src.getByte(i) != '"')
            {
                return MISSING;
            }
            final int nameEnd = skipString(src, i, end);
            final int valueAt = skipWhitespace(src, skipWhitespace(src, nameEnd, end) + 1, end);
            if (equals(src, i, nameEnd, key))
            {
                return valueAt;
            }
            i = skipWhitespace(src, skipValue(src, valueAt, end), end);
            if (i >= end || src.getByte(i) != ',')
            {
                return MISSING;
            }
            i++;
        }
    }

    /**
     * Iterates an object's fields: from the object's start ({@code {}) or the end of the previous value, the start
     * of the next field's name.
     *
     * @return where the next name's opening quote is, or -1 after the last field.
     */
    public static int nextField(final DirectBuffer src, final int at, final int end)
    {
        int i = skipWhitespace(src, at, end);
        if (i >= end)
        {
            return -1;
        }
        final byte b = src.getByte(i);
        if (b == '{' || b == ',')
        {
            i = skipWhitespace(src, i + 1, end);
        }
        return i < end && src.getByte(i) == '"' ? i : -1;
    }

    /** @return where the value of the field whose name starts at {@code nameAt} starts. */
    public static int valueOf(final DirectBuffer src, final int nameAt, final int end)
    {
        return skipWhitespace(src, skipWhitespace(src, skipString(src, nameAt, end), end) + 1, end);
    }

    /** @return true when the bytes from {@code from} to {@code to} are {@code expected}. */
    public static boolean equals(final DirectBuffer src, final int from, final int to, final byte[] expected)
    {
        if (to - from != expected.length)
        {
            return false;
        }
        for (int i = 0; i < expected.length; i++)
        {
            if (src.getByte(from + i) != expected[i])
            {
                return false;
            }
        }
        return true;
    }

    /** @return true when the value at {@code at} is a string. */
    public static boolean isString(final DirectBuffer src, final int at)
    {
        return src.getByte(at) == '"';
    }

    /** @return true when the value at {@code at} is {@code null} (or there is none: {@link #MISSING}). */
    public static boolean isNull(final DirectBuffer src, final int at)
    {
        return at == MISSING || src.getByte(at) == 'n';
    }

    /** @return true when the value at {@code at} is an object. */
    public static boolean isObject(final DirectBuffer src, final int at)
    {
        return at != MISSING && src.getByte(at) == '{';
    }

    /** @return true when the value at {@code at} is the string {@code ""}. */
    public static boolean isEmptyString(final DirectBuffer src, final int at, final int end)
    {
        return at + 1 < end && src.getByte(at) == '"' && src.getByte(at + 1) == '"';
    }

    private static boolean isWhitespace(final byte b)
    {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }
}
