package dev.agentwire.bench;

/** One ladder step's outcome, as the load tool reports it (its JSON is these fields). */
public final class LoadStep
{
    public int rate;
    public long offeredEvents;
    public long expectedDeliveries;
    public long deliveries;
    public double deliveredRatio;
    public double p50Ms;
    public double p99Ms;
    public double p999Ms;
    public double maxMs;
    /** Seqs skipped on a connection: events of its stream it never received. Must be 0. */
    public long gaps;
    /** Events received again (a seq not above the last seen). Must be 0. */
    public long duplicates;
    /** Events that reached a connection they were not addressed to. Must be 0. */
    public long foreign;
    /** Publish requests not answered 202 (refused, or no answer): their events are not expected to arrive. */
    public long refusedRequests;
    public double serverCpuMicrosPerDelivery = -1;
    public double redisCpuMicrosPerEvent = -1;
    /**
     * Cluster nodes: events each node read from Redis during the step ({@code agentwire_cluster_events_received_total}),
     * divided by the events offered; one entry per {@code --socket-bases} node, empty for a single node.
     */
    public double[] eventsReadPerNode = new double[0];
    /** The server's proportional set size at the end of the step, KiB; -1 without {@code --server-pid}. */
    public long serverPssKb = -1;
    /** The server's Java heap in use at the end of the step (jcmd GC.heap_info), KiB; -1 unless sampled. */
    public long serverHeapUsedKb = -1;
    public double clientCpuCores;
    public boolean clientSaturated;
    public boolean sustainable;

    /** @return the step as the load tool prints it, one line (scripts read its {@code key=value} fields). */
    String line(final String peer, final String workload, final int connections)
    {
        return String.format("%s %s conns=%d rate=%d delivered=%.4f p50=%.2fms p99=%.2fms p99.9=%.2fms max=%.1fms " +
                "serverCpuUs/delivery=%.2f redisCpuUs/event=%.2f clientCpu=%.2f cores gaps=%d duplicates=%d " +
                "foreign=%d refused=%d%s",
            peer, workload, connections, rate, deliveredRatio, p50Ms, p99Ms, p999Ms, maxMs, serverCpuMicrosPerDelivery,
            redisCpuMicrosPerEvent, clientCpuCores, gaps, duplicates, foreign, refusedRequests,
            clientSaturated ? " INVALID(client saturated)" : "");
    }
}
