package dev.agentwire.server.sequencing;

import dev.agentwire.core.PublishReceipt;

import java.util.Arrays;

/**
 * One event's outcome in a batch: its status, its spine position, and the seq each recipient's stream gave it.
 * Recipients are added from slice threads (it is the event's {@link PublishReceipt}); read them after the batch is
 * done. The first recipient is kept in fields (a user event has one), more in arrays grown for rooms and
 * broadcasts.
 */
public final class EventResult implements PublishReceipt
{
    /** The event's index in its batch. */
    public final int index;
    /** 0 when accepted, else a status of {@link Refusals} (duplicate, not attempted, refused). */
    public long status = Refusals.NOT_ATTEMPTED;
    /** The spine position of an accepted event on this node, else -1 (a cluster's answer has none). */
    public long position = -1;
    private String firstUser;
    private long firstEpoch;
    private long firstSeq;
    private String[] users;
    private long[] epochs;
    private long[] seqs;
    private int count;
    private Runnable completion = () -> { };

    /** @param index the event's index in its batch. */
    public EventResult(final int index)
    {
        this.index = index;
    }

    void completion(final Runnable completion)
    {
        this.completion = completion;
    }

    /** @return recipients numbered so far. */
    public synchronized int recipients()
    {
        return count;
    }

    /** @return the i-th recipient. */
    public synchronized String user(final int i)
    {
        return i == 0 ? firstUser : users[i - 1];
    }

    /** @return the i-th recipient's epoch. */
    public synchronized long epoch(final int i)
    {
        return i == 0 ? firstEpoch : epochs[i - 1];
    }

    /** @return the i-th recipient's seq. */
    public synchronized long seq(final int i)
    {
        return i == 0 ? firstSeq : seqs[i - 1];
    }

    @Override
    public synchronized void onSequenced(final String userId, final long epoch, final long seq)
    {
        if (count == 0)
        {
            firstUser = userId;
            firstEpoch = epoch;
            firstSeq = seq;
        }
        else
        {
            final int at = count - 1;
            if (users == null || at == users.length)
            {
                final int capacity = users == null ? 4 : users.length * 2;
                users = users == null ? new String[capacity] : Arrays.copyOf(users, capacity);
                epochs = epochs == null ? new long[capacity] : Arrays.copyOf(epochs, capacity);
                seqs = seqs == null ? new long[capacity] : Arrays.copyOf(seqs, capacity);
            }
            users[at] = userId;
            epochs[at] = epoch;
            seqs[at] = seq;
        }
        count++;
    }

    @Override
    public void onComplete()
    {
        completion.run();
    }
}
