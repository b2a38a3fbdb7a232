package dev.agentwire.core;

/**
 * Where a replica engine gets the part of a user's stream it has not seen itself: in a cluster, the shared store
 * that numbered every event (see {@link AgentWireConfig.Builder#historySource}).
 * <p>
 * A replica engine knows a user's stream exactly from the first event of it that reached this engine; for a
 * subscribe it cannot answer from that (the user is new here, or the cursor reaches further back than what this
 * engine kept), the owning slice asks the source, holds the subscription back, and merges the answer in ring
 * order, so the client still sees no gap and no duplicate.
 */
public interface HistorySource
{
    /**
     * Asks for the user's stream after a cursor. Called on a slice thread: must return at once and never block.
     * Answer later, from any thread, with {@link Subscription#backfill(Backfill)}; on failure retry
     * (the subscription waits, its connection stays up) until it succeeds or {@link Subscription#isClosed()}.
     * <p>
     * The answer holds the stream's epoch, first and last seq, and the events from {@code afterSeq + 1} when the
     * cursor is still covered ({@code epoch} matches and {@code firstSeq - 1 <= afterSeq <= lastSeq}), else every
     * kept event; with {@code afterSeq == Subscription.LIVE} it holds no events.
     *
     * @param subscription the waiting subscription (its user is {@link Subscription#userId()}).
     * @param epoch        the client's epoch (0 when none).
     * @param afterSeq     the client's last seq, 0 for none, or {@link Subscription#LIVE}.
     */
    void fetch(Subscription subscription, long epoch, long afterSeq);

    /**
     * Whether this engine's feed from the store is flowing, so that what the slices have seen is the store's
     * stream but for the last moment. While it is not (the feed is failing, so the store may have moved on, even
     * to a new epoch), the slices answer every resume from the store instead of from what they hold.
     * Called on slice threads; must be cheap.
     *
     * @return true by default.
     */
    default boolean isCurrent()
    {
        return true;
    }

    /**
     * Whether this engine's feed carries the user's stream now, so that what its slice has seen of it is the
     * store's stream but for the last moment. A source that feeds an engine only the streams of the users
     * connected to it (a cluster node) says false for a user it does not follow; the slice then answers the
     * user's subscribes from the store, and a {@link Backfill#restarting() restarting} answer replaces what it
     * held. Called on slice threads; must be cheap.
     *
     * @param userId the user.
     * @return {@link #isCurrent()} by default.
     */
    default boolean isCurrent(final String userId)
    {
        return isCurrent();
    }
}
