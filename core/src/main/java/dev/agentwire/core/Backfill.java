package dev.agentwire.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A user's stream as an external store (the cluster's Redis) held it when asked by a {@link HistorySource}: its
 * epoch, the first and last seq it still holds, and the events a resume needs, oldest first.
 * <p>
 * Built by the source on its own thread, then handed to {@link Subscription#backfill(Backfill)}, which merges it
 * with what the local slice has seen, in ring order. Not thread-safe while being built; immutable after.
 */
public final class Backfill
{
    /** One stored event, as the store gave it. */
    static final class Entry
    {
        final long seq;
        final String type;
        final String runId;
        final String threadId;
        final String eventId;
        final String room;
        final boolean broadcast;
        final boolean binary;
        final long timestampMs;
        final byte[] payload;

        Entry(final long seq, final EventDraft draft)
        {
            this.seq = seq;
            this.type = draft.type;
            this.runId = draft.runId;
            this.threadId = draft.threadId;
            this.eventId = draft.eventId;
            this.room = draft.targetKind == EventDraft.TARGET_ROOM ? draft.target : null;
            this.broadcast = draft.targetKind == EventDraft.TARGET_BROADCAST;
            this.binary = draft.binary;
            this.timestampMs = draft.timestampMs;
            this.payload = draft.payloadBytes();
        }
    }

    private final String userId;
    private final long epoch;
    private final long firstSeq;
    private final long lastSeq;
    private final List<Entry> events = new ArrayList<>();
    private boolean restarting;

    /**
     * @param userId   the stream's user.
     * @param epoch    the stream's epoch in the store.
     * @param firstSeq the oldest seq the store still holds ({@code lastSeq + 1} when it holds none).
     * @param lastSeq  the stream's last seq (0 for a stream with no events yet).
     */
    public Backfill(final String userId, final long epoch, final long firstSeq, final long lastSeq)
    {
        if (userId == null || userId.isEmpty() || epoch <= 0 || lastSeq < 0 || firstSeq < 1 || firstSeq > lastSeq + 1)
        {
            throw new IllegalArgumentException("userId=" + userId + " epoch=" + epoch + " firstSeq=" + firstSeq +
                " lastSeq=" + lastSeq + " must be a user, epoch > 0, 1 <= firstSeq <= lastSeq + 1");
        }
        this.userId = userId;
        this.epoch = epoch;
        this.firstSeq = firstSeq;
        this.lastSeq = lastSeq;
    }

    /**
     * Adds the next kept event. Events must be added in seq order, contiguous, ending at {@code lastSeq}.
     *
     * @param draft the event's fields (target says whether it reached the user through a room or broadcast).
     * @param seq   its number in the user's stream.
     * @return this backfill.
     */
    public Backfill add(final EventDraft draft, final long seq)
    {
        final long expected = events.isEmpty() ? seq : events.get(events.size() - 1).seq + 1;
        if (seq != expected || seq < firstSeq || seq > lastSeq)
        {
            throw new IllegalArgumentException("seq=" + seq + " expected=" + expected + " firstSeq=" + firstSeq +
                " lastSeq=" + lastSeq);
        }
        events.add(new Entry(seq, draft));
        return this;
    }

    /**
     * Marks this answer as the stream's state from now on: the source was not feeding the engine this user's
     * stream before it asked, so whatever the slice held of it may be stale. A slice that holds the stream behind
     * this answer (or in another epoch) restarts it at the answer instead of waiting for its feed to catch up.
     *
     * @return this backfill.
     */
    public Backfill restarting()
    {
        restarting = true;
        return this;
    }

    /** @return whether this answer replaces a stale local view (see {@link #restarting()}). */
    public boolean isRestarting()
    {
        return restarting;
    }

    /** @return the user. */
    public String userId()
    {
        return userId;
    }

    /** @return the epoch. */
    public long epoch()
    {
        return epoch;
    }

    /** @return the oldest seq the store holds. */
    public long firstSeq()
    {
        return firstSeq;
    }

    /** @return the last seq of the stream. */
    public long lastSeq()
    {
        return lastSeq;
    }

    List<Entry> events()
    {
        return events;
    }

    @Override
    public String toString()
    {
        return "Backfill{user=" + userId + ", epoch=" + epoch + ", firstSeq=" + firstSeq + ", lastSeq=" + lastSeq +
            ", events=" + events.size() + ", restarting=" + restarting + '}';
    }
}
