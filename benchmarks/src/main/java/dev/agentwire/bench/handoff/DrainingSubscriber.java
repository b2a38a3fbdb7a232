package dev.agentwire.bench.handoff;

import dev.agentwire.core.FrameSink;
import dev.agentwire.core.SubscriberListener;
import dev.agentwire.core.Subscription;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Drains at once on the slice thread, copying each frame into a buffer as a transport copies it to its socket:
 * the fastest possible transport, so the spine is what is measured. A user's events here are contiguous from 1,
 * so the seq in hand is the count of frames taken.
 */
final class DrainingSubscriber implements SubscriberListener, FrameSink
{
    /** The slices drain inline on their own threads; one slice here, so one buffer serves every subscriber. */
    private static final UnsafeBuffer SOCKET = new UnsafeBuffer(new byte[64 * 1024]);

    private final Seen seen;
    private final int user;
    private long seq;

    DrainingSubscriber(final Seen seen, final int user)
    {
        this.seen = seen;
        this.user = user;
    }

    @Override
    public void onAvailable(final Subscription subscription)
    {
        while (subscription.drainTo(SOCKET, 0, SOCKET.capacity(), this) > 0)
        {
            // more to take
        }
    }

    @Override
    public void onClosed(final Subscription subscription, final int reason)
    {
    }

    @Override
    public int onWelcome(final MutableDirectBuffer dst, final int offset, final int capacity,
        final String userId, final long epoch, final long lastSeq)
    {
        seq = lastSeq;
        return 0;
    }

    @Override
    public int onResumed(final MutableDirectBuffer dst, final int offset, final int capacity,
        final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
    {
        return 0;
    }

    @Override
    public int onJoined(final MutableDirectBuffer dst, final int offset, final int capacity,
        final String room)
    {
        return 0;
    }

    @Override
    public int onLeft(final MutableDirectBuffer dst, final int offset, final int capacity,
        final String room)
    {
        return 0;
    }

    @Override
    public void onFrame(final long publishNs)
    {
        seen.seqs.lazySet(user, ++seq);
    }

    @Override
    public void onClosed(final int reason)
    {
    }
}

