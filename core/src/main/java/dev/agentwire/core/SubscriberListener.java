package dev.agentwire.core;

/**
 * SPI a transport implements per connection to learn when its {@link Subscription} needs attention.
 * <p>
 * Both methods are called on a spine slice thread. They must return quickly and never block: schedule the drain
 * (for example on the connection's I/O thread) and return. A blocking listener stalls every user of its slice.
 */
public interface SubscriberListener
{
    /**
     * The subscription's queue went from empty (or drained) to holding something: call
     * {@link Subscription#poll(SubscriptionHandler, int)} soon. Not called again until a poll has run.
     *
     * @param subscription that has something to deliver.
     */
    void onAvailable(Subscription subscription);

    /**
     * The subscription was cut because its queue hit its bound ({@link CloseReason#SLOW_CONSUMER}); nothing more
     * will be queued. Close the connection; the client may reconnect and resume from history.
     *
     * @param subscription that was cut.
     * @param reason       one of {@link CloseReason}.
     */
    void onClosed(Subscription subscription, int reason);
}
