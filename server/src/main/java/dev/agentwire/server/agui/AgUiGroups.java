package dev.agentwire.server.agui;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.EventTypes;
import org.agrona.MutableDirectBuffer;

/**
 * An event's AG-UI group (docs/AG-UI.md, "The mapping") for a transport other than the {@code /v1/ag-ui} socket: the
 * same translation, written as WebSocket text frames one AG-UI event each (the transport takes each frame's payload).
 * Holds its writer: one per transport instance, used on one thread at a time.
 */
public final class AgUiGroups
{
    private static final String RUN_FINISHED = AgUiVocabulary.streamType(AgUiVocabulary.RUN_FINISHED);
    private static final String RUN_ERROR = AgUiVocabulary.streamType(AgUiVocabulary.RUN_ERROR);

    private final AgUiFrames frames = new AgUiFrames();

    /** @return the most bytes {@link #write} may take for the event. */
    public static int maxBytes(final AgentEvent event)
    {
        return AgUiOutboundStage.maxGroupBytes(event);
    }

    /**
     * @param dst    where to write, with at least {@link #maxBytes} bytes from {@code offset}.
     * @return bytes written: one text frame per AG-UI event of the group.
     */
    public int write(final AgentEvent event, final MutableDirectBuffer dst, final int offset)
    {
        AgUiEventMapper.map(event, frames.wrap(dst, offset));
        final int written = frames.position() - offset;
        frames.release();
        return written;
    }

    /** @return whether the event ends its run: {@code agent_completed}, or a native RUN_FINISHED or RUN_ERROR. */
    public static boolean endsRun(final String type)
    {
        return EventTypes.AGENT_COMPLETED.equals(type) || RUN_FINISHED.equals(type) || RUN_ERROR.equals(type);
    }
}
