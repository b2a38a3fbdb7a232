package dev.agentwire.core;

import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class Utf8Test
{
    private static byte[] encoded(final String value, final int from, final int to)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[3 + 3 * value.length() + 3]);
        final int written = Utf8.put(buffer, 3, value, from, to);
        assertEquals(Utf8.length(value, from, to), written, "length and put agree: " + value);
        // Nothing is written outside [3, 3 + written).
        for (int i = 0; i < 3; i++)
        {
            assertEquals(0, buffer.getByte(i));
        }
        for (int i = 3 + written; i < buffer.capacity(); i++)
        {
            assertEquals(0, buffer.getByte(i));
        }
        final byte[] bytes = new byte[written];
        buffer.getBytes(3, bytes);
        return bytes;
    }

    @Test
    void shouldWriteWhatTheJdkWritesForAsciiMixedAndSurrogates()
    {
        final String[] values = {
            "", "agent_started", "user-42", "\u00e9t\u00e9", "ascii then \u00e9", "\u20ac at first",
            "\ud83d\ude00 emoji", "a\ud83d\ude00b\u00e9c\u20ac", "lone \ud83d high", "lone \ude00 low", "end \ud83d",
            "\u007f\u0080\u07ff\u0800",
        };
        for (final String value : values)
        {
            assertArrayEquals(value.getBytes(StandardCharsets.UTF_8), encoded(value, 0, value.length()), value);
        }
    }

    @Test
    void shouldWriteOnlyTheRangeAsked()
    {
        final String value = "type=\u00e9v\u00e9nement;run=r-1";
        assertArrayEquals("\u00e9v\u00e9nement".getBytes(StandardCharsets.UTF_8), encoded(value, 5, 14));
        assertArrayEquals("run=r-1".getBytes(StandardCharsets.UTF_8), encoded(value, 15, value.length()));
        assertEquals(0, encoded(value, 4, 4).length);
    }

    @Test
    void shouldMatchTheJdkOnRandomStrings()
    {
        final SplittableRandom random = new SplittableRandom(7);
        final char[] alphabet = {'a', 'Z', '0', '"', '\u007f', '\u0080', '\u00e9', '\u07ff', '\u0800', '\u20ac',
            '\uffff', '\ud83d', '\ude00'};
        for (int n = 0; n < 2_000; n++)
        {
            final char[] chars = new char[random.nextInt(0, 40)];
            for (int i = 0; i < chars.length; i++)
            {
                chars[i] = random.nextInt(4) == 0 ? alphabet[random.nextInt(alphabet.length)] :
                    (char)random.nextInt(0x20, 0x7f);
            }
            final String value = new String(chars);
            assertArrayEquals(value.getBytes(StandardCharsets.UTF_8), encoded(value, 0, value.length()), value);
        }
    }

    @Test
    void shouldWriteIntoNativeAndExpandableBuffers()
    {
        final String value = "user-7 \u00e9";
        final byte[] expected = value.getBytes(StandardCharsets.UTF_8);

        final UnsafeBuffer direct = new UnsafeBuffer(ByteBuffer.allocateDirect(32));
        assertEquals(expected.length, Utf8.put(direct, 5, value));
        final byte[] fromDirect = new byte[expected.length];
        direct.getBytes(5, fromDirect);
        assertArrayEquals(expected, fromDirect);

        final ExpandableArrayBuffer expandable = new ExpandableArrayBuffer(4);
        final int at = 1_000;
        assertEquals(expected.length, Utf8.put(expandable, at, value));
        assertArrayEquals(expected, Arrays.copyOfRange(expandable.byteArray(), at, at + expected.length));
    }

    @Test
    void shouldRefuseAFixedBufferTooSmallWithoutWritingPastIt()
    {
        final byte[] backing = new byte[16];
        final UnsafeBuffer buffer = new UnsafeBuffer(backing, 0, 8);
        assertThrows(IndexOutOfBoundsException.class, () -> Utf8.put(buffer, 4, "ascii-only"));
        assertThrows(IndexOutOfBoundsException.class, () -> Utf8.put(buffer, 2, "\u00e9\u00e9\u00e9\u00e9"));
        assertThrows(IndexOutOfBoundsException.class, () -> Utf8.put(buffer, -1, "a"));
        for (int i = 8; i < backing.length; i++)
        {
            assertEquals(0, backing[i], "nothing past the buffer's end");
        }
    }
}
