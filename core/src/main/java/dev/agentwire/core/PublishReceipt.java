package dev.agentwire.core;

/**
 * SPI for a caller that needs the stream numbers an accepted event was given (for example an HTTP ingest that
 * answers with each event's seq). Attach one with {@link EventDraft#receipt(PublishReceipt)}; leave it off on
 * paths that do not need it (each recipient is then one call less on the slice's thread). The engine lets go of it
 * once {@link #onComplete()} has been called.
 * <p>
 * Called on slice threads, after the event is in each recipient's history and queues: return quickly, never block.
 */
public interface PublishReceipt
{
    /**
     * One recipient's number for the event. Called once for a user event, once per member for a room event and
     * once per connected user for a broadcast, possibly from several slice threads at once.
     *
     * @param userId the recipient.
     * @param epoch  the epoch of the recipient's stream.
     * @param seq    the event's number in that stream.
     */
    void onSequenced(String userId, long epoch, long seq);

    /**
     * Every recipient has its number (there may have been none: an empty room, nobody connected). Called once,
     * after the last {@link #onSequenced}.
     */
    void onComplete();
}
