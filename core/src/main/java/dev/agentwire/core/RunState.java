package dev.agentwire.core;

/**
 * Lifecycle state of one run: open or completed, and its open tool call ids. Guarded by its stripe's lock.
 */
final class RunState
{
    private static final String[] NO_CALLS = new String[0];

    boolean completed;
    long lastEventMs;
    private String[] openCalls = NO_CALLS;
    private int openCount;

    int openCount()
    {
        return openCount;
    }

    boolean isOpen(final String toolCallId)
    {
        for (int i = 0; i < openCount; i++)
        {
            if (openCalls[i].equals(toolCallId))
            {
                return true;
            }
        }
        return false;
    }

    void open(final String toolCallId)
    {
        if (openCount == openCalls.length)
        {
            final String[] grown = new String[Math.max(4, openCalls.length * 2)];
            System.arraycopy(openCalls, 0, grown, 0, openCount);
            openCalls = grown;
        }
        openCalls[openCount++] = toolCallId;
    }

    void close(final String toolCallId)
    {
        for (int i = 0; i < openCount; i++)
        {
            if (openCalls[i].equals(toolCallId))
            {
                openCount--;
                openCalls[i] = openCalls[openCount];
                openCalls[openCount] = null;
                return;
            }
        }
    }

    void complete()
    {
        completed = true;
        for (int i = 0; i < openCount; i++)
        {
            openCalls[i] = null;
        }
        openCount = 0;
    }
}
