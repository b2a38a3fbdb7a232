package dev.agentwire.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The rules {@link AgentWireConfig.Builder#build()} checks, once, before a config exists: every bad value is named,
 * all at once, as {@code invalid config: key=value rule}.
 */
final class AgentWireConfigRules
{
    private AgentWireConfigRules()
    {
    }

    static void check(final AgentWireConfig.Builder b)
    {
        final List<String> broken = new ArrayList<>();
        require(broken, b.ringSize >= 64 && Integer.bitCount(b.ringSize) == 1, "ringSize", b.ringSize,
            "must be a power of two >= 64");
        require(broken, b.sliceCount >= 1 && b.sliceCount <= 256, "sliceCount", b.sliceCount, "must be 1..256");
        require(broken, b.waitStrategy != null, "waitStrategy", null, "must be set");
        require(broken, b.historyMaxEvents >= 1, "historyMaxEvents", b.historyMaxEvents, "must be >= 1");
        require(broken, b.historyMaxAgeMs >= 1, "historyMaxAgeMs", b.historyMaxAgeMs, "must be >= 1");
        require(broken, b.historyMaxTotalBytes >= 64 * 1024, "historyMaxTotalBytes", b.historyMaxTotalBytes,
            "must be >= 65536");
        require(broken, b.lifecycleMode != null, "lifecycleMode", null, "must be set");
        require(broken, b.dedupWindowMs >= 0, "dedupWindowMs", b.dedupWindowMs, "must be >= 0");
        require(broken, b.publishStripes >= 1 && b.publishStripes <= 4096 &&
            Integer.bitCount(b.publishStripes) == 1, "publishStripes", b.publishStripes,
            "must be a power of two 1..4096");
        require(broken, b.dedupMaxEntries >= b.publishStripes, "dedupMaxEntries", b.dedupMaxEntries,
            "must be >= publishStripes (" + b.publishStripes + ")");
        require(broken, b.runRetentionMs >= 1, "runRetentionMs", b.runRetentionMs, "must be >= 1");
        require(broken, b.maxRuns >= 1, "maxRuns", b.maxRuns, "must be >= 1");
        require(broken, b.maxToolCallsPerRun >= 1, "maxToolCallsPerRun", b.maxToolCallsPerRun, "must be >= 1");
        require(broken, b.maxUsers >= b.sliceCount, "maxUsers", b.maxUsers,
            "must be >= sliceCount (" + b.sliceCount + ")");
        require(broken, b.userRetentionMs >= 1, "userRetentionMs", b.userRetentionMs, "must be >= 1");
        require(broken, b.maxPayloadBytes >= 0 && b.maxPayloadBytes <= 64 * 1024 * 1024, "maxPayloadBytes",
            b.maxPayloadBytes, "must be 0..67108864");
        require(broken, b.largePayloadMaxBytes >= b.maxPayloadBytes, "largePayloadMaxBytes",
            b.largePayloadMaxBytes, "must be >= maxPayloadBytes (" + b.maxPayloadBytes + ")");
        require(broken, b.frameEncoder != null, "frameEncoder", null, "must be set");
        // Checked only when what it is made of passed (the record size needs the encoder).
        final int logCapacity = sliceLogCapacity(b.historyMaxTotalBytes, b.sliceCount);
        final int maxRecord = b.frameEncoder == null ? 0 : maxRecordBytes(b.maxPayloadBytes,
            b.frameEncoder);
        require(broken, !broken.isEmpty() || logCapacity >= 4096 && logCapacity >= 2L * maxRecord, "historyMaxTotalBytes",
            b.historyMaxTotalBytes, "must give each of the " + b.sliceCount + " slices a log of at least twice the " +
            "largest event's record (" + maxRecord + " bytes for maxPayloadBytes=" + b.maxPayloadBytes +
            "): each slice's log is the largest power of two up to historyMaxTotalBytes / sliceCount");
        require(broken, b.tickIntervalMs >= 1 && b.tickIntervalMs <= 60_000, "tickIntervalMs", b.tickIntervalMs,
            "must be 1..60000");
        require(broken, b.clock != null, "clock", null, "must be set");
        if (!broken.isEmpty())
        {
            throw new IllegalArgumentException("invalid config: " + String.join("\ninvalid config: ", broken));
        }
    }

    private static void require(final List<String> broken, final boolean ok, final String key, final Object value,
        final String rule)
    {
        if (!ok)
        {
            broken.add(key + "=" + value + " " + rule);
        }
    }

    /** @return bytes of each slice's log: the largest power of two not above historyMaxTotalBytes / sliceCount. */
    static int sliceLogCapacity(final long historyMaxTotalBytes, final int sliceCount)
    {
        final long share = Math.min(1L << 30, historyMaxTotalBytes / Math.max(1, sliceCount));
        return share < 1 ? 0 : (int)Long.highestOneBit(share);
    }

    /** @return bytes the largest valid event takes in a log (its record: header, ids, frame). */
    static int maxRecordBytes(final int maxPayloadBytes, final FrameEncoder encoder)
    {
        // Five strings (type, run, thread, event id, room) of at most MAX_ID_LENGTH chars, 3 bytes each in UTF-8.
        final long strings = 5L * (2 + 3L * EventDraft.MAX_ID_LENGTH);
        return (int)Math.min(Integer.MAX_VALUE, SliceLog.HEADER_LENGTH + strings + encoder.maxFramingBytes() +
            (long)maxPayloadBytes + SliceLog.ALIGNMENT);
    }
}
