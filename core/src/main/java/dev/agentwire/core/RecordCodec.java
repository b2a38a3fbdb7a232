package dev.agentwire.core;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The strings block of a log record ({@link SliceLog}): the event's type, run id, thread id, event id and room, each
 * a little-endian u16 length ({@link #NULL_STRING} for none) and its UTF-8 bytes. Written by the slice when it
 * records an event; read by {@link AgentEvent}'s accessors and by {@link LogReader}'s room check. Stateless.
 */
final class RecordCodec
{
    /** Strings in the block, in this order: type, run id, thread id, event id, room. */
    static final int STRING_COUNT = 5;
    /** The length of a string the event does not have. */
    static final int NULL_STRING = 0xFFFF;

    private RecordCodec()
    {
    }

    /**
     * @return where a record's room name begins (its UTF-8 bytes; the length is the u16 just before), or -1 when
     *         the record has no room or cannot be read (overwritten while read: the caller's integrity check then
     *         fails). Reads the four strings before it without decoding them.
     */
    static int roomOffset(final DirectBuffer record, final int recordOffset)
    {
        final int limit = record.capacity() - 2;
        int at = recordOffset + SliceLog.HEADER_LENGTH;
        for (int i = 0; i < STRING_COUNT - 1; i++)
        {
            if (at < 0 || at > limit)
            {
                return -1;
            }
            final int length = record.getShort(at, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF;
            at += 2 + (length == NULL_STRING ? 0 : length);
        }
        if (at < 0 || at > limit || (record.getShort(at, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF) == NULL_STRING)
        {
            return -1;
        }
        return at + 2;
    }

    /** @return the bytes the strings block of a record takes for a slot's event. */
    static int stringsLength(final EventSlot slot)
    {
        return stringLength(slot.type) + stringLength(slot.runId) + stringLength(slot.threadId) +
            stringLength(slot.eventId) + stringLength(slot.room());
    }

    /** Writes a slot's strings block (see {@link SliceLog}); @return its length. */
    static int putStrings(final MutableDirectBuffer dst, final int index, final EventSlot slot)
    {
        int at = index;
        at += putString(dst, at, slot.type);
        at += putString(dst, at, slot.runId);
        at += putString(dst, at, slot.threadId);
        at += putString(dst, at, slot.eventId);
        at += putString(dst, at, slot.room());
        return at - index;
    }

    private static int stringLength(final String value)
    {
        return 2 + (value == null ? 0 : Utf8.length(value));
    }

    private static int putString(final MutableDirectBuffer dst, final int index, final String value)
    {
        if (value == null)
        {
            dst.putShort(index, (short)NULL_STRING, java.nio.ByteOrder.LITTLE_ENDIAN);
            return 2;
        }
        final int length = Utf8.put(dst, index + 2, value);
        dst.putShort(index, (short)length, java.nio.ByteOrder.LITTLE_ENDIAN);
        return 2 + length;
    }
}
