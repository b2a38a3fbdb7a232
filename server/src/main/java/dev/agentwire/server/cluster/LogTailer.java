package dev.agentwire.server.cluster;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.PublishStatus;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Feeds this node's spine from the cluster's shared log: every numbered event (with its recipients' numbers) and
 * every room change, in log order, on one thread. The spine stays the single path inside the node; this thread
 * is one more publisher to it, and the only one that waits when the ring is full (Redis keeps the log, so
 * waiting loses nothing and blocks no I/O thread).
 * <p>
 * The node follows the log from where it stood when the node started; what came before is fetched per user when a
 * client needs it ({@link ClusterHistorySource}). While Redis is unreachable the tailer retries with backoff and
 * continues from its last entry id when Redis returns.
 */
final class LogTailer implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(LogTailer.class);
    private static final int BATCH = 512;

    private final AgentWire engine;
    private final ClusterHistorySource history;
    private final String logKey;
    private final EventDraft draft = new EventDraft();
    private final BlockingStreamReader reader;
    final AtomicLong entriesApplied = new AtomicLong();
    private String lastId;

    /**
     * @param history told whether this feed is current, which decides where the slices answer resumes from.
     */
    LogTailer(final RedisLink cluster, final AgentWire engine, final ClusterHistorySource history)
    {
        this.engine = engine;
        this.history = history;
        this.logKey = cluster.prefix + "log";
        reader = new BlockingStreamReader(cluster, "agentwire-log-tailer");
        try
        {
            lastId = currentEnd(reader.connection());
        }
        catch (final RuntimeException ex)
        {
            reader.close();
            throw ex;
        }
        history.feedCurrent(true);
    }

    void start()
    {
        reader.start(this::readOnce);
    }

    private String currentEnd(final StatefulRedisConnection<String, byte[]> connection)
    {
        final List<StreamMessage<String, byte[]>> newest = connection.sync().xrevrange(logKey,
            io.lettuce.core.Range.create("-", "+"), io.lettuce.core.Limit.from(1));
        return newest.isEmpty() ? "0-0" : newest.get(0).getId();
    }

    /** One blocking read of the log from the last entry applied; false once the engine is closed. */
    private boolean readOnce(final StatefulRedisConnection<String, byte[]> connection, final Duration block)
    {
        final List<StreamMessage<String, byte[]>> entries;
        try
        {
            entries = connection.sync().xread(
                XReadArgs.Builder.block(block).count(BATCH), XReadArgs.StreamOffset.from(logKey, lastId));
        }
        catch (final RuntimeException ex)
        {
            // Redis away, or back without its data: what this node holds may no longer be Redis's streams.
            history.feedCurrent(false);
            throw ex;
        }
        if (entries == null || entries.isEmpty())
        {
            history.feedCurrent(true);
            return true;
        }
        for (final StreamMessage<String, byte[]> entry : entries)
        {
            if (!apply(entry.getBody()))
            {
                return false;
            }
            lastId = entry.getId();
            entriesApplied.incrementAndGet();
        }
        if (entries.size() < BATCH)
        {
            history.feedCurrent(true);
        }
        return true;
    }

    /** @return false when the engine is closed and tailing must stop. */
    private boolean apply(final Map<String, byte[]> entry)
    {
        final String kind = LogEntryCodec.kind(entry);
        if (LogEntryCodec.JOIN.equals(kind) || LogEntryCodec.LEAVE.equals(kind))
        {
            final String user = LogEntryCodec.user(entry);
            final String room = LogEntryCodec.room(entry);
            final long status = LogEntryCodec.JOIN.equals(kind) ? engine.join(user, room) : engine.leave(user, room);
            return status != PublishStatus.CLOSED;
        }
        if (!LogEntryCodec.EVENT.equals(kind))
        {
            LOG.warn("unknown log entry kind={}, skipped", kind);
            return true;
        }
        try
        {
            LogEntryCodec.readLogEvent(entry, draft);
        }
        catch (final RuntimeException ex)
        {
            LOG.error("unreadable log entry, skipped", ex);
            return true;
        }
        final long status = engine.publishSequenced(draft);
        if (status == PublishStatus.CLOSED)
        {
            return false;
        }
        if (status < 0)
        {
            LOG.error("log entry refused by the spine: status={}", PublishStatus.name(status));
        }
        return true;
    }

    @Override
    public void close()
    {
        reader.close();
    }
}
