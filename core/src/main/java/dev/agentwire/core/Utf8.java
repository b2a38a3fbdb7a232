package dev.agentwire.core;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;

import java.nio.charset.StandardCharsets;

/**
 * UTF-8 without allocating, the one encoder of the engine and its transports: the slices write ids into log
 * records with it, and the server's frame and JSON writers write every string with it. A lone surrogate is written
 * as '?', as {@link String#getBytes} would. Stateless.
 */
public final class Utf8
{
    private Utf8()
    {
    }

    /** @return the bytes {@code value} takes in UTF-8. */
    public static int length(final CharSequence value)
    {
        return length(value, 0, value.length());
    }

    /** @return the bytes the chars from {@code from} to {@code to} of {@code value} take in UTF-8. */
    public static int length(final CharSequence value, final int from, final int to)
    {
        int bytes = 0;
        for (int i = from, n = to; i < n; i++)
        {
            final char c = value.charAt(i);
            if (c < 0x80)
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

    /** Writes {@code value} in UTF-8 at {@code index}. @return the bytes written. */
    public static int put(final MutableDirectBuffer dst, final int index, final CharSequence value)
    {
        return put(dst, index, value, 0, value.length());
    }

    /**
     * Writes the chars from {@code from} to {@code to} of {@code value} in UTF-8. @return the bytes written.
     *
     * @throws IndexOutOfBoundsException when {@code dst} cannot take them (a fixed-size buffer; an expandable one
     *                                   grows).
     */
    public static int put(
        final MutableDirectBuffer dst, final int index, final CharSequence value, final int from, final int to)
    {
        // Ids, types and JSON keys are ASCII: one bounds check for the whole run, then a plain store per char, where
        // the general loop below pays a bounds check per byte. The run ends at the first char that is not ASCII.
        if (index < 0)
        {
            throw new IndexOutOfBoundsException("index=" + index);
        }
        dst.checkLimit(index + Math.max(0, to - from));
        final byte[] array = dst.byteArray();
        final long address = dst.addressOffset() + index - from;
        int i = from;
        while (i < to)
        {
            final char c = value.charAt(i);
            if (c >= 0x80)
            {
                break;
            }
            UnsafeApi.putByte(array, address + i, (byte)c);
            i++;
        }
        return i == to ? i - from : (i - from) + putGeneral(dst, index + (i - from), value, i, to);
    }

    private static int putGeneral(
        final MutableDirectBuffer dst, final int index, final CharSequence value, final int from, final int to)
    {
        int at = index;
        for (int i = from, n = to; i < n; i++)
        {
            final char c = value.charAt(i);
            if (c < 0x80)
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
        return at - index;
    }

    /** Decodes (allocates: for accessors, tests and tools). @return the string. */
    public static String get(final DirectBuffer src, final int index, final int length)
    {
        final byte[] bytes = new byte[length];
        src.getBytes(index, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
