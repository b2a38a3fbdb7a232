package dev.agentwire.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads the few numbers the load tool checks in a received frame (its intended send time, seq and addressee)
 * without parsing it: the receiving side must not be the bottleneck of what it measures. Stateless.
 */
final class FrameFields
{
    static final byte[] SEQ_FIELD = "\"seq\":".getBytes(StandardCharsets.US_ASCII);
    static final byte[] ADDRESSEE_FIELD = "\"a\":".getBytes(StandardCharsets.US_ASCII);

    /** The integer after the first occurrence of {@code field} in the frame, or Long.MIN_VALUE. */
    static long numberAfter(final ByteBuffer frame, final int from, final int to, final byte[] field)
    {
        outer:
        for (int i = from; i + field.length < to; i++)
        {
            for (int k = 0; k < field.length; k++)
            {
                if (frame.get(i + k) != field[k])
                {
                    continue outer;
                }
            }
            int j = i + field.length;
            final boolean negative = frame.get(j) == '-';
            if (negative)
            {
                j++;
            }
            final int digitsFrom = j;
            long value = 0;
            while (j < to && frame.get(j) >= '0' && frame.get(j) <= '9')
            {
                value = value * 10 + (frame.get(j) - '0');
                j++;
            }
            return j > digitsFrom ? (negative ? -value : value) : Long.MIN_VALUE;
        }
        return Long.MIN_VALUE;
    }

    /** As {@link #intendedTime(CharSequence)}, on the frame's bytes (ASCII digits), without decoding. */
    static long intendedTime(final ByteBuffer frame, final int from, final int to)
    {
        for (int i = from; i + 4 < to; i++)
        {
            if (frame.get(i) == '"' && frame.get(i + 1) == 't' && frame.get(i + 2) == '"' && frame.get(i + 3) == ':')
            {
                long value = 0;
                int j = i + 4;
                final boolean negative = j < to && frame.get(j) == '-';
                if (negative)
                {
                    j++;
                }
                final int digitsFrom = j;
                while (j < to && frame.get(j) >= '0' && frame.get(j) <= '9')
                {
                    value = value * 10 + (frame.get(j) - '0');
                    j++;
                }
                if (j > digitsFrom)
                {
                    return negative ? -value : value;
                }
            }
        }
        return Long.MIN_VALUE;
    }

    /** Finds {@code "t":<number>} without parsing the frame: the receiving side must not be the bottleneck. */
    static long intendedTime(final CharSequence frame)
    {
        final int length = frame.length();
        for (int i = 0; i + 4 < length; i++)
        {
            if (frame.charAt(i) == '"' && frame.charAt(i + 1) == 't' && frame.charAt(i + 2) == '"' &&
                frame.charAt(i + 3) == ':')
            {
                long value = 0;
                boolean negative = false;
                int j = i + 4;
                if (j < length && frame.charAt(j) == '-')
                {
                    negative = true;
                    j++;
                }
                final int digitsFrom = j;
                while (j < length && Character.isDigit(frame.charAt(j)))
                {
                    value = value * 10 + (frame.charAt(j) - '0');
                    j++;
                }
                if (j > digitsFrom)
                {
                    return negative ? -value : value;
                }
            }
        }
        return Long.MIN_VALUE;
    }

    private FrameFields()
    {
    }
}
