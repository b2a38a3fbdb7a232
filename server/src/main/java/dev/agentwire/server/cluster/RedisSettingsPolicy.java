package dev.agentwire.server.cluster;

import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.api.sync.Executions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Redis settings a node relies on, read from every primary once at start: a Redis that evicts keys drops
 * histories, stream heads and idempotency marks without a word, and one without an append-only file loses them all
 * when it restarts. Neither can be seen from the commands that follow, so a node says so at start, as a warning and
 * in {@code agentwire_cluster_redis_unsafe_settings}, and runs on: the operator decides (docs/CLUSTER.md, "Sizing and
 * Redis settings"). A Redis that does not answer {@code CONFIG GET} (a managed service, an ACL) is said once too.
 */
final class RedisSettingsPolicy
{
    /** The only memory policy that loses nothing: a full Redis refuses writes, and producers get a 503. */
    static final String SAFE_MEMORY_POLICY = "noeviction";

    private static final Logger LOG = LoggerFactory.getLogger(RedisSettingsPolicy.class);
    private static final String MEMORY_POLICY = "maxmemory-policy";
    private static final String APPEND_ONLY = "appendonly";

    private RedisSettingsPolicy()
    {
    }

    /** Reads settings from every primary: {@link RedisLink} makes one for one Redis or for a Redis Cluster. */
    @FunctionalInterface
    interface Reader
    {
        /**
         * @param names the settings to read.
         * @return each primary's answer to {@code CONFIG GET}, keyed by its host and port.
         */
        Map<String, Map<String, String>> read(String... names);
    }

    /**
     * Reads every primary's settings and logs each one unsafe.
     *
     * @param reader reads the primaries' settings.
     * @return the unsafe settings found over all primaries; 0 also when they could not be read.
     */
    static int check(final Reader reader)
    {
        final Map<String, Map<String, String>> byPrimary;
        try
        {
            byPrimary = reader.read(MEMORY_POLICY, APPEND_ONLY);
        }
        catch (final RuntimeException ex)
        {
            LOG.info("redis settings not readable: cause={} check={}={} {}=yes by hand (docs/CLUSTER.md)",
                ex.getMessage(), MEMORY_POLICY, SAFE_MEMORY_POLICY, APPEND_ONLY);
            return 0;
        }
        int unsafe = 0;
        for (final Map.Entry<String, Map<String, String>> primary : byPrimary.entrySet())
        {
            for (final String warning : warnings(primary.getKey(), primary.getValue()))
            {
                LOG.warn(warning);
                unsafe++;
            }
        }
        return unsafe;
    }

    /** @return a Redis Cluster's primaries' answers, keyed by host and port (never a password), in that order. */
    static Map<String, Map<String, String>> byAddress(final Executions<Map<String, String>> answers)
    {
        final Map<String, Map<String, String>> byAddress = new TreeMap<>();
        answers.asMap().forEach((node, settings) -> byAddress.put(address(node.getUri()), settings));
        return byAddress;
    }

    /** @return one Redis's answer, keyed by its host and port (never a password). */
    static Map<String, Map<String, String>> byAddress(final RedisURI uri, final Map<String, String> answer)
    {
        return Map.of(address(uri), answer);
    }

    /**
     * @param primary  where the settings were read, for the message.
     * @param settings {@code CONFIG GET}'s answer; a setting it lacks is not judged.
     * @return one message per unsafe setting, {@code key=value}, with what it costs.
     */
    static List<String> warnings(final String primary, final Map<String, String> settings)
    {
        final List<String> warnings = new ArrayList<>(2);
        final String memoryPolicy = settings.get(MEMORY_POLICY);
        if (memoryPolicy != null && !SAFE_MEMORY_POLICY.equalsIgnoreCase(memoryPolicy))
        {
            warnings.add("redis setting unsafe: primary=" + primary + " " + MEMORY_POLICY + "=" + memoryPolicy +
                " expected=" + SAFE_MEMORY_POLICY + " effect=when full, Redis drops histories, stream heads and" +
                " idempotency marks without a word (lost events, duplicates)");
        }
        final String appendOnly = settings.get(APPEND_ONLY);
        if (appendOnly != null && !"yes".equalsIgnoreCase(appendOnly))
        {
            warnings.add("redis setting unsafe: primary=" + primary + " " + APPEND_ONLY + "=" + appendOnly +
                " expected=yes effect=a restart loses every history and idempotency mark (resumes answer" +
                " recovered:false, retried events publish again)");
        }
        return warnings;
    }

    private static String address(final RedisURI uri)
    {
        return uri.getHost() + ":" + uri.getPort();
    }
}
