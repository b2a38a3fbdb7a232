package dev.agentwire.core;

import org.agrona.DirectBuffer;

/**
 * SPI an in-process agent runtime implements, per message type, to receive what users send (a prompt, a cancel,
 * custom types): the transport that receives the messages routes them (the server's {@code InboundRouter}, one
 * registry for every way in). Called on the transport thread that received the message; hand long work off to
 * your own executor.
 */
@FunctionalInterface
public interface InboundHandler
{
    /**
     * @param userId  the authenticated sender.
     * @param type    the message type the handler was registered for.
     * @param payload the message body (for the server, the whole JSON message); valid only during the call.
     * @param offset  of the first byte.
     * @param length  in bytes.
     */
    void onMessage(String userId, String type, DirectBuffer payload, int offset, int length);
}
