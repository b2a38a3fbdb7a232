package dev.agentwire.server.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where a node finds Redis: the one URL it is given. For a Redis Cluster the URL may list several of its nodes as
 * seeds ({@code redis://[:password@]host:port,host:port…}, one password, TLS and database for all), so that a node
 * starts, and learns the slot map, while any one of them is down or gone: a crashed primary not yet back, or one a
 * scale-in removed. A single Redis takes one host (one that Sentinel fails over: {@code redis-sentinel://}, whose
 * own list Lettuce reads).
 */
public final class RedisSeeds
{
    private static final Logger LOG = LoggerFactory.getLogger(RedisSeeds.class);
    /** A host (a name, an IPv4 address or a bracketed IPv6 one) and an optional port. */
    private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[^\\[\\]:,\\s]+)(:(\\d{1,5}))?");

    private RedisSeeds()
    {
    }

    /** Which Redis answered first, and what it is. */
    record Probe(RedisClient client, RedisURI uri, boolean cluster)
    {
    }

    /**
     * @return the hosts of a {@code redis://} or {@code rediss://} URL's host list, in order ({@code host:port} or
     *     {@code host}); one for a URL of one host. Other schemes are not lists of this kind: an empty list.
     * @throws IllegalArgumentException naming the first malformed entry by its place (the URL may hold a password).
     */
    public static List<String> hosts(final String url)
    {
        final int[] at = hostList(url);
        if (at == null)
        {
            return List.of();
        }
        final List<String> hosts = new ArrayList<>();
        int place = 1;
        for (final String host : url.substring(at[0], at[1]).split(",", -1))
        {
            final java.util.regex.Matcher matcher = HOST_PORT.matcher(host);
            final int port = matcher.matches() && matcher.group(3) != null ? Integer.parseInt(matcher.group(3)) : 6379;
            if (!matcher.matches() || port < 1 || port > 65_535)
            {
                throw new IllegalArgumentException("redisUrl host " + place + " of its list is not host[:port]");
            }
            hosts.add(host);
            place++;
        }
        return hosts;
    }

    /**
     * @param sentinelPassword the Sentinels' own password, or null: the URL's password is the servers' (Lettuce
     *                         authenticates to a Sentinel only with a password given to it).
     * @return a URI per host of the URL's list (one for a URL of one host or behind Sentinel), in order.
     */
    static List<RedisURI> uris(final String url, final long timeoutMs, final String sentinelPassword)
    {
        final int[] at = hostList(url);
        final List<RedisURI> uris = new ArrayList<>();
        if (at == null)
        {
            final RedisURI uri = RedisURI.create(url);
            if (sentinelPassword != null)
            {
                uri.getSentinels().forEach(sentinel -> sentinel.setAuthentication(sentinelPassword));
            }
            uris.add(uri);
        }
        else
        {
            for (final String host : hosts(url))
            {
                uris.add(RedisURI.create(url.substring(0, at[0]) + host + url.substring(at[1])));
            }
        }
        for (final RedisURI uri : uris)
        {
            uri.setTimeout(Duration.ofMillis(timeoutMs));
        }
        return uris;
    }

    /**
     * Asks the seeds in order, until one answers, whether Redis is a Redis Cluster.
     *
     * @return the first that answered, its client still open (a single Redis's client is the node's).
     * @throws IllegalStateException when none answered (with the last one's cause), or when several seeds were
     *     given and the one that answered is a single Redis.
     */
    static Probe probe(final ClientResources resources, final List<RedisURI> seeds, final ClientOptions options)
    {
        RuntimeException last = null;
        for (int i = 0; i < seeds.size(); i++)
        {
            final RedisURI seed = seeds.get(i);
            final RedisClient client = RedisClient.create(resources, seed);
            client.setOptions(options);
            final boolean cluster;
            try (StatefulRedisConnection<String, String> first = client.connect())
            {
                // The one place that tells the two setups apart: everything after it is one code path.
                cluster = first.sync().info("cluster").contains("cluster_enabled:1");
            }
            catch (final RuntimeException ex)
            {
                client.shutdown();
                last = ex;
                if (seeds.size() > 1)
                {
                    LOG.warn("redis seed unreachable: seed={} of={} address={}:{} cause={}", i + 1, seeds.size(),
                        seed.getHost(), seed.getPort(), ex.getMessage());
                }
                continue;
            }
            if (!cluster && seeds.size() > 1)
            {
                client.shutdown();
                throw new IllegalStateException("redisUrl lists seeds=" + seeds.size() + " but seed=" + (i + 1) +
                    " is a single Redis, not a Redis Cluster node: a single Redis takes one host (one that Sentinel " +
                    "fails over: redis-sentinel://)");
            }
            return new Probe(client, seed, cluster);
        }
        throw new IllegalStateException("redis unreachable at start: redisUrl=<set>" +
            (seeds.size() > 1 ? " seeds=" + seeds.size() + " (none answered; the last:)" : "") + " cause=" +
            last.getMessage() + " root=" + RedisLink.rootCause(last), last);
    }

    /**
     * @return where the host list of a {@code redis://} or {@code rediss://} URL lies, {from, to}: after the
     *     user information, up to the path, query or fragment; null for another scheme.
     */
    private static int[] hostList(final String url)
    {
        final int schemeEnd = url.startsWith("redis://") ? 8 : url.startsWith("rediss://") ? 9 : -1;
        if (schemeEnd < 0)
        {
            return null;
        }
        int end = url.length();
        for (final char stop : new char[]{'/', '?', '#'})
        {
            final int found = url.indexOf(stop, schemeEnd);
            end = found >= 0 ? Math.min(end, found) : end;
        }
        final int userInfoEnd = url.lastIndexOf('@', end - 1);
        return new int[]{userInfoEnd >= schemeEnd ? userInfoEnd + 1 : schemeEnd, end};
    }
}
