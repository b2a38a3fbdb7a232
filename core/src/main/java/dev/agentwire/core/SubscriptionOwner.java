package dev.agentwire.core;

/**
 * What a {@link Subscription} asks of the engine that made it: to take a backfill a history source answered, and
 * to remove it. The subscription depends on this, not on the facade, so the reader does not call back up into
 * {@link AgentWire}.
 */
interface SubscriptionOwner
{
    /** @see AgentWire#backfill(Subscription, Backfill) */
    long backfill(Subscription subscription, Backfill backfill);

    /** Removes the subscription, in order with its user's events. Any thread. */
    void unsubscribe(Subscription subscription);
}
