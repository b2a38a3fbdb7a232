package dev.agentwire.server.sequencing;

import java.util.ArrayList;
import java.util.List;

/** A batch's outcome: one {@link EventResult} per event, how many were accepted, and the refusal that stopped it. */
public final class BatchResult
{
    /** One per event, in batch order. */
    public final List<EventResult> results;
    /** Events accepted. */
    public int accepted;
    /** 0 when nothing was refused, else the status of {@link Refusals} that stopped the batch. */
    public long refusal;

    /** @param size events in the batch. */
    public BatchResult(final int size)
    {
        results = new ArrayList<>(size);
        for (int i = 0; i < size; i++)
        {
            results.add(new EventResult(i));
        }
    }

    /** @return true when no event was refused. */
    public boolean allAccepted()
    {
        return refusal == 0;
    }
}
