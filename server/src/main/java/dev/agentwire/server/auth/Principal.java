package dev.agentwire.server;

import java.util.Set;

/**
 * Who a verified token speaks for: the user, the rooms it may join, and when it stops being valid.
 */
final class Principal
{
    final String userId;
    final Set<String> rooms;
    final long expiresAtMs;

    Principal(final String userId, final Set<String> rooms, final long expiresAtMs)
    {
        this.userId = userId;
        this.rooms = rooms;
        this.expiresAtMs = expiresAtMs;
    }

    boolean mayJoin(final String room)
    {
        return rooms.contains(room);
    }
}
