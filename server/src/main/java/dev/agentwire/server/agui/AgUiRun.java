package dev.agentwire.server.agui;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** One run's open parts. */
final class AgUiRun
{
    final String threadId;
    boolean ended;
    long endedAtMs;
    /** The batch key of the last keyed batch applied to this run, and how many of its events were accepted. */
    String lastBatchKey;
    int lastBatchAccepted;
    long lastBatchAtMs;
    /** Start event type ({@link AgUiVocabulary#OPENS}) → ids of the parts of that kind open now. */
    final Map<String, Set<String>> open = new LinkedHashMap<>();

    AgUiRun(final String threadId)
    {
        this.threadId = threadId;
        for (final String start : AgUiVocabulary.OPENS.keySet())
        {
            open.put(start, new HashSet<>());
        }
    }

    AgUiRun copy()
    {
        final AgUiRun copy = new AgUiRun(threadId);
        copy.ended = ended;
        copy.endedAtMs = endedAtMs;
        copy.lastBatchKey = lastBatchKey;
        copy.lastBatchAccepted = lastBatchAccepted;
        copy.lastBatchAtMs = lastBatchAtMs;
        for (final Map.Entry<String, Set<String>> kind : open.entrySet())
        {
            copy.open.get(kind.getKey()).addAll(kind.getValue());
        }
        return copy;
    }

    int openParts()
    {
        int parts = 0;
        for (final Set<String> ids : open.values())
        {
            parts += ids.size();
        }
        return parts;
    }
}
