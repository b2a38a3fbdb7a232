package dev.agentwire.core;

import org.agrona.concurrent.EpochClock;

/** A wall clock the test moves by hand. */
final class ManualClock implements EpochClock
{
    private volatile long nowMs;

    ManualClock(final long nowMs)
    {
        this.nowMs = nowMs;
    }

    void advance(final long ms)
    {
        nowMs += ms;
    }

    @Override
    public long time()
    {
        return nowMs;
    }
}
