package dev.agentwire.server.auth;

import org.agrona.DirectBuffer;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Who a verified token speaks for: the user, the rooms it may join and whose events it may see, and when it stops
 * being valid.
 */
public final class Principal
{
    /** The user ({@code sub}). */
    public final String userId;
    /** The rooms the user may join ({@code rooms}). */
    public final Set<String> rooms;
    /** When the token stops being valid ({@code exp}), epoch ms. */
    public final long expiresAtMs;

    // The rooms as UTF-8, to compare with the names in the log without decoding them.
    private final byte[][] roomNames;

    Principal(final String userId, final Set<String> rooms, final long expiresAtMs)
    {
        this.userId = userId;
        this.rooms = rooms;
        this.expiresAtMs = expiresAtMs;
        this.roomNames = new byte[rooms.size()][];
        int i = 0;
        for (final String room : rooms)
        {
            roomNames[i++] = room.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** @return true when the token lists the room: the connection may join it and see its events. */
    public boolean mayJoin(final String room)
    {
        return rooms.contains(room);
    }

    /**
     * @return true when the token lists the room named by the UTF-8 bytes {@code name[offset, offset + length)}.
     *         Allocates nothing: asked for every room event a connection reads.
     */
    public boolean allowsRoom(final DirectBuffer name, final int offset, final int length)
    {
        for (final byte[] allowed : roomNames)
        {
            if (allowed.length == length && matches(allowed, name, offset))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(final byte[] allowed, final DirectBuffer name, final int offset)
    {
        for (int i = 0; i < allowed.length; i++)
        {
            if (allowed[i] != name.getByte(offset + i))
            {
                return false;
            }
        }
        return true;
    }
}
