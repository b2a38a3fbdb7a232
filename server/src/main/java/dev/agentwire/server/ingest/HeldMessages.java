package dev.agentwire.server.ingest;

import org.agrona.collections.LongArrayQueue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The users' messages a producer socket holds until its runtime has them, so that, should the socket end first, they
 * go to another runtime instead of vanishing with the connection. A message is the runtime's once the socket has
 * taken its frame whole, or, on a socket whose runtime confirms ({@code ?confirm=true}), once the runtime confirmed
 * its tag: bytes in the kernel's buffers, or read and queued in a runtime that then died, are not yet its.
 * <p>
 * Tags are 1, 2, 3… in the order messages are framed; a confirm covers its tag and every one before it. Held by
 * reference (no copy), and only while output waits for the socket or the runtime: a runtime that reads (and confirms)
 * keeps this empty. Single-threaded (the socket's I/O thread).
 */
final class HeldMessages
{
    /** {@link #confirmed}: the tags were the runtime's; what they covered is forgotten. */
    static final int CONFIRMED = 0;
    /** {@link #confirmed}: the tag is past the last message framed: the runtime is wrong. */
    static final int PAST_LAST = -1;
    /** {@link #confirmed}: this socket's runtime does not confirm ({@code ?confirm=false}). */
    static final int NOT_CONFIRMING = -2;

    private static final byte[] REDELIVERED = "{\"redelivered\":true,".getBytes(StandardCharsets.US_ASCII);

    /** What a socket's end hands back, oldest first. */
    @FunctionalInterface
    interface HandBack
    {
        /**
         * @param message     as it was sent to the socket, or, when {@code redelivered}, marked so.
         * @param redelivered the socket took it whole: its runtime may have read it before it ended.
         */
        void message(byte[] message, boolean redelivered);
    }

    private final boolean confirms;
    // Framed, the socket not yet having taken them whole, with where each frame ends in the socket's output (bytes
    // framed since it opened), in the same order.
    private final ArrayDeque<byte[]> unwritten = new ArrayDeque<>();
    private final LongArrayQueue frameEnds = new LongArrayQueue(Long.MIN_VALUE);
    // Taken whole by the socket, not yet confirmed (a confirming runtime only): older than every unwritten one.
    private final ArrayDeque<byte[]> unconfirmed = new ArrayDeque<>();
    private long unconfirmedBytes;
    private long nextTag = 1;

    /** @param confirms the runtime confirms the tags it takes; else a message is its once the socket took it. */
    HeldMessages(final boolean confirms)
    {
        this.confirms = confirms;
    }

    /** @return whether the runtime confirms: its messages then carry the tag {@link #nextTag} gives. */
    boolean confirms()
    {
        return confirms;
    }

    /** @return the tag the next message framed gets. */
    long nextTag()
    {
        return nextTag;
    }

    /** A message's frame, with the next tag, is being written to the socket's output, to end at {@code frameEnd}. */
    void framed(final byte[] message, final long frameEnd)
    {
        unwritten.addLast(message);
        frameEnds.addLong(frameEnd);
        nextTag++;
    }

    /** The socket has taken the first {@code takenBytes} of the output: messages within them reached the runtime. */
    void taken(final long takenBytes)
    {
        while (!frameEnds.isEmpty() && frameEnds.peekLong() <= takenBytes)
        {
            frameEnds.pollLong();
            final byte[] message = unwritten.pollFirst();
            if (confirms)
            {
                unconfirmed.addLast(message);
                unconfirmedBytes += message.length;
            }
        }
    }

    /**
     * The runtime confirms it took every message up to {@code tag}.
     *
     * @return {@link #CONFIRMED} (also for a tag confirmed before), {@link #PAST_LAST} or {@link #NOT_CONFIRMING}.
     */
    int confirmed(final long tag)
    {
        if (!confirms)
        {
            return NOT_CONFIRMING;
        }
        if (tag >= nextTag)
        {
            return PAST_LAST;
        }
        long covered = tag - (nextTag - unconfirmed.size() - unwritten.size()) + 1;
        while (covered > 0 && !unconfirmed.isEmpty())
        {
            unconfirmedBytes -= unconfirmed.pollFirst().length;
            covered--;
        }
        // The runtime read a frame whose last bytes this thread has not yet seen the socket take.
        while (covered > 0 && !unwritten.isEmpty())
        {
            unwritten.pollFirst();
            frameEnds.pollLong();
            covered--;
        }
        return CONFIRMED;
    }

    /** @return bytes of the messages the socket took whole and the runtime did not yet confirm. */
    long unconfirmedBytes()
    {
        return unconfirmedBytes;
    }

    /**
     * The socket ended having taken {@code takenBytes} of the output: hands each message its runtime does not have
     * to {@code to}, oldest first, and forgets them all. One the socket took whole but its runtime did not confirm
     * is marked {@code "redelivered":true}: the runtime may have read it before it went.
     */
    void handBack(final long takenBytes, final HandBack to)
    {
        taken(takenBytes);
        while (!unconfirmed.isEmpty())
        {
            final byte[] message = unconfirmed.pollFirst();
            unconfirmedBytes -= message.length;
            to.message(redelivered(message), true);
        }
        while (!unwritten.isEmpty())
        {
            frameEnds.pollLong();
            to.message(unwritten.pollFirst(), false);
        }
    }

    /** @return messages held (for tests and checks). */
    int size()
    {
        return unwritten.size() + unconfirmed.size();
    }

    /** @return the message with {@code "redelivered":true} as its first member (once, however often it comes back). */
    static byte[] redelivered(final byte[] message)
    {
        if (message.length < 2 || message[0] != '{' || message.length >= REDELIVERED.length &&
            Arrays.equals(message, 0, REDELIVERED.length, REDELIVERED, 0, REDELIVERED.length))
        {
            return message;
        }
        final boolean empty = message[1] == '}';
        final byte[] marked = new byte[message.length + REDELIVERED.length - (empty ? 2 : 1)];
        System.arraycopy(REDELIVERED, 0, marked, 0, REDELIVERED.length - (empty ? 1 : 0));
        System.arraycopy(message, 1, marked, REDELIVERED.length - (empty ? 1 : 0), message.length - 1);
        return marked;
    }
}
