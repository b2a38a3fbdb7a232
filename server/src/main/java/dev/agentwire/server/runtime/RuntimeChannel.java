package dev.agentwire.server.runtime;

/**
 * One connected agent runtime (a producer socket) as the router sees it: somewhere to send users' messages and
 * presence frames.
 */
public interface RuntimeChannel
{
    /**
     * Sends one text frame. Any thread; never blocks.
     *
     * @param frame the UTF-8 JSON frame; not changed after the call.
     * @return false when the runtime is not reading and its bounded backlog is full: the frame was not taken.
     */
    boolean send(byte[] frame);

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
