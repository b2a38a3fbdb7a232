package dev.agentwire.server.ingest;

import dev.agentwire.core.EventTypes;

/**
 * The event type names a thread's producers use, each kept as one String with its kind, so that parsing an event's
 * type creates no String and classifies nothing after the first time that name is seen. Producers use a handful of
 * types: the five agent types and some custom ones. A bounded open-addressing table: once it holds
 * {@link #MAX_NAMES}, new names are classified and returned as new Strings each time, never added; a name that is
 * not a valid type is never kept. One per thread (not thread-safe).
 */
final class TypeNames
{
    /** Kind: neither an agent type nor a namespaced custom type. */
    static final int INVALID = 0;
    /** Kind: one of the five agent event types. */
    static final int AGENT = 1;
    /** Kind: a namespaced custom type. */
    static final int CUSTOM = 2;

    /** Names kept at most: three quarters of the slots. */
    static final int MAX_NAMES = 192;
    private static final int SLOTS = 256;

    private final String[] names = new String[SLOTS];
    private final byte[] kinds = new byte[SLOTS];
    private int size;
    private int lastKind;

    /**
     * @return the name held in {@code chars[offset, offset + length)}: the kept String when the name was seen before.
     *         Its kind is then {@link #lastKind()}.
     */
    String intern(final char[] chars, final int offset, final int length)
    {
        int slot = NameCache.hash(chars, offset, length) & (SLOTS - 1);
        while (names[slot] != null)
        {
            final String name = names[slot];
            if (NameCache.matches(name, chars, offset, length))
            {
                lastKind = kinds[slot];
                return name;
            }
            slot = (slot + 1) & (SLOTS - 1);
        }
        final String name = new String(chars, offset, length);
        final int kind = EventTypes.isAgentType(name) ? AGENT : EventTypes.isCustomType(name) ? CUSTOM : INVALID;
        if (kind != INVALID && size < MAX_NAMES)
        {
            names[slot] = name;
            kinds[slot] = (byte)kind;
            size++;
        }
        lastKind = kind;
        return name;
    }

    /** @return the kind of the name {@link #intern} returned last. */
    int lastKind()
    {
        return lastKind;
    }
}
