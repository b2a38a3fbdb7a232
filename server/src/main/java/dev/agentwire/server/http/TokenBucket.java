package dev.agentwire.server.http;

/**
 * A token bucket: {@code ratePerSec} tokens a second up to {@code burst}. Thread-safe (one lock; callers are an
 * I/O thread per connection or the few producer requests in flight).
 */
public final class TokenBucket
{
    private final double tokensPerNs;
    private final double burst;
    private double tokens;
    private long lastNs;

    /**
     * @param ratePerSec tokens added per second.
     * @param burst      the most tokens held; the bucket starts full.
     * @param nowNs      {@link System#nanoTime()} now.
     */
    public TokenBucket(final int ratePerSec, final int burst, final long nowNs)
    {
        this.tokensPerNs = ratePerSec / 1e9;
        this.burst = burst;
        this.tokens = burst;
        this.lastNs = nowNs;
    }

    /** @return true when the bucket would hold its whole burst at {@code nowNs} (it can be forgotten). */
    public synchronized boolean isFull(final long nowNs)
    {
        return tokens + Math.max(0, nowNs - lastNs) * tokensPerNs >= burst;
    }

    /** @return true when {@code n} tokens were taken; false (taking none) when there are not enough. */
    public synchronized boolean tryAcquire(final int n, final long nowNs)
    {
        final long elapsedNs = nowNs - lastNs;
        if (elapsedNs > 0)
        {
            tokens = Math.min(burst, tokens + elapsedNs * tokensPerNs);
            lastNs = nowNs;
        }
        if (tokens >= n)
        {
            tokens -= n;
            return true;
        }
        return false;
    }
}
