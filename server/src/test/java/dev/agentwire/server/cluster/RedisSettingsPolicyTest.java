package dev.agentwire.server.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedisSettingsPolicyTest
{
    @Test
    void shouldFindNothingUnsafeInTheRecommendedSettings()
    {
        assertEquals(List.of(), RedisSettingsPolicy.warnings("127.0.0.1:6379",
            Map.of("maxmemory-policy", "noeviction", "appendonly", "yes")));
        assertEquals(List.of(), RedisSettingsPolicy.warnings("127.0.0.1:6379",
            Map.of("maxmemory-policy", "NoEviction", "appendonly", "YES")), "Redis's values are case-insensitive");
    }

    @Test
    void shouldNameEachUnsafeSettingWithItsPrimaryValueAndEffect()
    {
        final List<String> warnings = RedisSettingsPolicy.warnings("10.0.0.7:7002",
            Map.of("maxmemory-policy", "volatile-lru", "appendonly", "no"));

        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("primary=10.0.0.7:7002 maxmemory-policy=volatile-lru expected=noeviction"),
            warnings.get(0));
        assertTrue(warnings.get(1).contains("primary=10.0.0.7:7002 appendonly=no expected=yes"), warnings.get(1));
        assertTrue(warnings.stream().allMatch(w -> w.contains("effect=")), warnings.toString());
    }

    @Test
    void shouldNotJudgeASettingTheAnswerLacks()
    {
        assertEquals(List.of(), RedisSettingsPolicy.warnings("127.0.0.1:6379", Map.of()));
        assertEquals(1, RedisSettingsPolicy.warnings("127.0.0.1:6379", Map.of("appendonly", "no")).size());
    }
}
