package dev.agentwire.core;

import org.agrona.collections.ObjectHashSet;

/**
 * Lifecycle state of one run: open or completed, and its open tool call ids (a hash set: a check is one probe, not
 * a scan, however many calls are open; bounded by {@code maxToolCallsPerRun}). Guarded by its stripe's lock.
 */
final class RunState
{
    boolean completed;
    long lastEventMs;
    private ObjectHashSet<String> openCalls;

    int openCount()
    {
        return openCalls == null ? 0 : openCalls.size();
    }

    boolean isOpen(final String toolCallId)
    {
        return openCalls != null && openCalls.contains(toolCallId);
    }

    void open(final String toolCallId)
    {
        if (openCalls == null)
        {
            openCalls = new ObjectHashSet<>(8);
        }
        openCalls.add(toolCallId);
    }

    void close(final String toolCallId)
    {
        if (openCalls != null)
        {
            openCalls.remove(toolCallId);
        }
    }

    void complete()
    {
        completed = true;
        openCalls = null;
    }
}
