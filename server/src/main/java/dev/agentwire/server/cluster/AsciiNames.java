package dev.agentwire.server.cluster;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The Strings of names that come back again and again off Redis (users, event types, runs, rooms), found by their
 * bytes instead of decoded anew: a cluster node reads a user's name and its event's type off every channel message,
 * and decoding them made two Strings and their arrays per event (JFR allocation samples of the feed thread).
 * <p>
 * A direct-mapped table of {@code slots} Strings: a name's slot is picked by its bytes' hash, and a name that finds
 * another there takes its place. Only ASCII names are kept (they compare byte for char without decoding); any
 * other is decoded every time. Bounded by its slots whatever the names: about 100 bytes per slot once filled.
 * <p>
 * Threading: one thread (the feed's).
 */
final class AsciiNames
{
    private final String[] names;
    private final int[] hashes;
    private final int mask;
    private final UnsafeBuffer wrapped = new UnsafeBuffer(new byte[0]);

    /** @param slots a power of two. */
    AsciiNames(final int slots)
    {
        if (slots <= 0 || Integer.bitCount(slots) != 1)
        {
            throw new IllegalArgumentException("slots must be a power of two: slots=" + slots);
        }
        names = new String[slots];
        hashes = new int[slots];
        mask = slots - 1;
    }

    /** @return the name in the {@code length} bytes of UTF-8 at {@code at}. */
    String get(final byte[] bytes, final int at, final int length)
    {
        wrapped.wrap(bytes);
        return get(wrapped, at, length);
    }

    /** @return the name in the {@code length} bytes of UTF-8 at {@code at}. */
    String get(final DirectBuffer bytes, final int at, final int length)
    {
        int hash = 0;
        for (int i = 0; i < length; i++)
        {
            final byte b = bytes.getByte(at + i);
            if (b < 0)
            {
                return bytes.getStringWithoutLengthUtf8(at, length);
            }
            hash = 31 * hash + b;
        }
        final int slot = (hash ^ (hash >>> 16)) & mask;
        final String found = names[slot];
        if (found != null && hashes[slot] == hash && sameName(found, bytes, at, length))
        {
            return found;
        }
        final String name = bytes.getStringWithoutLengthUtf8(at, length);
        names[slot] = name;
        hashes[slot] = hash;
        return name;
    }

    private static boolean sameName(final String name, final DirectBuffer bytes, final int at, final int length)
    {
        if (name.length() != length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (name.charAt(i) != bytes.getByte(at + i))
            {
                return false;
            }
        }
        return true;
    }
}
