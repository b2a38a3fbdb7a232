package dev.agentwire.server.agui;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.FrameSink;
import dev.agentwire.core.Subscription;
import dev.agentwire.server.user.OutboundStage;
import dev.agentwire.server.wire.JsonWriter;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * {@code GET /v1/ag-ui} (docs/AG-UI.md): a user socket whose every text frame is one AG-UI event carrying its
 * AgentWire cursor in {@code metadata.agentwire}. Events are mapped from their typed views ({@link AgUiEventMapper}),
 * the subscription's notices become {@code CUSTOM agentwire.<notice>} events, and a connection opened without a
 * cursor first gets a prelude ({@link AgUiPrelude}).
 * <p>
 * Output goes straight into the socket's write buffer when a group surely fits there (a bound from the event's
 * sizes: each value at most twice, escaped); a group that may not, and the prelude, go to an I/O thread's buffer
 * that grows (not the connection's: a buffer per connection would keep the largest group it ever wrote), and a
 * buffer grown past {@link #RETAINED_BYTES} is dropped after use. Allocates nothing per event in steady state.
 * Threading: the connection's I/O thread only.
 */
public final class AgUiOutboundStage implements OutboundStage
{
    /** Largest output buffer an I/O thread keeps between drains (a larger one is dropped after use). */
    static final int RETAINED_BYTES = 1 << 20;
    private static final ThreadLocal<ExpandableArrayBuffer> OUTPUT =
        ThreadLocal.withInitial(() -> new ExpandableArrayBuffer(4096));

    private final AgUiFrames frames = new AgUiFrames();
    /** Null for a connection that gave a cursor (no prelude). */
    private AgUiPrelude prelude;
    private int budgetBytes = Integer.MAX_VALUE;
    /** Where the last write went ({@link #output}): the socket's buffer, or the thread's growing one. */
    private MutableDirectBuffer lastOutput;
    /** Set when the next event's group may not fit in an empty socket buffer: it goes to the thread's buffer. */
    private boolean needsLargeBuffer;

    private AgUiOutboundStage(final boolean prelude)
    {
        this.prelude = prelude ? new AgUiPrelude() : null;
    }

    /**
     * Makes the stage of one {@code /v1/ag-ui} socket.
     *
     * @param prelude 1 when the socket opened without a cursor: its history becomes a prelude; else 0.
     */
    public static OutboundStage create(final int prelude)
    {
        return new AgUiOutboundStage(prelude != 0);
    }

    @Override
    public MutableDirectBuffer output(final MutableDirectBuffer socketBuffer)
    {
        return lastOutput != null ? lastOutput : socketBuffer;
    }

    /** @return the I/O thread's growing buffer, renewed when one large group left it over {@link #RETAINED_BYTES}. */
    private static ExpandableArrayBuffer largeBuffer()
    {
        ExpandableArrayBuffer buffer = OUTPUT.get();
        if (buffer.capacity() > RETAINED_BYTES)
        {
            buffer = new ExpandableArrayBuffer(4096);
            OUTPUT.set(buffer);
        }
        return buffer;
    }

    @Override
    public int drain(final Subscription subscription, final MutableDirectBuffer out, final int budgetBytes,
        final int capacityBytes, final FrameSink connection)
    {
        this.budgetBytes = budgetBytes;
        if (prelude != null)
        {
            prelude.beginDrain();
        }
        lastOutput = null;
        needsLargeBuffer = false;
        final int bytes = subscription.encodeTo(out, 0, capacityBytes, connection);
        if (bytes > 0 || !needsLargeBuffer)
        {
            return bytes;
        }
        // The next group may be larger than the socket's buffer: it alone goes to the thread's growing buffer.
        final ExpandableArrayBuffer large = largeBuffer();
        lastOutput = large;
        return subscription.encodeTo(large, 0, Integer.MAX_VALUE, connection);
    }

    @Override
    public int event(final AgentEvent event, final MutableDirectBuffer dst, final int offset, final int capacity)
    {
        if (prelude != null && prelude.isTracking())
        {
            return prelude.track(event, budgetBytes) ? 0 : -1;
        }
        if (prelude != null && prelude.isWriting() || offset >= budgetBytes)
        {
            return -1; // behind the prelude, or past this drain's budget: the next drain takes it
        }
        if (capacity < maxGroupBytes(event))
        {
            needsLargeBuffer = offset == 0;
            return -1; // may not fit: the next drain (or, first in a drain, the thread's growing buffer) takes it
        }
        AgUiEventMapper.map(event, frames.wrap(dst, offset));
        return written(offset);
    }

    @Override
    public int welcome(final MutableDirectBuffer dst, final int offset, final int capacity, final String userId,
        final long epoch, final long lastSeq)
    {
        if (capacity < noticeBytes(userId, null))
        {
            return -1;
        }
        if (prelude != null)
        {
            prelude.onWelcome(lastSeq);
        }
        notice(dst, offset, "agentwire.welcome").name(AgUiTokens.USER).string(userId)
            .name(AgUiTokens.EPOCH).number(epoch).name(AgUiTokens.SEQ).number(lastSeq);
        return endNotice(offset);
    }

    @Override
    public int resumed(final MutableDirectBuffer dst, final int offset, final int capacity, final boolean recovered,
        final long epoch, final long fromSeq, final long toSeq)
    {
        if (capacity < noticeBytes(null, null))
        {
            return -1;
        }
        if (prelude != null && prelude.onResumed(fromSeq, toSeq))
        {
            return 0; // the prelude's own replay: not news for the client
        }
        notice(dst, offset, "agentwire.resumed").name(AgUiTokens.RECOVERED)
            .raw(recovered ? AgUiTokens.TRUE : AgUiTokens.FALSE).name(AgUiTokens.EPOCH).number(epoch)
            .name(AgUiTokens.FROM).number(fromSeq).name(AgUiTokens.TO).number(toSeq);
        return endNotice(offset);
    }

    @Override
    public int room(final MutableDirectBuffer dst, final int offset, final int capacity, final boolean joined,
        final String room)
    {
        if (capacity < noticeBytes(room, null))
        {
            return -1;
        }
        notice(dst, offset, joined ? "agentwire.joined" : "agentwire.left").name(AgUiTokens.ROOM).string(room);
        return endNotice(offset);
    }

    @Override
    public int error(final MutableDirectBuffer dst, final int offset, final int capacity, final String code,
        final String message)
    {
        if (capacity < noticeBytes(code, message))
        {
            return -1;
        }
        notice(dst, offset, "agentwire.error").name(AgUiTokens.CODE).string(code)
            .name(AgUiTokens.MESSAGE).string(message);
        return endNotice(offset);
    }

    @Override
    public int pong(final MutableDirectBuffer dst, final int offset, final int capacity)
    {
        if (capacity < noticeBytes(null, null))
        {
            return -1;
        }
        notice(dst, offset, "agentwire.pong");
        return endNotice(offset);
    }

    @Override
    public boolean readsHistory()
    {
        return prelude != null && prelude.isTracking();
    }

    @Override
    public boolean hasBacklog()
    {
        return prelude != null && prelude.isWriting();
    }

    @Override
    public int writeBacklog(final MutableDirectBuffer socketBuffer, final int budgetBytes)
    {
        // Prelude parts hold producers' start fields, of any size: they go to the thread's growing buffer.
        final ExpandableArrayBuffer out = largeBuffer();
        lastOutput = out;
        prelude.write(frames.wrap(out, 0), budgetBytes);
        final int written = written(0);
        if (!prelude.isTracking() && !prelude.isWriting())
        {
            prelude = null; // done: the tracked runs are gone, and the connection keeps no more than a stage
        }
        return written;
    }

    @Override
    public boolean onQueueEmpty()
    {
        return prelude != null && prelude.onQueueEmpty();
    }

    @Override
    public void release()
    {
        frames.release();
        lastOutput = null;
    }

    /**
     * @return the most bytes an event's AG-UI group can take: its payload at most four times (a value appears at
     *         most twice, escaping at most doubles it; base64 is 4/3), and its strings escaped at worst in each of
     *         the group's five members, with the fixed text of each.
     */
    static int maxGroupBytes(final AgentEvent event)
    {
        int strings = 0;
        for (int field = AgentEvent.TYPE; field <= AgentEvent.ROOM; field++)
        {
            strings += event.stringLength(field);
        }
        return 4 * Math.max(event.payloadLength(), event.frameLength()) + 5 * (512 + 6 * strings);
    }

    /** @return the most bytes a notice with these strings takes (the fixed text, each string at its worst). */
    private static int noticeBytes(final String a, final String b)
    {
        return 256 + JsonWriter.maxStringLength(a) + JsonWriter.maxStringLength(b);
    }

    /** Opens {@code CUSTOM <name>} with its value object (a notice's fields follow). */
    private AgUiFrames notice(final MutableDirectBuffer dst, final int offset, final String name)
    {
        lastOutput = dst == lastOutput ? lastOutput : null;
        return frames.wrap(dst, offset).begin(AgUiTokens.TYPE_CUSTOM).name(AgUiTokens.NAME).string(name)
            .name(AgUiTokens.VALUE).open();
    }

    private int endNotice(final int offset)
    {
        frames.close().end();
        return written(offset);
    }

    private int written(final int offset)
    {
        final int written = frames.position() - offset;
        frames.release();
        return written;
    }
}
