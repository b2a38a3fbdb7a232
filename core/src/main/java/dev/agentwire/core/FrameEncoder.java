package dev.agentwire.core;

import org.agrona.MutableDirectBuffer;

/**
 * SPI: what an event becomes, once, when its slice numbers it for a recipient — the frame a transport will copy to
 * that recipient's connections as it is, for every live delivery and every replay. A frame is the bytes this
 * encoder writes before the payload, the payload unchanged, and the bytes it writes after. The server's encoder
 * makes a whole WebSocket frame (header, JSON envelope with seq and epoch, the {@code data} bytes, the closing
 * brace); the default, {@link #PAYLOAD_ONLY}, keeps the payload alone for in-process readers.
 * <p>
 * Called on slice threads, one event at a time per slice: an encoder may keep scratch state per instance only if it
 * is thread-safe or used by one slice (see {@link AgentWireConfig.Builder#frameEncoder}). Must not allocate or
 * block: it runs on the path of every event.
 */
public interface FrameEncoder
{
    /** The frame is the payload, nothing around it. */
    FrameEncoder PAYLOAD_ONLY = new FrameEncoder()
    {
        @Override
        public int maxFramingBytes()
        {
            return 0;
        }

        @Override
        public int encodePrefix(final AgentEvent event, final MutableDirectBuffer dst, final int offset)
        {
            return 0;
        }

        @Override
        public int encodeSuffix(final AgentEvent event, final MutableDirectBuffer dst, final int offset)
        {
            return 0;
        }
    };

    /**
     * @return the most bytes {@link #encodePrefix} and {@link #encodeSuffix} together write for any valid event
     *     (ids at most {@link EventDraft#MAX_ID_LENGTH} characters); sizes the log's records.
     */
    int maxFramingBytes();

    /**
     * Writes what precedes the payload in the recipient's frame.
     *
     * @param event  the event for one recipient: {@link AgentEvent#userId()}, {@link AgentEvent#seq()} and
     *               {@link AgentEvent#epoch()} are that recipient's; the payload is {@link AgentEvent#payloadLength()}
     *               bytes.
     * @param dst    where the frame goes.
     * @param offset where the frame starts.
     * @return bytes written.
     */
    int encodePrefix(AgentEvent event, MutableDirectBuffer dst, int offset);

    /**
     * Writes what follows the payload, right after it.
     *
     * @return bytes written.
     */
    int encodeSuffix(AgentEvent event, MutableDirectBuffer dst, int offset);
}
