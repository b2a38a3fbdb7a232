package dev.agentwire.core;

import java.util.Arrays;

/**
 * Recipients numbered by an external sequencer (replica mode): parallel arrays of (user, epoch, seq), grown on
 * demand and never shrunk, so a draft and a ring slot reuse theirs and steady state allocates nothing.
 * Single-threaded, like its owner.
 */
final class Recipients
{
    private static final String[] NO_USERS = new String[0];
    private static final long[] NO_NUMBERS = new long[0];

    // Empty until the first recipient: most drafts and slots never carry one (only a cluster node's replica does).
    String[] users = NO_USERS;
    long[] epochs = NO_NUMBERS;
    long[] seqs = NO_NUMBERS;
    int count;

    void add(final String userId, final long epoch, final long seq)
    {
        ensureCapacity(count + 1);
        users[count] = userId;
        epochs[count] = epoch;
        seqs[count] = seq;
        count++;
    }

    /** Takes another list's entries in place of its own. */
    void copyFrom(final Recipients other)
    {
        final int n = other.count;
        ensureCapacity(n);
        System.arraycopy(other.users, 0, users, 0, n);
        System.arraycopy(other.epochs, 0, epochs, 0, n);
        System.arraycopy(other.seqs, 0, seqs, 0, n);
        // Entries past the new count must not keep user ids reachable.
        Arrays.fill(users, n, Math.max(n, count), null);
        count = n;
    }

    void clear()
    {
        Arrays.fill(users, 0, count, null);
        count = 0;
    }

    private void ensureCapacity(final int needed)
    {
        if (needed > users.length)
        {
            final int capacity = Math.max(needed, users.length * 2);
            users = Arrays.copyOf(users, capacity);
            epochs = Arrays.copyOf(epochs, capacity);
            seqs = Arrays.copyOf(seqs, capacity);
        }
    }
}
