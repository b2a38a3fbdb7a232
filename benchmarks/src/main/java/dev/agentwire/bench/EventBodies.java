package dev.agentwire.bench;

/**
 * Writes the events the load tool publishes, by hand: the publisher must cost the tool as little as the receiver
 * does. Two kinds:
 * <ul>
 *   <li>{@link #PLAIN}: a custom type ({@code app.bench}), no id, no run: the cheapest event a server can take;</li>
 *   <li>{@link #AGENT}: what an agent's SDK sends most, {@code agent_thinking} in a run started for each user
 *   ({@link #appendRunStart}), each event with an id of its own. The server checks the run's rules and the id
 *   (a duplicate within the dedup window is not delivered twice) for every event; over Redis both cost the
 *   shard a command per event (benchmarks/README.md, "2026-12-07: what an argument costs Redis").</li>
 * </ul>
 * Every event's data carries its intended send time ({@code "t"}) and its addressee ({@code "a"}: the user's or
 * room's index), which the receiver reads without parsing ({@link FrameFields}); the data is about
 * {@code payloadBytes} on the wire. Ids and runs are unique to this process ({@link #nonce}), so a run of the tool
 * never meets an earlier run's ids or completed runs on a server that outlived it. Single-threaded: the publisher's.
 */
final class EventBodies
{
    static final String PLAIN = "plain";
    static final String AGENT = "agent";

    private final String workload;
    private final int connections;
    private final boolean agent;
    private final String filler;
    private final String nonce = Long.toString(System.currentTimeMillis(), 36);
    /** Events written so far, over every step: an event's id. */
    private long serial;

    EventBodies(final String workload, final int connections, final int payloadBytes, final String events)
    {
        if (!PLAIN.equals(events) && !AGENT.equals(events))
        {
            throw new IllegalArgumentException("events=" + events + " must be plain or agent");
        }
        this.agent = AGENT.equals(events);
        if (agent && !"unicast".equals(workload))
        {
            throw new IllegalArgumentException("events=agent workload=" + workload + ": agent events go to users " +
                "(unicast), each in its user's run");
        }
        this.workload = workload;
        this.connections = connections;
        // The data's fields besides the filler take 42 bytes ("t" with 19 digits); "text" is 3 more than "p".
        this.filler = "x".repeat(Math.max(0, payloadBytes - (agent ? 45 : 42)));
    }

    boolean isAgent()
    {
        return agent;
    }

    /** Appends event {@code n} of a step (its addressee is {@code n} modulo the users or rooms). */
    void append(final StringBuilder out, final int n, final long intendedNs)
    {
        final int addressee;
        switch (workload)
        {
            case "unicast":
                addressee = n % connections;
                out.append("{\"user\":\"load-").append(addressee).append('"');
                break;
            case "room10":
                addressee = n % Math.max(1, connections / 10);
                out.append("{\"room\":\"room-").append(addressee).append('"');
                break;
            default:
                addressee = -1;
                out.append("{\"broadcast\":true");
                break;
        }
        if (agent)
        {
            out.append(",\"type\":\"agent_thinking\",\"run_id\":\"r").append(nonce).append('-').append(addressee)
                .append("\",\"id\":\"e").append(nonce).append('-').append(serial++)
                .append("\",\"data\":{\"t\":").append(intendedNs).append(",\"a\":").append(addressee)
                .append(",\"text\":\"").append(filler).append("\"}}");
        }
        else
        {
            out.append(",\"type\":\"app.bench\",\"data\":{\"t\":").append(intendedNs).append(",\"a\":")
                .append(addressee).append(",\"p\":\"").append(filler).append("\"}}");
        }
    }

    /**
     * Appends the start of user {@code user}'s run ({@link #AGENT} only): delivered like any event, with its time and
     * addressee, so the receiver counts it and the user's later seqs follow it without a gap.
     */
    void appendRunStart(final StringBuilder out, final int user, final long nowNs)
    {
        out.append("{\"user\":\"load-").append(user).append("\",\"type\":\"agent_started\",\"run_id\":\"r")
            .append(nonce).append('-').append(user).append("\",\"id\":\"s").append(nonce).append('-').append(user)
            .append("\",\"data\":{\"t\":").append(nowNs).append(",\"a\":").append(user)
            .append(",\"agent\":\"load\"}}");
    }
}
