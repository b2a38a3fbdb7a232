package dev.agentwire.core;

import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;

import java.util.concurrent.ThreadFactory;

/**
 * The engine's one immutable configuration: every setting, its named default, validated once by
 * {@link Builder#build()}. Bad values throw {@link IllegalArgumentException} naming the key and value.
 */
public final class AgentWireConfig
{
    /** How slice threads wait for new events: a trade of latency against idle CPU. */
    public enum WaitStrategy
    {
        /** Park on a lock and condition: lowest idle CPU, tens of microseconds to wake. The default. */
        BLOCKING,
        /** Spin, then yield, then sleep briefly: low idle CPU, moderate latency. */
        SLEEPING,
        /** Spin then yield: low latency, a busy core per slice. */
        YIELDING,
        /** Spin only: lowest latency, a whole core per slice; only with dedicated cores. */
        BUSY_SPIN
    }

    /** Whether run lifecycle rules are enforced at publish. */
    public enum LifecycleMode
    {
        /** Enforce every rule; violations are refused with their rule's status. The default. */
        STRICT,
        /** Accept any ordering of the five types (fields are still checked). */
        OFF
    }

    /** Default slots in the ring (power of two). */
    public static final int DEFAULT_RING_SIZE = 1 << 16;
    /** Default most events kept per user for resume. */
    public static final int DEFAULT_HISTORY_MAX_EVENTS = 1024;
    /** Default longest an event is kept for resume. */
    public static final long DEFAULT_HISTORY_MAX_AGE_MS = 5 * 60_000L;
    /** Default bound on the bytes of all users' histories together. */
    public static final long DEFAULT_HISTORY_MAX_TOTAL_BYTES = 256L * 1024 * 1024;
    /** Default bytes of payloads over a slot's inline bytes that may be in the ring at once. */
    public static final long DEFAULT_LARGE_PAYLOAD_MAX_BYTES = 64L * 1024 * 1024;
    /** Default window in which a repeated event id is dropped. */
    public static final long DEFAULT_DEDUP_WINDOW_MS = 60_000L;
    /** Default bound on remembered event ids. */
    public static final int DEFAULT_DEDUP_MAX_ENTRIES = 1 << 20;
    /** Default time a run's state is kept after its last event (its id stays refused for this long). */
    public static final long DEFAULT_RUN_RETENTION_MS = 10 * 60_000L;
    /** Default time the state of a user with no connection and no new events is kept. */
    public static final long DEFAULT_USER_RETENTION_MS = 10 * 60_000L;
    /** Default largest payload accepted. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
    /** Default period of the housekeeping tick that travels the ring. */
    public static final long DEFAULT_TICK_INTERVAL_MS = 100;
    /** Default number of locks that serialise lifecycle checks of runs (power of two). */
    public static final int DEFAULT_PUBLISH_STRIPES = 64;
    /** Default bound on the runs the engine holds (open, or completed within their retention). */
    public static final int DEFAULT_MAX_RUNS = 1_000_000;
    /** Default bound on the tool calls one run holds open at once. */
    public static final int DEFAULT_MAX_TOOL_CALLS_PER_RUN = 1024;
    /** Default bound on the users the engine keeps state for (all slices together). */
    public static final int DEFAULT_MAX_USERS = 1_000_000;

    /** The values: a private copy of the builder that made them, never changed after build. */
    private final Builder v;
    private AgentWireConfig(final Builder b)
    {
        v = b.copy();
    }

    /** @return a builder holding every default. */
    public static Builder builder()
    {
        return new Builder();
    }

    /**
     * @param source the history source (see {@link Builder#historySource}).
     * @return a copy of this configuration that makes the engine a replica of that source.
     */
    public AgentWireConfig withHistorySource(final HistorySource source)
    {
        return toBuilder().historySource(source).build();
    }

    /** @return a builder holding this configuration's values, to derive another from it. */
    public Builder toBuilder()
    {
        return v.copy();
    }

    /** @return the defaults, validated. */
    public static AgentWireConfig defaults()
    {
        return builder().build();
    }

    /** @return slots in the ring. */
    public int ringSize()
    {
        return v.ringSize;
    }

    /** @return slice handlers consuming the ring. */
    public int sliceCount()
    {
        return v.sliceCount;
    }

    /** @return how slices wait. */
    public WaitStrategy waitStrategy()
    {
        return v.waitStrategy;
    }

    /** @return most events kept per user for resume. */
    public int historyMaxEvents()
    {
        return v.historyMaxEvents;
    }

    /** @return longest an event is kept for resume. */
    public long historyMaxAgeMs()
    {
        return v.historyMaxAgeMs;
    }

    /** @return bound on the bytes of all histories together. */
    public long historyMaxTotalBytes()
    {
        return v.historyMaxTotalBytes;
    }

    /** @return bytes of payloads over a ring slot's inline bytes that may be in the ring at once. */
    public long largePayloadMaxBytes()
    {
        return v.largePayloadMaxBytes;
    }

    /**
     * @return bytes of each slice's log: the largest power of two not above {@code historyMaxTotalBytes /
     *     sliceCount}. The logs together are the bound on all histories.
     */
    public int sliceLogCapacity()
    {
        return AgentWireConfigRules.sliceLogCapacity(v.historyMaxTotalBytes, v.sliceCount);
    }

    /** @return what each event becomes in the log, once per recipient (see {@link FrameEncoder}). */
    public FrameEncoder frameEncoder()
    {
        return v.frameEncoder;
    }

    /** @return bytes the largest valid event takes in a log (its record: header, ids, frame). */
    public int maxRecordBytes()
    {
        return AgentWireConfigRules.maxRecordBytes(v.maxPayloadBytes, v.frameEncoder);
    }

    /** @return whether lifecycle rules are enforced. */
    public LifecycleMode lifecycleMode()
    {
        return v.lifecycleMode;
    }

    /** @return window in which a repeated event id is dropped. */
    public long dedupWindowMs()
    {
        return v.dedupWindowMs;
    }

    /** @return bound on remembered event ids. */
    public int dedupMaxEntries()
    {
        return v.dedupMaxEntries;
    }

    /** @return how long a run's state outlives its last event. */
    public long runRetentionMs()
    {
        return v.runRetentionMs;
    }

    /** @return how long an absent user's state is kept. */
    public long userRetentionMs()
    {
        return v.userRetentionMs;
    }

    /** @return largest payload accepted. */
    public int maxPayloadBytes()
    {
        return v.maxPayloadBytes;
    }

    /** @return housekeeping tick period. */
    public long tickIntervalMs()
    {
        return v.tickIntervalMs;
    }

    /** @return lifecycle lock stripes. */
    public int publishStripes()
    {
        return v.publishStripes;
    }

    /** @return the most runs held (open, or completed within the run retention); more are refused TOO_MANY_RUNS. */
    public int maxRuns()
    {
        return v.maxRuns;
    }

    /** @return the most tool calls one run holds open; more are refused TOO_MANY_TOOL_CALLS. */
    public int maxToolCallsPerRun()
    {
        return v.maxToolCallsPerRun;
    }

    /**
     * @return the most users the engine keeps state for; past it, the least recently active users with no
     *         subscription are freed first (their later resume says {@code recovered: false}).
     */
    public int maxUsers()
    {
        return v.maxUsers;
    }

    /**
     * @return the source of history this engine did not see itself, or null for a standalone engine. Non-null
     *     makes the engine a replica: events arrive already numbered ({@link AgentWire#publishSequenced}), and
     *     {@link AgentWire#publish} is not available.
     */
    public HistorySource historySource()
    {
        return v.historySource;
    }

    /** @return true when events are numbered outside this engine (see {@link #historySource()}). */
    public boolean isReplica()
    {
        return v.historySource != null;
    }

    /** @return the wall clock used for timestamps, history age and retention. */
    public EpochClock clock()
    {
        return v.clock;
    }

    /** @return makes the slice threads, or null for the engine's own (daemon threads named agentwire-slice-N). */
    public ThreadFactory threadFactory()
    {
        return v.threadFactory;
    }

    @Override
    public String toString()
    {
        return "AgentWireConfig{ringSize=" + v.ringSize + ", sliceCount=" + v.sliceCount + ", waitStrategy=" +
            v.waitStrategy + ", historyMaxEvents=" + v.historyMaxEvents + ", historyMaxAgeMs=" + v.historyMaxAgeMs +
            ", historyMaxTotalBytes=" + v.historyMaxTotalBytes + ", sliceLogCapacity=" + sliceLogCapacity() +
            ", largePayloadMaxBytes=" + v.largePayloadMaxBytes + ", lifecycleMode=" + v.lifecycleMode +
            ", dedupWindowMs=" + v.dedupWindowMs + ", dedupMaxEntries=" + v.dedupMaxEntries + ", runRetentionMs=" +
            v.runRetentionMs + ", userRetentionMs=" + v.userRetentionMs + ", maxPayloadBytes=" + v.maxPayloadBytes +
            ", tickIntervalMs=" + v.tickIntervalMs + ", publishStripes=" + v.publishStripes + ", maxRuns=" +
            v.maxRuns + ", maxToolCallsPerRun=" + v.maxToolCallsPerRun + ", maxUsers=" + v.maxUsers + '}';
    }

    /** Mutable builder; {@link #build()} validates and freezes. */
    public static final class Builder implements Cloneable
    {
        int ringSize = DEFAULT_RING_SIZE;
        int sliceCount = Runtime.getRuntime().availableProcessors();
        WaitStrategy waitStrategy = WaitStrategy.BLOCKING;
        int historyMaxEvents = DEFAULT_HISTORY_MAX_EVENTS;
        long historyMaxAgeMs = DEFAULT_HISTORY_MAX_AGE_MS;
        long historyMaxTotalBytes = DEFAULT_HISTORY_MAX_TOTAL_BYTES;
        long largePayloadMaxBytes = DEFAULT_LARGE_PAYLOAD_MAX_BYTES;
        LifecycleMode lifecycleMode = LifecycleMode.STRICT;
        long dedupWindowMs = DEFAULT_DEDUP_WINDOW_MS;
        int dedupMaxEntries = DEFAULT_DEDUP_MAX_ENTRIES;
        long runRetentionMs = DEFAULT_RUN_RETENTION_MS;
        long userRetentionMs = DEFAULT_USER_RETENTION_MS;
        int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
        long tickIntervalMs = DEFAULT_TICK_INTERVAL_MS;
        int publishStripes = DEFAULT_PUBLISH_STRIPES;
        int maxRuns = DEFAULT_MAX_RUNS;
        int maxToolCallsPerRun = DEFAULT_MAX_TOOL_CALLS_PER_RUN;
        int maxUsers = DEFAULT_MAX_USERS;
        EpochClock clock = SystemEpochClock.INSTANCE;
        HistorySource historySource;
        ThreadFactory threadFactory;
        FrameEncoder frameEncoder = FrameEncoder.PAYLOAD_ONLY;

        private Builder()
        {
        }

        /** @return a copy of every value (a shallow copy: the values are primitives and shared services). */
        private Builder copy()
        {
            try
            {
                return (Builder)super.clone();
            }
            catch (final CloneNotSupportedException ex)
            {
                throw new IllegalStateException(ex);
            }
        }

        /** @param v slots in the ring, a power of two from 64. @return this. */
        public Builder ringSize(final int v)
        {
            ringSize = v;
            return this;
        }

        /** @param v slice handlers, 1 to 256 (default: available processors). @return this. */
        public Builder sliceCount(final int v)
        {
            sliceCount = v;
            return this;
        }

        /** @param v how slices wait. @return this. */
        public Builder waitStrategy(final WaitStrategy v)
        {
            waitStrategy = v;
            return this;
        }

        /** @param v most events kept per user, at least 1. @return this. */
        public Builder historyMaxEvents(final int v)
        {
            historyMaxEvents = v;
            return this;
        }

        /** @param v longest an event is kept, at least 1 ms. @return this. */
        public Builder historyMaxAgeMs(final long v)
        {
            historyMaxAgeMs = v;
            return this;
        }

        /**
         * @param v bound on all histories' bytes, at least 64 KiB: each slice keeps its users' histories in a log
         *          of the largest power of two up to {@code v / sliceCount} bytes, which must hold at least two of
         *          the largest events. @return this.
         */
        public Builder historyMaxTotalBytes(final long v)
        {
            historyMaxTotalBytes = v;
            return this;
        }

        /**
         * @param v bytes of payloads over a ring slot's inline 256 that may be in the ring at once, at least
         *          maxPayloadBytes; a publish past it waits (tryPublish: RING_FULL). @return this.
         */
        public Builder largePayloadMaxBytes(final long v)
        {
            largePayloadMaxBytes = v;
            return this;
        }

        /**
         * @param v what each event becomes in the log, once per recipient: the server's WebSocket frames, or the
         *          default {@link FrameEncoder#PAYLOAD_ONLY}. One instance serves every slice: it must be
         *          thread-safe. @return this.
         */
        public Builder frameEncoder(final FrameEncoder v)
        {
            frameEncoder = v;
            return this;
        }

        /** @param v lifecycle enforcement. @return this. */
        public Builder lifecycleMode(final LifecycleMode v)
        {
            lifecycleMode = v;
            return this;
        }

        /** @param v dedup window, 0 disables dedup. @return this. */
        public Builder dedupWindowMs(final long v)
        {
            dedupWindowMs = v;
            return this;
        }

        /** @param v bound on remembered ids, at least publishStripes. @return this. */
        public Builder dedupMaxEntries(final int v)
        {
            dedupMaxEntries = v;
            return this;
        }

        /** @param v run state retention after its last event, at least 1 ms. @return this. */
        public Builder runRetentionMs(final long v)
        {
            runRetentionMs = v;
            return this;
        }

        /** @param v absent user retention, at least 1 ms. @return this. */
        public Builder userRetentionMs(final long v)
        {
            userRetentionMs = v;
            return this;
        }

        /** @param v largest payload, 0 to 64 MiB. @return this. */
        public Builder maxPayloadBytes(final int v)
        {
            maxPayloadBytes = v;
            return this;
        }

        /** @param v housekeeping tick period, 1 ms to 60 s. @return this. */
        public Builder tickIntervalMs(final long v)
        {
            tickIntervalMs = v;
            return this;
        }

        /** @param v the most runs held, open or within their retention, >= 1. @return this. */
        public Builder maxRuns(final int v)
        {
            maxRuns = v;
            return this;
        }

        /** @param v the most tool calls one run holds open, >= 1. @return this. */
        public Builder maxToolCallsPerRun(final int v)
        {
            maxToolCallsPerRun = v;
            return this;
        }

        /** @param v the most users kept, all slices together, >= sliceCount. @return this. */
        public Builder maxUsers(final int v)
        {
            maxUsers = v;
            return this;
        }

        /** @param v lifecycle lock stripes, a power of two from 1 to 4096. @return this. */
        public Builder publishStripes(final int v)
        {
            publishStripes = v;
            return this;
        }

        /**
         * @param v makes the engine a replica of an external sequencer (a cluster node, see
         *          {@link AgentWireConfig#historySource()}); null for a standalone engine (the default). @return this.
         */
        public Builder historySource(final HistorySource v)
        {
            historySource = v;
            return this;
        }

        /**
         * @param v makes the slice threads (to name them, pin them to cores, or start them in a thread group); null
         *          (the default) for daemon threads named {@code agentwire-slice-N}. @return this.
         */
        public Builder threadFactory(final ThreadFactory v)
        {
            threadFactory = v;
            return this;
        }

        /** @param v the wall clock (tests use a controllable one). @return this. */
        public Builder clock(final EpochClock v)
        {
            clock = v;
            return this;
        }

        /**
         * @return the validated, immutable config.
         * @throws IllegalArgumentException naming every bad key and its value, one {@code invalid config:
         *                                  key=value rule} a line.
         */
        public AgentWireConfig build()
        {
            AgentWireConfigRules.check(this);
            return new AgentWireConfig(this);
        }
    }
}
