package dev.agentwire.server.cluster;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The feed's names: found again by their bytes, bounded by their slots, and never a wrong name. */
class AsciiNamesTest
{
    @Test
    void shouldReturnTheSameStringForTheSameBytesWhereverTheyLie()
    {
        final AsciiNames names = new AsciiNames(8);
        final byte[] a = "xxalicexx".getBytes(StandardCharsets.US_ASCII);
        final String first = names.get(a, 2, 5);
        assertEquals("alice", first);
        assertSame(first, names.get("alice".getBytes(StandardCharsets.US_ASCII), 0, 5));
        assertSame(first, names.get(new UnsafeBuffer("..alice".getBytes(StandardCharsets.US_ASCII)), 2, 5));
    }

    @Test
    void shouldNeverMistakeOneNameForAnotherInTheSameSlot()
    {
        // One slot: every name collides, and each must still come back as itself.
        final AsciiNames names = new AsciiNames(1);
        for (int round = 0; round < 3; round++)
        {
            for (final String name : new String[]{"ann", "bob", "an", "anna", "", "Aa", "BB"})
            {
                final byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
                assertEquals(name, names.get(bytes, 0, bytes.length));
            }
        }
    }

    @Test
    void shouldDecodeANameThatIsNotAsciiEveryTimeWithoutKeepingIt()
    {
        final AsciiNames names = new AsciiNames(8);
        final byte[] bytes = "zoë-\uD83D\uDE00".getBytes(StandardCharsets.UTF_8);
        final String first = names.get(bytes, 0, bytes.length);
        assertEquals("zoë-\uD83D\uDE00", first);
        assertNotSame(first, names.get(bytes, 0, bytes.length));
    }

    @Test
    void shouldRefuseASizeThatIsNotAPowerOfTwo()
    {
        assertThrows(IllegalArgumentException.class, () -> new AsciiNames(0));
        assertThrows(IllegalArgumentException.class, () -> new AsciiNames(12));
    }
}
