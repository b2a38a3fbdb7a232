package dev.agentwire.server.agui;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.EventTypes;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * An event's AG-UI group (docs/AG-UI.md, "The mapping") for a transport other than the {@code /v1/ag-ui} socket: the
 * same translation, written as WebSocket text frames one AG-UI event each (the transport takes each frame's payload).
 * Holds its writer: one per transport instance, used on one thread at a time.
 */
public final class AgUiGroups
{
    /** The stream types that end a run, as stored: an AgentWire {@code agent_completed}, a native end. */
    static final byte[] AGENT_COMPLETED_TYPE = EventTypes.AGENT_COMPLETED.getBytes(StandardCharsets.US_ASCII);
    static final byte[] RUN_FINISHED_TYPE =
        AgUiVocabulary.streamType(AgUiVocabulary.RUN_FINISHED).getBytes(StandardCharsets.US_ASCII);
    static final byte[] RUN_ERROR_TYPE =
        AgUiVocabulary.streamType(AgUiVocabulary.RUN_ERROR).getBytes(StandardCharsets.US_ASCII);

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
    public static boolean endsRun(final AgentEvent event)
    {
        return endsRun(event.frameBuffer(), event.stringOffset(AgentEvent.TYPE), event.stringLength(AgentEvent.TYPE));
    }

    /** The same, for a stored type: {@code length} bytes at {@code at} of {@code src}. */
    static boolean endsRun(final DirectBuffer src, final int at, final int length)
    {
        return AgUiEventMapper.is(src, at, length, AGENT_COMPLETED_TYPE) ||
            AgUiEventMapper.is(src, at, length, RUN_FINISHED_TYPE) ||
            AgUiEventMapper.is(src, at, length, RUN_ERROR_TYPE);
    }

    /** @return whether the event's type is {@code type} (UTF-8), compared where it is stored. */
    public static boolean ofType(final AgentEvent event, final byte[] type)
    {
        return AgUiEventMapper.is(event.frameBuffer(), event.stringOffset(AgentEvent.TYPE),
            event.stringLength(AgentEvent.TYPE), type);
    }

    /** @return whether the event belongs to the run whose id is {@code runId} (UTF-8), compared where it is stored. */
    public static boolean ofRun(final AgentEvent event, final byte[] runId)
    {
        return AgUiEventMapper.is(event.frameBuffer(), event.stringOffset(AgentEvent.RUN_ID),
            event.stringLength(AgentEvent.RUN_ID), runId);
    }
}
