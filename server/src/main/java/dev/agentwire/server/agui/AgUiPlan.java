package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.HashMap;
import java.util.Map;

/**
 * What a checked batch (or a checked input, {@link AgUiRules#checkInput}) does: the run each event belongs to, and the
 * runs' states after it.
 */
final class AgUiPlan
{
    final String[] runIds;
    final String[] threadIds;
    final Map<String, AgUiRun> after = new HashMap<>();
    final Map<String, AgUiRun> before = new HashMap<>();
    /** Each run's version the check started from (its shared state's, in a cluster). */
    final Map<String, Long> checkedVersions = new HashMap<>();
    /** States the check read but left as they were (a thread's entry this node does not hold), at their version:
     * a cluster verifies them with the batch. */
    final Map<String, Long> verified = new HashMap<>();
    /** Leading events a keyed retry repeats: accepted before, answered {@code duplicate} by the engine. */
    int repeated;
    // What check was given, for keepPrefix.
    String owner;
    JsonNode events;
    String openRunId;
    String batchKey;

    AgUiPlan(final int events)
    {
        runIds = new String[events];
        threadIds = new String[events];
    }
}
