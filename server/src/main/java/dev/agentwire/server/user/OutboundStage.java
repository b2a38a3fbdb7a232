package dev.agentwire.server.user;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.FrameSink;
import dev.agentwire.core.Subscription;
import org.agrona.MutableDirectBuffer;

/**
 * What a user socket speaks, chosen once when it opens: {@code /v1/ws} frames ({@link WireStage}) or AG-UI events
 * (the {@code agui} package's stage). The connection owns the socket, the subscription, limits and metrics; the stage
 * only turns what the subscription holds into the bytes its protocol sends.
 * <p>
 * Each method that writes is given the I/O thread's write buffer and returns the bytes written (or -1 when they do
 * not fit in the room given: the connection tries again at its next drain); {@link #output} then says where they
 * are. Threading: the connection's I/O thread only.
 */
public interface OutboundStage
{
    /**
     * @param socketBuffer the I/O thread's write buffer.
     * @return where the last write put its bytes: the socket's buffer itself, or a larger buffer of the stage's own
     *         (a group larger than the socket's buffer) whose bytes the connection copies to the socket in pieces
     *         (valid until the next call on this thread).
     */
    MutableDirectBuffer output(MutableDirectBuffer socketBuffer);

    /**
     * Writes what the subscription has ready into {@code out} at 0 (or, for what does not fit there, into a buffer
     * of its own: see {@link #output}).
     *
     * @param budgetBytes   what one drain should write (a send window); one event may pass it.
     * @param capacityBytes room in {@code out}, for an event larger than the budget.
     * @param connection    the connection's side of the subscription: notices, rooms, metrics, close.
     * @return bytes written.
     */
    int drain(Subscription subscription, MutableDirectBuffer out, int budgetBytes, int capacityBytes,
        FrameSink connection);

    /** An event {@link Subscription#encodeTo} hands over (stages that copy the engine's frames are never asked). */
    int event(AgentEvent event, MutableDirectBuffer dst, int offset, int capacity);

    /** The subscription's welcome. */
    int welcome(MutableDirectBuffer dst, int offset, int capacity, String userId, long epoch, long lastSeq);

    /** The answer to a resume (0 when the stage absorbs it: it is not news for its client). */
    int resumed(MutableDirectBuffer dst, int offset, int capacity, boolean recovered, long epoch, long fromSeq,
        long toSeq);

    /** The user joined ({@code joined}) or left a room. */
    int room(MutableDirectBuffer dst, int offset, int capacity, boolean joined, String room);

    /** An answer to a bad client message. */
    int error(MutableDirectBuffer dst, int offset, int capacity, String code, String message);

    /** The answer to an application-level ping. */
    int pong(MutableDirectBuffer dst, int offset, int capacity);

    /** @return true while the stage reads history it does not send (a drain then costs a window of reading). */
    default boolean readsHistory()
    {
        return false;
    }

    /** @return true while the stage has bytes of its own to send before the subscription's next ones. */
    default boolean hasBacklog()
    {
        return false;
    }

    /** Writes the next piece of the stage's own bytes (see {@link #hasBacklog}). @return bytes written. */
    default int writeBacklog(final MutableDirectBuffer out, final int budgetBytes)
    {
        return 0;
    }

    /**
     * Called after a drain that left nothing queued.
     *
     * @return true when that changed what the stage has to send ({@link #hasBacklog} then says so).
     */
    default boolean onQueueEmpty()
    {
        return false;
    }

    /** The connection handed the output to the socket: a stage keeps no reference to the thread's buffers. */
    default void release()
    {
    }
}
