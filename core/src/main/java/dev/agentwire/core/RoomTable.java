package dev.agentwire.core;

import org.agrona.collections.Object2ObjectHashMap;
import org.agrona.collections.ObjectHashSet;

import java.util.ArrayList;

/**
 * A slice's rooms: which of its users are members. Membership belongs to the user, not a connection.
 * Single-threaded (the slice's).
 */
final class RoomTable
{
    private final Object2ObjectHashMap<String, ArrayList<UserStream>> rooms = new Object2ObjectHashMap<>();

    /** @return the members of a room on this slice, or null when it has none. */
    ArrayList<UserStream> members(final String room)
    {
        return rooms.get(room);
    }

    void join(final UserStream user, final String room)
    {
        if (user.rooms == null)
        {
            user.rooms = new ObjectHashSet<>(4);
        }
        if (user.rooms.add(room))
        {
            rooms.computeIfAbsent(room, r -> new ArrayList<>(4)).add(user);
        }
    }

    void leave(final UserStream user, final String room)
    {
        if (user.rooms != null && user.rooms.remove(room))
        {
            removeFrom(user, room);
        }
    }

    /** Takes a user out of every room (it is being freed). */
    void leaveAll(final UserStream user)
    {
        if (user.rooms != null)
        {
            for (final String room : user.rooms)
            {
                removeFrom(user, room);
            }
            user.rooms = null;
        }
    }

    private void removeFrom(final UserStream user, final String room)
    {
        final ArrayList<UserStream> members = rooms.get(room);
        if (members != null)
        {
            members.remove(user);
            if (members.isEmpty())
            {
                rooms.remove(room);
            }
        }
    }
}
