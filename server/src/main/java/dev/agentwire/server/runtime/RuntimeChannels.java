package dev.agentwire.server.runtime;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The producer sockets connected to this node, taken round robin. Thread-safe. Changed only by
 * {@link InboundRouter}; a cluster node's reader of forwarded messages delivers into it.
 */
public final class RuntimeChannels
{
    private final List<RuntimeChannel> channels = new CopyOnWriteArrayList<>();
    private final AtomicInteger next = new AtomicInteger();

    /** @return producer sockets connected now. */
    public int size()
    {
        return channels.size();
    }

    /**
     * Gives a message another node forwarded to one local runtime.
     *
     * @return false when no producer socket is here any more.
     */
    public boolean deliver(final byte[] message)
    {
        return offer(message, false) == TAKEN;
    }

    /**
     * @return whether some producer socket here has room ({@link RuntimeChannel#hasRoom}): a cluster node reads the
     * messages other nodes forwarded only then, and leaves them to the other nodes' runtimes while its own are busy.
     */
    public boolean anyRoom()
    {
        for (final RuntimeChannel channel : channels)
        {
            if (channel.hasRoom())
            {
                return true;
            }
        }
        return false;
    }

    /** @return producer sockets here that have room (each node tells the others at its heartbeat). */
    public int withRoom()
    {
        int ready = 0;
        for (final RuntimeChannel channel : channels)
        {
            ready += channel.hasRoom() ? 1 : 0;
        }
        return ready;
    }

    /** {@link #offer}: a runtime took the frame. */
    static final int TAKEN = 0;
    /** {@link #offer}: no producer socket is connected. */
    static final int NONE = 1;
    /** {@link #offer}: every producer socket's backlog is full. */
    static final int ALL_BUSY = 2;

    /**
     * Gives a frame to one runtime, round robin, passing over runtimes whose backlog is full.
     *
     * @param handedBack a message another runtime's socket ended before writing
     *                   ({@link RuntimeChannel#sendHandedBack}).
     * @return {@link #TAKEN}, {@link #NONE} or {@link #ALL_BUSY}.
     */
    int offer(final byte[] frame, final boolean handedBack)
    {
        final int size = channels.size();
        if (size == 0)
        {
            return NONE;
        }
        for (int tries = 0; tries < size; tries++)
        {
            final RuntimeChannel target = pick();
            if (target == null)
            {
                return NONE;
            }
            if (handedBack ? target.sendHandedBack(frame) : target.send(frame))
            {
                return TAKEN;
            }
        }
        return ALL_BUSY;
    }

    void add(final RuntimeChannel channel)
    {
        channels.add(channel);
    }

    boolean remove(final RuntimeChannel channel)
    {
        return channels.remove(channel);
    }

    boolean isEmpty()
    {
        return channels.isEmpty();
    }

    RuntimeChannel pick()
    {
        final int size = channels.size();
        if (size == 0)
        {
            return null;
        }
        try
        {
            return channels.get(Math.floorMod(next.getAndIncrement(), size));
        }
        catch (final IndexOutOfBoundsException ex)
        {
            return channels.isEmpty() ? null : channels.get(0);
        }
    }
}
