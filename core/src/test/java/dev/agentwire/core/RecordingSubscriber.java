package dev.agentwire.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A test connection: records everything its subscription delivers. In inline mode it drains on the slice thread
 * as soon as it is told (an always-fast client); otherwise the test drains it with {@link #drain()} or never
 * (a client that stopped reading).
 */
class RecordingSubscriber implements SubscriberListener, SubscriptionHandler
{
    final List<AgentEvent> events = new CopyOnWriteArrayList<>();
    final List<String> notices = new CopyOnWriteArrayList<>();
    /** Everything delivered, notices and events, in the order delivered. */
    final List<String> order = new CopyOnWriteArrayList<>();
    volatile Subscription subscription;
    volatile long welcomeEpoch = -1;
    volatile long welcomeSeq = -1;
    volatile Boolean recovered;
    volatile long resumedFrom = -1;
    volatile long resumedTo = -1;
    volatile int listenerClosedReason = CloseReason.NONE;
    volatile int queueClosedReason = CloseReason.NONE;
    private final boolean inline;

    RecordingSubscriber(final boolean inline)
    {
        this.inline = inline;
    }

    static RecordingSubscriber inline()
    {
        return new RecordingSubscriber(true);
    }

    static RecordingSubscriber manual()
    {
        return new RecordingSubscriber(false);
    }

    RecordingSubscriber subscribe(final AgentWire wire, final String userId)
    {
        subscription = wire.subscribe(userId, this);
        return this;
    }

    RecordingSubscriber resume(final AgentWire wire, final String userId, final long epoch, final long after)
    {
        subscription = wire.subscribe(userId, this, epoch, after);
        return this;
    }

    @Override
    public void onAvailable(final Subscription s)
    {
        if (inline)
        {
            while (s.poll(this, 256) == 256)
            {
                // keep draining
            }
        }
    }

    @Override
    public void onClosed(final Subscription s, final int reason)
    {
        listenerClosedReason = reason;
    }

    int drain()
    {
        int total = 0;
        int n;
        while ((n = subscription.poll(this, 256)) > 0)
        {
            total += n;
        }
        return total;
    }

    @Override
    public void onWelcome(final String userId, final long epoch, final long lastSeq)
    {
        welcomeEpoch = epoch;
        welcomeSeq = lastSeq;
        notices.add("welcome");
        order.add("welcome");
    }

    @Override
    public void onResumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
    {
        resumedFrom = fromSeq;
        resumedTo = toSeq;
        notices.add("resumed");
        order.add("resumed");
        // Written last: a test that awaits it reads the fields above as they were set.
        this.recovered = recovered;
    }

    @Override
    public void onEvent(final AgentEvent event)
    {
        // The event is a view valid during this call: keep a copy.
        events.add(event.copy());
        order.add("event:" + event.seq());
    }

    @Override
    public void onJoined(final String room)
    {
        notices.add("joined:" + room);
    }

    @Override
    public void onLeft(final String room)
    {
        notices.add("left:" + room);
    }

    @Override
    public void onClosed(final int reason)
    {
        queueClosedReason = reason;
        notices.add("closed:" + CloseReason.name(reason));
    }

    List<Long> seqs()
    {
        final List<Long> seqs = new ArrayList<>();
        for (final AgentEvent e : events)
        {
            seqs.add(e.seq());
        }
        return seqs;
    }

    List<String> types()
    {
        final List<String> types = new ArrayList<>();
        for (final AgentEvent e : events)
        {
            types.add(e.type());
        }
        return types;
    }

    /**
     * Waits for the resumed answer and every event it announced ({@code from}..{@code to}): the replayed events are
     * handed over after the answer, so awaiting the answer alone says nothing about them.
     */
    void awaitReplay(final long timeoutMs)
    {
        await(() -> recovered != null && (resumedTo < resumedFrom || lastSeq() >= resumedTo), timeoutMs,
            "resumed and replayed");
    }

    private long lastSeq()
    {
        final int n = events.size();
        return n == 0 ? -1 : events.get(n - 1).seq();
    }

    static void await(final BooleanSupplier condition, final long timeoutMs, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
