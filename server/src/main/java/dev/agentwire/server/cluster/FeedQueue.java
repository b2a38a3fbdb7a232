package dev.agentwire.server.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The queue between a node's subscription connection and its feed thread: channel messages as bytes in a
 * many-to-one ring (Agrona's), no object per message. Producers (Lettuce's event loops, a node that stops following
 * a user) never wait: an entry that finds the ring full is refused, and the caller counts it and repairs from
 * history. One consumer takes the entries in order and sleeps while there are none.
 * <p>
 * An entry is its user's length, its user, then its message. A message past an eighth of the ring (only with
 * maxPayloadBytes above about 2 MiB) keeps its place in the ring as a number, its bytes waiting beside it.
 */
final class FeedQueue
{
    /** Bytes of entries the queue holds: about 55,000 events of 200 bytes, with their users and framing. */
    static final int CAPACITY_BYTES = 16 * 1024 * 1024;
    /**
     * Users whose names the consumer keeps (a String per entry otherwise): a node's users, most of them, at about
     * 100 bytes each once seen.
     */
    static final int USER_NAME_SLOTS = 4_096;
    private static final int MESSAGE = 1;
    private static final int FORGET = 2;
    private static final int OVERSIZE = 3;
    private static final int SEEN = 4;

    /** Receives an entry on the consumer's thread. */
    interface EntryHandler
    {
        /**
         * @param message the message's bytes, valid during the call only (the first {@code length}); null for a
         *                forget: this node no longer follows the user.
         */
        void onEntry(String userId, byte[] message, int length);

        /** This node holds the user's stream up to {@code lastSeq}, learnt from Redis, not from the channel. */
        void onSeen(String userId, long epoch, long lastSeq);
    }

    /** Direct and aligned memory: the ring updates its counters atomically. */
    private final ByteBuffer memory =
        BufferUtil.allocateDirectAligned(CAPACITY_BYTES + RingBufferDescriptor.TRAILER_LENGTH, 64);
    private final ManyToOneRingBuffer ring = new ManyToOneRingBuffer(new UnsafeBuffer(memory));
    /**
     * The same memory as Netty sees it, to copy a message out of a connection's buffer in one step. Only ever
     * written at absolute indexes (its own indexes never move), so producers share it.
     */
    private final ByteBuf view = Unpooled.wrappedBuffer(memory);
    private final Map<Long, byte[]> oversize = new ConcurrentHashMap<>();
    private final AtomicLong oversizeNumbers = new AtomicLong();
    private final MessageHandler reader = this::read;
    /** The consumer sleeps on an empty ring (or is about to): a producer wakes it. */
    private volatile boolean idle;
    private volatile Thread consumer;
    // The consumer's state: its handler for this poll, and its copy of the entry it hands over.
    private EntryHandler handler;
    private byte[] copy = new byte[4_096];
    private final AsciiNames users = new AsciiNames(USER_NAME_SLOTS);

    /**
     * Queues a message read in place off a connection's buffer: {@code userLength} bytes of its user at
     * {@code userAt}, {@code messageLength} bytes of message at {@code messageAt}.
     *
     * @return false when the queue is full (nothing queued).
     */
    boolean offer(final ByteBuf from, final int userAt, final int userLength, final int messageAt,
        final int messageLength)
    {
        if (isOversize(userLength, messageLength))
        {
            final byte[] user = new byte[userLength];
            final byte[] message = new byte[messageLength];
            from.getBytes(userAt, user);
            from.getBytes(messageAt, message);
            return offerOversize(user, message);
        }
        final int index = claim(MESSAGE, userLength, messageLength);
        if (index <= 0)
        {
            return false;
        }
        try
        {
            from.getBytes(userAt, view, index + Integer.BYTES, userLength);
            from.getBytes(messageAt, view, index + Integer.BYTES + userLength, messageLength);
        }
        catch (final RuntimeException ex)
        {
            ring.abort(index);
            throw ex;
        }
        commit(index);
        return true;
    }

    /** @return false when the queue is full (nothing queued). */
    boolean offer(final byte[] user, final byte[] message)
    {
        if (isOversize(user.length, message.length))
        {
            return offerOversize(user, message);
        }
        return offer(MESSAGE, user, message, 0, message.length);
    }

    /** Queues, in order with the user's messages, that this node no longer follows the user. */
    boolean offerForget(final byte[] user)
    {
        return offer(FORGET, user, null, 0, 0);
    }

    /** Queues, in order with the user's messages, that this node holds the user's stream up to {@code lastSeq}. */
    boolean offerSeen(final byte[] user, final long epoch, final long lastSeq)
    {
        final int index = claim(SEEN, user.length, 2 * Long.BYTES);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        final int at = index + Integer.BYTES;
        buffer.putBytes(at, user);
        buffer.putLong(at + user.length, epoch);
        buffer.putLong(at + user.length + Long.BYTES, lastSeq);
        commit(index);
        return true;
    }

    /**
     * Hands up to {@code limit} entries, in order, to {@code handler}; on the consumer's thread.
     *
     * @return how many it handed over.
     */
    int poll(final EntryHandler handler, final int limit)
    {
        this.handler = handler;
        return ring.read(reader, limit);
    }

    /** Sleeps the consumer's thread until an entry is queued, at most {@code maxNs}. */
    void awaitEntries(final long maxNs)
    {
        consumer = Thread.currentThread();
        // Asleep only after a last look: a producer that committed before it saw idle set is seen here, one that
        // committed after sees idle and wakes this thread.
        idle = true;
        if (ring.size() == 0)
        {
            LockSupport.parkNanos(this, maxNs);
        }
        idle = false;
    }

    /** Wakes the consumer, wherever it sleeps (to stop it). */
    void wake()
    {
        LockSupport.unpark(consumer);
    }

    private boolean isOversize(final int userLength, final int messageLength)
    {
        return Integer.BYTES + userLength + messageLength > ring.maxMsgLength();
    }

    /** A message too large for the ring: its place in the ring, as a number, and its bytes beside it. */
    private boolean offerOversize(final byte[] user, final byte[] message)
    {
        final long number = oversizeNumbers.incrementAndGet();
        oversize.put(number, message);
        final byte[] numberBytes = new byte[Long.BYTES];
        new UnsafeBuffer(numberBytes).putLong(0, number);
        if (!offer(OVERSIZE, user, numberBytes, 0, Long.BYTES))
        {
            oversize.remove(number);
            return false;
        }
        return true;
    }

    private boolean offer(final int type, final byte[] user, final byte[] message, final int at, final int length)
    {
        final int index = claim(type, user.length, length);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putBytes(index + Integer.BYTES, user);
        if (length > 0)
        {
            buffer.putBytes(index + Integer.BYTES + user.length, message, at, length);
        }
        commit(index);
        return true;
    }

    /** @return where the entry starts, its user's length written; or 0 when the ring is full. */
    private int claim(final int type, final int userLength, final int messageLength)
    {
        final int index = ring.tryClaim(type, Integer.BYTES + userLength + messageLength);
        if (index > 0)
        {
            ring.buffer().putInt(index, userLength);
        }
        return Math.max(index, 0);
    }

    private void commit(final int index)
    {
        ring.commit(index);
        if (idle)
        {
            LockSupport.unpark(consumer);
        }
    }

    private void read(final int type, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final int userLength = buffer.getInt(index);
        final String userId = users.get(buffer, index + Integer.BYTES, userLength);
        final int messageAt = index + Integer.BYTES + userLength;
        if (type == FORGET)
        {
            handler.onEntry(userId, null, 0);
        }
        else if (type == SEEN)
        {
            handler.onSeen(userId, buffer.getLong(messageAt), buffer.getLong(messageAt + Long.BYTES));
        }
        else if (type == OVERSIZE)
        {
            final byte[] message = oversize.remove(buffer.getLong(messageAt));
            if (message != null)
            {
                handler.onEntry(userId, message, message.length);
            }
        }
        else
        {
            final int messageLength = length - Integer.BYTES - userLength;
            if (copy.length < messageLength)
            {
                copy = new byte[Math.max(messageLength, copy.length * 2)];
            }
            buffer.getBytes(messageAt, copy, 0, messageLength);
            handler.onEntry(userId, copy, messageLength);
        }
    }
}
