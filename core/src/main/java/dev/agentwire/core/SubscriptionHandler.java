package dev.agentwire.core;

/**
 * SPI that receives what a {@link Subscription} holds, in stream order, when the transport polls it.
 * <p>
 * Called on the thread that calls {@link Subscription#poll(SubscriptionHandler, int)}.
 */
public interface SubscriptionHandler
{
    /**
     * First thing every subscription receives.
     *
     * @param userId  the subscriber's user.
     * @param epoch   the epoch of the user's stream.
     * @param lastSeq the last number of the stream when the subscription began (0 for a new stream).
     */
    void onWelcome(String userId, long epoch, long lastSeq);

    /**
     * The answer to the resume cursor given at subscribe, followed by the replayed events.
     *
     * @param recovered true when every event after the cursor is replayed; false when some were lost (epoch
     *                  changed, or history no longer reaches back that far).
     * @param epoch     the stream's epoch.
     * @param fromSeq   the first seq that follows (the first replayed, or {@code toSeq + 1} when none are).
     * @param toSeq     the last seq replayed (the stream's last seq at the switch-over to live).
     */
    void onResumed(boolean recovered, long epoch, long fromSeq, long toSeq);

    /**
     * An event, replayed or live.
     *
     * @param event the user's copy of the event.
     */
    void onEvent(AgentEvent event);

    /**
     * The user joined a room (any of the user's connections asked, or the application did).
     *
     * @param room the room.
     */
    void onJoined(String room);

    /**
     * The user left a room.
     *
     * @param room the room.
     */
    void onLeft(String room);

    /**
     * Nothing follows: the subscription ended after everything before this was delivered.
     *
     * @param reason one of {@link CloseReason}.
     */
    void onClosed(int reason);
}
