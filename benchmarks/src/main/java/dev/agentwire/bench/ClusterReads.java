package dev.agentwire.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What each node of an AgentWire cluster read from Redis, from its {@code /metrics}. */
final class ClusterReads
{
    private static final Pattern EVENTS_RECEIVED =
        Pattern.compile("(?m)^agentwire_cluster_events_received_total (\\S+)$");

    private ClusterReads()
    {
    }

    /**
     * @param bases each node's base URL.
     * @return each node's events read from Redis so far; empty when there are no nodes, they are not cluster nodes,
     *     or one cannot be asked.
     */
    static long[] eventsRead(final HttpClient http, final String[] bases)
    {
        if (bases == null || bases.length == 0)
        {
            return new long[0];
        }
        final long[] read = new long[bases.length];
        for (int i = 0; i < bases.length; i++)
        {
            try
            {
                final String metrics = http.send(HttpRequest.newBuilder(URI.create(bases[i] + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
                final Matcher m = EVENTS_RECEIVED.matcher(metrics);
                if (!m.find())
                {
                    return new long[0];
                }
                read[i] = (long)Double.parseDouble(m.group(1));
            }
            catch (final IOException | InterruptedException ex)
            {
                return new long[0];
            }
        }
        return read;
    }
}
