package dev.agentwire.server.ingest;

/**
 * The names that recur from event to event (users, rooms, runs, threads), each kept as one String by its characters,
 * so that parsing a name seen lately makes no String: an agent's run sends hundreds of events with one user and one
 * run, and each name was a String and its bytes, made and then garbage, at every event. Direct-mapped and bounded:
 * a name takes the slot its characters hash to, replacing what was there, so a name seen once costs what it did
 * before and nothing grows. Event ids, which never recur, are not kept here. One per thread (not thread-safe).
 */
final class NameCache
{
    private static final int SLOTS = 4096;

    private final String[] names = new String[SLOTS];

    /** @return the name in {@code chars[offset, offset + length)}: the kept String when it is the one in its slot. */
    String name(final char[] chars, final int offset, final int length)
    {
        final int slot = hash(chars, offset, length) & (SLOTS - 1);
        final String kept = names[slot];
        if (kept != null && matches(kept, chars, offset, length))
        {
            return kept;
        }
        final String name = new String(chars, offset, length);
        names[slot] = name;
        return name;
    }

    /** @return a hash of the characters, String's own spread over the low bits (tables here mask them). */
    static int hash(final char[] chars, final int offset, final int length)
    {
        int hash = 0;
        for (int i = 0; i < length; i++)
        {
            hash = 31 * hash + chars[offset + i];
        }
        return hash ^ (hash >>> 16);
    }

    /** @return whether {@code name} is the characters {@code chars[offset, offset + length)}. */
    static boolean matches(final String name, final char[] chars, final int offset, final int length)
    {
        if (name.length() != length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (name.charAt(i) != chars[offset + i])
            {
                return false;
            }
        }
        return true;
    }
}
