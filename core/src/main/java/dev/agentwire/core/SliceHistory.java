package dev.agentwire.core;

import org.agrona.BitUtil;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;
import java.util.List;

/**
 * A slice's history: every event it numbers for a recipient is written once, as that recipient's final frame, into
 * the slice's log, and the recipient's index learns where. Bounded three ways — events per user
 * ({@code historyMaxEvents}), age ({@code historyMaxAgeMs}), and the log's size (its share of
 * {@code historyMaxTotalBytes}: the oldest records, of any user, are overwritten first) — and each time a user's
 * history loses seqs, its subscriptions that still needed them are cut ({@link TrimListener}).
 * Single-threaded (the slice's).
 */
final class SliceHistory implements SliceLog.Evictor
{
    /**
     * Recency of appends is re-ordered at most this often per user. Moving a user to the tail touches its
     * neighbours, which are cold in cache; the age sweep only needs order to well under its bound (minutes).
     */
    static final long TOUCH_GRANULARITY_MS = 1_000;

    /** {@link #heldFrom} of a user slot whose history holds nothing. */
    private static final long NOTHING_HELD = Long.MAX_VALUE;

    /** Told that a user's history no longer holds seqs below {@code firstSeq}. */
    interface TrimListener
    {
        void onTrimmed(UserStream user, long firstSeq);
    }

    final SliceLog log;
    private final FrameEncoder encoder;
    private final UserTable users;
    private final SliceCounters counters;
    private final TrimListener trims;
    private final int maxEvents;
    private final int maxPositions;
    private final long maxAgeMs;
    private final UserList byAppend = new UserList(true);
    private final UnsafeBuffer framing;
    private final AgentEvent encoding = new AgentEvent();
    /**
     * By user slot: the log position of the user's oldest held record, or {@link #NOTHING_HELD}. The log overwrites
     * its oldest record on every append once it has wrapped, and that record is almost always one its user's history
     * dropped long ago (by count or age): a dense array answers "still held?" from the record's slot alone, where
     * the user's own state is cold in cache. A later user in a reused slot only holds records written after it.
     */
    private long[] heldFrom = new long[64];
    private long historyBytes;

    SliceHistory(
        final SliceLog log,
        final AgentWireConfig config,
        final UserTable users,
        final SliceCounters counters,
        final TrimListener trims)
    {
        this.log = log;
        this.encoder = config.frameEncoder();
        this.users = users;
        this.counters = counters;
        this.trims = trims;
        this.maxEvents = config.historyMaxEvents();
        this.maxPositions = BitUtil.findNextPositivePowerOfTwo(config.historyMaxEvents());
        this.maxAgeMs = config.historyMaxAgeMs();
        this.framing = new UnsafeBuffer(new byte[Math.max(64, encoder.maxFramingBytes())]);
        Arrays.fill(heldFrom, NOTHING_HELD);
    }

    /** @return bytes of the log records the users' histories hold. */
    long historyBytes()
    {
        return historyBytes;
    }

    /**
     * Writes the event of a slot into the user's history as the user's frame and publishes it to the user's
     * subscriptions' cursors (the caller signals them).
     *
     * @param seq   the event's number in the user's stream.
     * @param nowMs append time (age bound).
     */
    void append(final UserStream user, final EventSlot slot, final long seq, final long nowMs)
    {
        trimByAge(user, nowMs);
        final StreamIndex index = user.index;
        if (index.size() >= maxEvents)
        {
            dropOldest(user);
            trims.onTrimmed(user, index.firstSeq());
        }
        index.ensureRoom(maxPositions);

        encoding.wrapSlot(slot, user.userId, user.epoch, seq);
        final int prefixLength = encoder.encodePrefix(encoding, framing, 0);
        final int suffixLength = encoder.encodeSuffix(encoding, framing, prefixLength);
        final int payloadLength = slot.payloadLength;
        final int frameLength = prefixLength + payloadLength + suffixLength;
        final int stringsLength = RecordCodec.stringsLength(slot);
        final int length = SliceLog.recordLength(stringsLength, frameLength);

        final long position = log.claim(length, this);
        final UnsafeBuffer buffer = log.buffer;
        final int at = log.offset(position);
        putHeader(buffer, at, length, seq, user.epoch, slot, nowMs, user, stringsLength, frameLength, prefixLength);
        RecordCodec.putStrings(buffer, at + SliceLog.HEADER_LENGTH, slot);
        final int frameAt = at + SliceLog.HEADER_LENGTH + stringsLength;
        buffer.putBytes(frameAt, framing, 0, prefixLength);
        if (payloadLength > 0)
        {
            buffer.putBytes(frameAt + prefixLength, slot.payload(), 0, payloadLength);
        }
        buffer.putBytes(frameAt + prefixLength + payloadLength, framing, prefixLength, suffixLength);

        if (index.size() == 0)
        {
            user.oldestAppendMs = nowMs;
            heldFrom(user.slot, position);
        }
        index.append(seq, position, length);
        user.lastSeq = seq;
        user.historyBytes += length;
        historyBytes += length;
        user.lastAppendMs = nowMs;
        user.lastActivityMs = nowMs;
        if (nowMs - user.lastTouchMs >= TOUCH_GRANULARITY_MS || !byAppend.contains(user))
        {
            user.lastTouchMs = nowMs;
            byAppend.touch(user);
            users.byActivity.touch(user);
        }
        SliceCounters.increment(counters.eventsSequenced);
    }

    /**
     * Encodes stored events (a replica's backfill, seqs {@code fromSeq}..{@code toSeq}) into records a subscription
     * reads before the log. Allocates: a resume from the store is rare.
     */
    BackfillFrames encodeBackfill(
        final UserStream user, final List<Backfill.Entry> entries, final long fromSeq, final long toSeq,
        final EventSlot carrier, final long nowMs)
    {
        final ExpandableArrayBuffer out = new ExpandableArrayBuffer(1024);
        int at = 0;
        for (final Backfill.Entry entry : entries)
        {
            if (entry.seq < fromSeq || entry.seq > toSeq)
            {
                continue;
            }
            carrier.carry(entry);
            encoding.wrapSlot(carrier, user.userId, user.epoch, entry.seq);
            final int prefixLength = encoder.encodePrefix(encoding, framing, 0);
            final int suffixLength = encoder.encodeSuffix(encoding, framing, prefixLength);
            final int frameLength = prefixLength + carrier.payloadLength + suffixLength;
            final int stringsLength = RecordCodec.stringsLength(carrier);
            final int length = SliceLog.recordLength(stringsLength, frameLength);
            out.checkLimit(at + length);
            putHeader(out, at, length, entry.seq, user.epoch, carrier, nowMs, user, stringsLength, frameLength,
                prefixLength);
            RecordCodec.putStrings(out, at + SliceLog.HEADER_LENGTH, carrier);
            final int frameAt = at + SliceLog.HEADER_LENGTH + stringsLength;
            out.putBytes(frameAt, framing, 0, prefixLength);
            out.putBytes(frameAt + prefixLength, carrier.payload(), 0, carrier.payloadLength);
            out.putBytes(frameAt + prefixLength + carrier.payloadLength, framing, prefixLength, suffixLength);
            at += length;
        }
        return at == 0 ? null : new BackfillFrames(new UnsafeBuffer(out.byteArray(), 0, at), at);
    }

    private static void putHeader(
        final org.agrona.MutableDirectBuffer buffer, final int at, final int length, final long seq, final long epoch,
        final EventSlot slot, final long nowMs, final UserStream user, final int stringsLength, final int frameLength,
        final int payloadOffset)
    {
        buffer.putInt(at + SliceLog.LENGTH_OFFSET, length);
        buffer.putInt(at + SliceLog.KIND_OFFSET, SliceLog.KIND_EVENT);
        buffer.putLong(at + SliceLog.SEQ_OFFSET, seq);
        buffer.putLong(at + SliceLog.EPOCH_OFFSET, epoch);
        buffer.putLong(at + SliceLog.POSITION_OFFSET, slot.position);
        buffer.putLong(at + SliceLog.TIMESTAMP_OFFSET, slot.timestampMs);
        buffer.putLong(at + SliceLog.PUBLISH_NS_OFFSET, slot.publishNs);
        buffer.putLong(at + SliceLog.APPEND_MS_OFFSET, nowMs);
        buffer.putInt(at + SliceLog.USER_SLOT_OFFSET, user.slot);
        buffer.putInt(at + SliceLog.USER_GENERATION_OFFSET, user.generation);
        buffer.putInt(at + SliceLog.FLAGS_OFFSET, (slot.binary ? SliceLog.FLAG_BINARY : 0) |
            (slot.targetKind == EventDraft.TARGET_BROADCAST ? SliceLog.FLAG_BROADCAST : 0) |
            (slot.room() != null ? SliceLog.FLAG_ROOM : 0));
        buffer.putInt(at + SliceLog.STRINGS_LENGTH_OFFSET, stringsLength);
        buffer.putInt(at + SliceLog.FRAME_LENGTH_OFFSET, frameLength);
        buffer.putInt(at + SliceLog.PAYLOAD_OFFSET_OFFSET, payloadOffset);
        buffer.putInt(at + SliceLog.PAYLOAD_LENGTH_OFFSET, slot.payloadLength);
    }

    /**
     * Drops the user's events older than the age bound. {@code user.oldestAppendMs} is a lower bound of the oldest
     * held event's append time (dropping by count keeps it, rather than read the next record's time from the log):
     * only when that bound is past the cutoff are the held records' own times read, and the bound refreshed.
     */
    void trimByAge(final UserStream user, final long nowMs)
    {
        final StreamIndex index = user.index;
        final long cutoffMs = nowMs - maxAgeMs;
        if (index.size() == 0 || user.oldestAppendMs >= cutoffMs)
        {
            return;
        }
        boolean dropped = false;
        while (index.size() > 0)
        {
            user.oldestAppendMs = log.buffer.getLong(log.offset(index.heldPosition(index.firstSeq())) +
                SliceLog.APPEND_MS_OFFSET);
            if (user.oldestAppendMs >= cutoffMs)
            {
                break;
            }
            dropOldest(user);
            dropped = true;
        }
        if (index.size() == 0)
        {
            byAppend.remove(user);
        }
        if (dropped)
        {
            trims.onTrimmed(user, index.firstSeq());
        }
    }

    /** The users whose newest event is older than the age bound hold only expired history: empty it. */
    void sweepAged(final long nowMs)
    {
        final long cutoffMs = nowMs - maxAgeMs;
        UserStream user = byAppend.head();
        while (user != null && user.lastAppendMs < cutoffMs)
        {
            final UserStream next = user.historyNext;
            clear(user);
            trims.onTrimmed(user, user.index.firstSeq());
            user = next;
        }
    }

    /** Empties a user's history (the user is freed or its stream restarts); the caller tells its subscriptions. */
    void clear(final UserStream user)
    {
        historyBytes -= user.historyBytes;
        user.historyBytes = 0;
        user.index.clear();
        heldFrom(user.slot, NOTHING_HELD);
        byAppend.remove(user);
    }

    /** The log is about to overwrite a record: it leaves its user's history, with any older seq still held. */
    @Override
    public void onOverwrite(final UnsafeBuffer buffer, final int offset, final long position)
    {
        final int slot = buffer.getInt(offset + SliceLog.USER_SLOT_OFFSET);
        if (slot >= heldFrom.length || position < heldFrom[slot])
        {
            return;
        }
        final UserStream user = users.get(
            buffer.getInt(offset + SliceLog.USER_SLOT_OFFSET), buffer.getInt(offset + SliceLog.USER_GENERATION_OFFSET));
        if (user == null || buffer.getLong(offset + SliceLog.EPOCH_OFFSET) != user.epoch)
        {
            return;
        }
        final StreamIndex index = user.index;
        final long seq = buffer.getLong(offset + SliceLog.SEQ_OFFSET);
        if (seq < index.firstSeq() || seq > index.lastSeq())
        {
            return;
        }
        while (index.firstSeq() <= seq)
        {
            dropOldest(user);
            SliceCounters.increment(counters.historyEvictedEvents);
        }
        if (index.size() == 0)
        {
            byAppend.remove(user);
        }
        trims.onTrimmed(user, index.firstSeq());
    }

    /**
     * Takes the user's oldest held seq out of its history (its record stays in the log until overwritten). Reads
     * the user's index only, never the log: see {@link StreamIndex} and {@link #trimByAge}.
     */
    private void dropOldest(final UserStream user)
    {
        final StreamIndex index = user.index;
        final long first = index.firstSeq();
        final int length = index.heldLength(first);
        user.historyBytes -= length;
        historyBytes -= length;
        index.dropBelow(first + 1);
        heldFrom(user.slot, index.size() > 0 ? index.heldPosition(first + 1) : NOTHING_HELD);
    }

    private void heldFrom(final int slot, final long position)
    {
        if (slot >= heldFrom.length)
        {
            final int oldLength = heldFrom.length;
            heldFrom = Arrays.copyOf(heldFrom, Math.max(slot + 1, oldLength * 2));
            Arrays.fill(heldFrom, oldLength, heldFrom.length, NOTHING_HELD);
        }
        heldFrom[slot] = position;
    }
}
