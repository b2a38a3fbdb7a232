package dev.agentwire.server.runtime;

/**
 * One connected agent runtime (a producer socket) as the router sees it: somewhere to send users' messages and
 * presence frames.
 */
public interface RuntimeChannel
{
    /**
     * Sends a user's message. Any thread; never blocks. Should the socket end before the message was wholly written
     * to it (so the runtime never had it), the message is handed back to {@link InboundRouter#reroute}.
     *
     * @param frame the UTF-8 JSON frame; not changed after the call.
     * @return false when the runtime is not reading and its bounded backlog is full: the frame was not taken.
     */
    boolean send(byte[] frame);

    /**
     * Sends a user's message handed back from a runtime's socket that ended before writing it ({@link #send}): as
     * {@link #send}, but taken while the backlog is below twice its bound, so what one runtime held fits another that
     * reads (a runtime cut for not reading always held a full backlog).
     *
     * @param frame the UTF-8 JSON frame; not changed after the call.
     * @return false when even twice the bound is taken: the frame was not taken.
     */
    boolean sendHandedBack(byte[] frame);

    /**
     * Sends a presence frame, which is about this socket's view of who is online and so ends with it. Any thread;
     * never blocks.
     *
     * @param frame the UTF-8 JSON frame; not changed after the call.
     * @return false when the runtime is not reading and its bounded backlog is full: the frame was not taken.
     */
    boolean sendPresence(byte[] frame);

    /**
     * Any thread.
     *
     * @return whether its backlog is below half its bound: it takes users' messages freely (one between half and
     * full still takes what fits, but a cluster reads and forwards messages for it only below half).
     */
    boolean hasRoom();

    /** @return the peer, for logs. */
    String remote();
}
