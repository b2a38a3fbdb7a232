package dev.agentwire.core;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the slices that still have to report for one event, then completes its receipt. A failing receipt is
 * logged and never allowed to interrupt delivery.
 * <p>
 * Each ring slot owns one and reuses it for every event it carries that has a receipt: the producer arms it before it
 * publishes the slot, and cannot claim the slot again until every slice has passed it, so the tracker is never armed
 * while a slice still reports to it. It lets go of the receipt when the last slice has reported.
 */
final class ReceiptTracker
{
    private static final System.Logger LOG = System.getLogger(ReceiptTracker.class.getName());

    private final AtomicInteger remainingSlices = new AtomicInteger();
    private PublishReceipt receipt;

    /**
     * Arms the tracker for the slot's next event (on the producer's thread, before the slot is published).
     *
     * @return this tracker.
     */
    ReceiptTracker track(final PublishReceipt receipt, final int slices)
    {
        this.receipt = receipt;
        remainingSlices.lazySet(slices);
        return this;
    }

    void sequenced(final String userId, final long epoch, final long seq)
    {
        try
        {
            receipt.onSequenced(userId, epoch, seq);
        }
        catch (final RuntimeException ex)
        {
            LOG.log(System.Logger.Level.WARNING, "publish receipt failed: user=" + userId + ", seq=" + seq, ex);
        }
    }

    void sliceDone()
    {
        if (remainingSlices.decrementAndGet() == 0)
        {
            final PublishReceipt done = receipt;
            receipt = null;
            try
            {
                done.onComplete();
            }
            catch (final RuntimeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "publish receipt failed on complete", ex);
            }
        }
    }
}
