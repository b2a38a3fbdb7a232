package dev.agentwire.server.ingest;

import org.agrona.collections.LongArrayQueue;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The users' messages a producer socket has framed but its socket may not have taken whole yet: should the socket end
 * first, the runtime never had them, and they go to another runtime instead of vanishing with the connection.
 * Held by reference (no copy), and only while output waits for the socket: a runtime that reads keeps this empty.
 * Single-threaded (the socket's I/O thread).
 */
final class UnsentMessages
{
    private final ArrayDeque<byte[]> messages = new ArrayDeque<>();
    // Where each message's frame ends in the socket's output (bytes framed since it opened), in the same order.
    private final LongArrayQueue frameEnds = new LongArrayQueue(Long.MIN_VALUE);

    /** A message's frame is being written to the connection's output, to end at {@code frameEnd}. */
    void framed(final byte[] message, final long frameEnd)
    {
        messages.addLast(message);
        frameEnds.addLong(frameEnd);
    }

    /** The socket has taken the first {@code takenBytes} of the output: messages within them are the runtime's. */
    void taken(final long takenBytes)
    {
        while (!frameEnds.isEmpty() && frameEnds.peekLong() <= takenBytes)
        {
            frameEnds.pollLong();
            messages.pollFirst();
        }
    }

    /**
     * The socket ended having taken {@code takenBytes} of the output: hands each message it did not take whole to
     * {@code to}, oldest first, and forgets them all.
     */
    void handBack(final long takenBytes, final Consumer<byte[]> to)
    {
        taken(takenBytes);
        while (!messages.isEmpty())
        {
            frameEnds.pollLong();
            to.accept(messages.pollFirst());
        }
    }

    /** @return messages held (for tests and checks). */
    int size()
    {
        return messages.size();
    }
}
