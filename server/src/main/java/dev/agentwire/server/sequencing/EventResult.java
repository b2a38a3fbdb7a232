package dev.agentwire.server.sequencing;

import dev.agentwire.core.PublishReceipt;

import java.util.ArrayList;
import java.util.List;

/**
 * One event's outcome in a batch: its status, its spine position, and the seq each recipient's stream gave it.
 * Recipients are added from slice threads (it is the event's {@link PublishReceipt}); read them under its lock.
 */
public final class EventResult implements PublishReceipt
{
    /** The event's index in its batch. */
    public final int index;
    /** {@code accepted}, {@code duplicate}, {@code not_attempted} or a refusal's name. */
    public String status = "not_attempted";
    /** The spine position when accepted, else -1. */
    public long position = -1;
    /** Each recipient's (epoch, seq), in the order of {@link #users}. */
    public final List<long[]> seqs = new ArrayList<>(1);
    /** The recipients. */
    public final List<String> users = new ArrayList<>(1);
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

    @Override
    public void onSequenced(final String userId, final long epoch, final long seq)
    {
        synchronized (this)
        {
            users.add(userId);
            seqs.add(new long[]{epoch, seq});
        }
    }

    @Override
    public void onComplete()
    {
        completion.run();
    }
}
