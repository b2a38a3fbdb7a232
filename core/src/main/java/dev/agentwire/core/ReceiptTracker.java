package dev.agentwire.core;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the slices that still have to report for one event, then completes its receipt. A failing receipt is
 * logged and never allowed to interrupt delivery.
 */
final class ReceiptTracker
{
    private static final System.Logger LOG = System.getLogger(ReceiptTracker.class.getName());

    private final PublishReceipt receipt;
    private final AtomicInteger remainingSlices;

    ReceiptTracker(final PublishReceipt receipt, final int slices)
    {
        this.receipt = receipt;
        this.remainingSlices = new AtomicInteger(slices);
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
            try
            {
                receipt.onComplete();
            }
            catch (final RuntimeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "publish receipt failed on complete", ex);
            }
        }
    }
}
