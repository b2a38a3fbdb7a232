package dev.agentwire.server.auth;

import java.util.Set;

/**
 * Who a verified token speaks for: the user, the rooms it may join, and when it stops being valid.
 */
public final class Principal
{
    /** The user ({@code sub}). */
    public final String userId;
    /** The rooms the user may join ({@code rooms}). */
    public final Set<String> rooms;
    /** When the token stops being valid ({@code exp}), epoch ms. */
    public final long expiresAtMs;

    Principal(final String userId, final Set<String> rooms, final long expiresAtMs)
    {
        this.userId = userId;
        this.rooms = rooms;
        this.expiresAtMs = expiresAtMs;
    }

    /** @return true when the token lists the room. */
    public boolean mayJoin(final String room)
    {
        return rooms.contains(room);
    }
}
