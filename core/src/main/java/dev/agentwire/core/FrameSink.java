package dev.agentwire.core;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * SPI for a transport draining a {@link Subscription} with {@link Subscription#drainTo}: events arrive as the frames
 * the engine's {@link FrameEncoder} made (copied by the engine, whole); the control notices in between are this
 * sink's to encode into the same buffer, in order. Called on the thread that drains.
 * <p>
 * Each {@code on…} that writes returns the bytes written, or -1 when its frame does not fit in {@code capacity}: the
 * drain then stops there and the same notice comes again at the next drain.
 */
public interface FrameSink
{
    /** First thing every subscription delivers. See {@link SubscriptionHandler#onWelcome}. */
    int onWelcome(MutableDirectBuffer dst, int offset, int capacity, String userId, long epoch, long lastSeq);

    /** The answer to a resume cursor. See {@link SubscriptionHandler#onResumed}. */
    int onResumed(
        MutableDirectBuffer dst, int offset, int capacity, boolean recovered, long epoch, long fromSeq, long toSeq);

    /** The user joined a room. */
    int onJoined(MutableDirectBuffer dst, int offset, int capacity, String room);

    /** The user left a room. */
    int onLeft(MutableDirectBuffer dst, int offset, int capacity, String room);

    /**
     * Encodes an event for {@link Subscription#encodeTo}: a transport that speaks its own protocol over the stream
     * writes it from the event's fields and payload (the view stays valid during the call and cannot change under
     * it). Not called by {@link Subscription#drainTo}, which copies the engine's frame. Default: the engine's frame.
     *
     * @return bytes written (0 to write nothing for this event), or -1 to stop here: the same event comes again at
     *         the next call.
     */
    default int onEvent(AgentEvent event, MutableDirectBuffer dst, int offset, int capacity)
    {
        final int length = event.frameLength();
        if (length > capacity)
        {
            return -1;
        }
        dst.putBytes(offset, event.frameBuffer(), event.frameOffset(), length);
        return length;
    }

    /**
     * An event's frame was copied (for metrics: {@code publishNs} is {@link System#nanoTime()} at publish).
     *
     * @param publishNs when the event was published, on this JVM's clock (0 for one a store answered).
     */
    void onFrame(long publishNs);

    /**
     * Whether this reader may see the events of a room (its credentials allow the room). An event of a room it may
     * not see is passed over: its seq is skipped on this reader and {@link #onFrame} is not called. It is not lost:
     * the user's stream has it, this reader is not allowed it. Asked only for room events. Default: every room.
     *
     * @param name   holds the room's name, UTF-8.
     * @param offset where the name begins.
     * @param length the name's length in bytes.
     * @return true to deliver the event.
     */
    default boolean admitsRoom(DirectBuffer name, int offset, int length)
    {
        return true;
    }

    /**
     * Nothing follows: the subscription ended after everything before this was delivered.
     *
     * @param reason one of {@link CloseReason}.
     */
    void onClosed(int reason);
}
