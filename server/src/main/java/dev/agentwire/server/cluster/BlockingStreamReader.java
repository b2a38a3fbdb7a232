package dev.agentwire.server.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A thread that reads a Redis stream with blocking reads on a connection of its own (a blocked connection can
 * carry nothing else), retrying with backoff while Redis is away, until closed. The cluster's shared-log tailer
 * and its inbound reader are two of these.
 */
final class BlockingStreamReader implements Runnable, AutoCloseable
{
    /** One read; returns normally when it read (or the block timed out), throws when Redis failed. */
    interface Step
    {
        /** @return false to stop reading for good (the engine closed). */
        boolean read(OwnConnection connection, Duration block);
    }

    private static final Logger LOG = LoggerFactory.getLogger(BlockingStreamReader.class);
    private static final long FIRST_BACKOFF_MS = 50;
    private static final long MAX_BACKOFF_MS = 1_000;

    private final RedisLink cluster;
    private final OwnConnection connection;
    private final Duration block;
    private final Thread thread;
    private Step step;
    private volatile boolean running = true;

    BlockingStreamReader(final RedisLink cluster, final String threadName)
    {
        this.cluster = cluster;
        // A blocking read must end well within the command timeout, or the client would count it as failed.
        this.block = Duration.ofMillis(Math.max(50, Math.min(1_000, cluster.settings.redisTimeoutMs / 2)));
        this.connection = cluster.connectBlocking();
        this.thread = new Thread(this, threadName);
        thread.setDaemon(true);
    }

    OwnConnection connection()
    {
        return connection;
    }

    void start(final Step step)
    {
        this.step = step;
        thread.start();
    }

    @Override
    public void run()
    {
        long backoffMs = FIRST_BACKOFF_MS;
        while (running)
        {
            try
            {
                if (!step.read(connection, block))
                {
                    return;
                }
                backoffMs = FIRST_BACKOFF_MS;
            }
            catch (final RuntimeException ex)
            {
                if (!running)
                {
                    return;
                }
                cluster.redisErrors.increment();
                LOG.debug("{} read failed, retrying: backoffMs={} cause={}", thread.getName(), backoffMs, ex.toString());
                sleep(backoffMs);
                backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
            }
        }
    }

    static void sleep(final long ms)
    {
        try
        {
            TimeUnit.MILLISECONDS.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops after the read in progress (at most one block), then closes the connection. */
    @Override
    public void close()
    {
        running = false;
        try
        {
            thread.join(block.toMillis() + 2_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        connection.close();
    }
}
