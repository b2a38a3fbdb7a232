package dev.agentwire.server.cluster;

import io.lettuce.core.RedisURI;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedisSeedsTest
{
    @Test
    void shouldGiveEachSeedTheUrlsPasswordTlsAndDatabase()
    {
        final List<RedisURI> seeds = RedisSeeds.uris("rediss://user:p%40ss@h1:7000,[::1]:7001,h3/2", 1_500, null);
        assertEquals(3, seeds.size());
        // As Lettuce reads one host: an IPv6 address keeps its brackets.
        final String ipv6 = RedisURI.create("redis://[::1]:7001").getHost();
        assertEquals(List.of("h1", ipv6, "h3"), seeds.stream().map(RedisURI::getHost).toList());
        assertEquals(List.of(7000, 7001, 6379), seeds.stream().map(RedisURI::getPort).toList());
        for (final RedisURI seed : seeds)
        {
            assertTrue(seed.isSsl());
            assertEquals(2, seed.getDatabase());
            assertEquals(1_500, seed.getTimeout().toMillis());
            final io.lettuce.core.RedisCredentials credentials =
                seed.getCredentialsProvider().resolveCredentials().block();
            assertEquals("user", credentials.getUsername());
            assertEquals("p@ss", new String(credentials.getPassword()));
        }
    }

    @Test
    void shouldLeaveAUrlOfOneHostAndASentinelsListWhole()
    {
        assertEquals(List.of("h1:7000"), RedisSeeds.hosts("redis://h1:7000"));
        assertEquals(List.of(), RedisSeeds.hosts("redis-sentinel://s1:26379,s2:26379#primary"));
        final List<RedisURI> sentinel = RedisSeeds.uris("redis-sentinel://:servers@s1:26379,s2:26379#primary", 1_000,
            "sentinels");
        assertEquals(1, sentinel.size());
        assertEquals(2, sentinel.get(0).getSentinels().size());
        assertEquals("primary", sentinel.get(0).getSentinelMasterId());
        assertEquals("servers", password(sentinel.get(0)), "the URL's password is the servers'");
        for (final RedisURI each : sentinel.get(0).getSentinels())
        {
            assertEquals("sentinels", password(each), "each Sentinel gets theirs");
        }
    }

    private static String password(final RedisURI uri)
    {
        final char[] password = uri.getCredentialsProvider().resolveCredentials().block().getPassword();
        return password == null ? null : new String(password);
    }

    @Test
    void shouldNameAMalformedSeedByItsPlaceNotByItsText()
    {
        final String refused = assertThrows(IllegalArgumentException.class,
            () -> RedisSeeds.hosts("redis://:secret@h1:7000,h2:secret")).getMessage();
        assertEquals("redisUrl host 2 of its list is not host[:port]", refused);
    }
}
