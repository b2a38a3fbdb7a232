package dev.agentwire.core;

/**
 * SPI told when a user's first connection opens and when the last one closes (disconnect hooks for the runtime).
 * Called on a spine slice thread, in order with that user's events: return quickly, never block.
 */
public interface PresenceListener
{
    /**
     * @param userId the user who now has one connection.
     */
    void onFirstConnected(String userId);

    /**
     * @param userId the user who now has none.
     */
    void onLastDisconnected(String userId);
}
