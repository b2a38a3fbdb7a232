package dev.agentwire.core;

import org.agrona.collections.IntArrayList;
import org.agrona.collections.Object2ObjectHashMap;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A slice's users: by id, and by slot — the number a log record names its user by, with a generation so that a
 * record of a freed user is never taken for the user who reuses the slot. Creates a user's stream at first sight
 * (a new epoch: a cursor from a forgotten stream can never be taken for this one) and keeps the users in order of
 * last activity, for freeing the absent. Single-threaded (the slice's).
 */
final class UserTable
{
    private static final long MAX_JS_SAFE_EPOCH = 1L << 53;

    /** Told when a new user takes the slice past its share of {@code maxUsers}. */
    interface Overflow
    {
        /** @param created the user just created, to be kept. */
        void onOverflow(UserStream created);
    }

    private final SliceLog log;
    private final boolean replica;
    private final SliceCounters counters;
    private final int maxUsers;
    private Overflow overflow;
    private int size;
    private final Object2ObjectHashMap<String, UserStream> byId = new Object2ObjectHashMap<>();
    private final IntArrayList freeSlots = new IntArrayList();
    private UserStream[] bySlot = new UserStream[64];
    private int[] generations = new int[64];
    private int nextSlot;
    final UserList byActivity = new UserList(false);

    UserTable(final SliceLog log, final boolean replica, final SliceCounters counters, final int maxUsers)
    {
        this.log = log;
        this.replica = replica;
        this.counters = counters;
        this.maxUsers = maxUsers;
    }

    void onOverflow(final Overflow overflow)
    {
        this.overflow = overflow;
    }

    /** @return users held. */
    int size()
    {
        return size;
    }

    /** @return the most users this slice holds before it frees the least recently active. */
    int maxUsers()
    {
        return maxUsers;
    }

    /** @return the user, or null when the slice holds no state for it. */
    UserStream get(final String userId)
    {
        return byId.get(userId);
    }

    /** @return the user a record names, or null when that user was freed since. */
    UserStream get(final int slot, final int generation)
    {
        final UserStream user = slot < nextSlot ? bySlot[slot] : null;
        return user != null && user.generation == generation ? user : null;
    }

    UserStream getOrCreate(final String userId, final long nowMs)
    {
        UserStream user = byId.get(userId);
        if (user == null)
        {
            // A replica takes its epochs from the sequencer instead, and knows the stream once it sees one.
            final long epoch = replica ? 0 : ThreadLocalRandom.current().nextLong(1, MAX_JS_SAFE_EPOCH);
            final int slot = freeSlots.isEmpty() ? nextSlot++ : freeSlots.removeAt(freeSlots.size() - 1);
            if (slot == bySlot.length)
            {
                bySlot = Arrays.copyOf(bySlot, slot * 2);
                generations = Arrays.copyOf(generations, slot * 2);
            }
            user = new UserStream(userId, slot, ++generations[slot], log, epoch);
            user.lastActivityMs = nowMs;
            bySlot[slot] = user;
            byId.put(userId, user);
            byActivity.touch(user);
            SliceCounters.increment(counters.users);
            if (++size > maxUsers && overflow != null)
            {
                overflow.onOverflow(user);
            }
        }
        return user;
    }

    void touchActivity(final UserStream user, final long nowMs)
    {
        user.lastActivityMs = nowMs;
        byActivity.touch(user);
    }

    /** Forgets a user (its history and rooms are the caller's to release first). */
    void remove(final UserStream user)
    {
        byActivity.remove(user);
        byId.remove(user.userId);
        bySlot[user.slot] = null;
        freeSlots.addInt(user.slot);
        SliceCounters.add(counters.users, -1);
        SliceCounters.increment(counters.usersFreed);
        size--;
    }
}
