package dev.agentwire.server.user;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.FrameSink;
import dev.agentwire.core.Subscription;
import org.agrona.MutableDirectBuffer;

/**
 * {@code /v1/ws}: events leave as the frames their slice made once ({@link WireFrameEncoder}), copied; notices and
 * answers as {@link ControlFrames}. Stateless: one instance serves every connection.
 */
final class WireStage implements OutboundStage
{
    static final WireStage INSTANCE = new WireStage();

    private WireStage()
    {
    }

    @Override
    public MutableDirectBuffer output(final MutableDirectBuffer socketBuffer)
    {
        return socketBuffer;
    }

    @Override
    public int drain(final Subscription subscription, final MutableDirectBuffer out, final int budgetBytes,
        final int capacityBytes, final FrameSink connection)
    {
        final int bytes = subscription.drainTo(out, 0, budgetBytes, connection);
        if (bytes == 0 && subscription.queuedCount() > 0)
        {
            // The next frame is larger than the send window: it goes alone, in the whole buffer.
            return subscription.drainTo(out, 0, capacityBytes, connection);
        }
        return bytes;
    }

    @Override
    public int event(final AgentEvent event, final MutableDirectBuffer dst, final int offset, final int capacity)
    {
        throw new IllegalStateException("frames are copied, not encoded: event=" + event);
    }

    @Override
    public int welcome(final MutableDirectBuffer dst, final int offset, final int capacity, final String userId,
        final long epoch, final long lastSeq)
    {
        return ControlFrames.welcome(dst, offset, capacity, userId, epoch, lastSeq);
    }

    @Override
    public int resumed(final MutableDirectBuffer dst, final int offset, final int capacity, final boolean recovered,
        final long epoch, final long fromSeq, final long toSeq)
    {
        return ControlFrames.resumed(dst, offset, capacity, recovered, epoch, fromSeq, toSeq);
    }

    @Override
    public int room(final MutableDirectBuffer dst, final int offset, final int capacity, final boolean joined,
        final String room)
    {
        return ControlFrames.room(dst, offset, capacity, joined, room);
    }

    @Override
    public int error(final MutableDirectBuffer dst, final int offset, final int capacity, final String code,
        final String message)
    {
        return ControlFrames.error(dst, offset, capacity, code, message);
    }

    @Override
    public int pong(final MutableDirectBuffer dst, final int offset, final int capacity)
    {
        return ControlFrames.pong(dst, offset, capacity);
    }
}
