package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.server.http.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One run's open parts, or a thread's entry: the thread's latest run that ended on an interrupt and what it waits for
 * ({@link AgUiInterrupts}). In a cluster the state is shared through Redis as {@link #toBytes()} under a version that
 * each change raises (docs/CLUSTER.md).
 */
final class AgUiRun
{
    final String threadId;
    /** The version of the shared state this copy is (0: never shared); a checked batch leaves version + 1. */
    long version;
    boolean ended;
    long endedAtMs;
    /** The batch key of the last keyed batch applied to this run, and how many of its events were accepted. */
    String lastBatchKey;
    int lastBatchAccepted;
    long lastBatchAtMs;
    /** Start event type ({@link AgUiVocabulary#OPENS}) → ids of the parts of that kind open now. */
    final Map<String, Set<String>> open = new LinkedHashMap<>();
    /** A thread's entry: the run that ended on an interrupt and waits for an answer, or null when none waits. */
    String interruptedRun;
    /** Its interrupts' ids, in order, and each one's {@code expiresAt} as given (null: none): while it waits. */
    final List<String> interruptIds = new ArrayList<>();
    final List<String> interruptExpiries = new ArrayList<>();

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
        copy.version = version;
        copy.ended = ended;
        copy.endedAtMs = endedAtMs;
        copy.lastBatchKey = lastBatchKey;
        copy.lastBatchAccepted = lastBatchAccepted;
        copy.lastBatchAtMs = lastBatchAtMs;
        for (final Map.Entry<String, Set<String>> kind : open.entrySet())
        {
            copy.open.get(kind.getKey()).addAll(kind.getValue());
        }
        copy.interruptedRun = interruptedRun;
        copy.interruptIds.addAll(interruptIds);
        copy.interruptExpiries.addAll(interruptExpiries);
        return copy;
    }

    /**
     * @return the state as shared between nodes (JSON: thread, end, last batch key, open parts by kind, and for a
     *         thread's entry the interrupted run and its interrupts).
     */
    byte[] toBytes()
    {
        final ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("thread", threadId);
        root.put("ended", ended);
        root.put("endedAtMs", endedAtMs);
        if (lastBatchKey != null)
        {
            root.put("batchKey", lastBatchKey);
            root.put("batchAccepted", lastBatchAccepted);
            root.put("batchAtMs", lastBatchAtMs);
        }
        final ObjectNode parts = root.putObject("open");
        for (final Map.Entry<String, Set<String>> kind : open.entrySet())
        {
            if (!kind.getValue().isEmpty())
            {
                final ArrayNode ids = parts.putArray(kind.getKey());
                kind.getValue().forEach(ids::add);
            }
        }
        if (interruptedRun != null)
        {
            root.put("interrupted", interruptedRun);
            final ArrayNode interrupts = root.putArray("interrupts");
            for (int i = 0; i < interruptIds.size(); i++)
            {
                interrupts.addObject().put("id", interruptIds.get(i)).put("expiresAt", interruptExpiries.get(i));
            }
        }
        try
        {
            return Json.MAPPER.writeValueAsBytes(root);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("a run's state cannot be encoded", ex);
        }
    }

    /**
     * @param version the version the state was stored as.
     * @return the run {@link #toBytes()} made.
     * @throws IllegalArgumentException the bytes are not such a state.
     */
    static AgUiRun fromBytes(final byte[] bytes, final long version)
    {
        final JsonNode root;
        try
        {
            root = Json.MAPPER.readTree(bytes);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("shared run state is not JSON: " + ex.getMessage());
        }
        if (root == null || !root.path("thread").isTextual())
        {
            throw new IllegalArgumentException("shared run state has no thread");
        }
        final AgUiRun run = new AgUiRun(root.get("thread").asText());
        run.version = version;
        run.ended = root.path("ended").asBoolean();
        run.endedAtMs = root.path("endedAtMs").asLong();
        if (root.path("batchKey").isTextual())
        {
            run.lastBatchKey = root.get("batchKey").asText();
            run.lastBatchAccepted = root.path("batchAccepted").asInt();
            run.lastBatchAtMs = root.path("batchAtMs").asLong();
        }
        final JsonNode parts = root.path("open");
        for (final Map.Entry<String, Set<String>> kind : run.open.entrySet())
        {
            for (final JsonNode id : parts.path(kind.getKey()))
            {
                kind.getValue().add(id.asText());
            }
        }
        if (root.path("interrupted").isTextual())
        {
            run.interruptedRun = root.get("interrupted").asText();
            for (final JsonNode interrupt : root.path("interrupts"))
            {
                run.interruptIds.add(interrupt.path("id").asText());
                run.interruptExpiries.add(interrupt.path("expiresAt").isTextual() ?
                    interrupt.get("expiresAt").asText() : null);
            }
        }
        return run;
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
