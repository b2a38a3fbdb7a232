package dev.agentwire.server.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedisSettingsPolicyTest
{
    private static final Map<String, String> SAFE = Map.of("maxmemory-policy", "noeviction", "appendonly", "yes");
    private static final Map<String, String> EVICTING = Map.of("maxmemory-policy", "allkeys-lru", "appendonly", "yes");

    @Test
    void shouldFindNothingUnsafeInTheRecommendedSettings()
    {
        assertEquals(List.of(), RedisSettingsPolicy.judge("127.0.0.1:6379", SAFE));
        assertEquals(List.of(), RedisSettingsPolicy.judge("127.0.0.1:6379",
            Map.of("maxmemory-policy", "NoEviction", "appendonly", "YES")), "Redis's values are case-insensitive");
    }

    @Test
    void shouldNameEachUnsafeSettingWithItsPrimaryValueAndEffect()
    {
        final List<RedisSettingsPolicy.Unsafe> unsafe = RedisSettingsPolicy.judge("10.0.0.7:7002",
            Map.of("maxmemory-policy", "volatile-lru", "appendonly", "no"));

        assertEquals(2, unsafe.size(), unsafe.toString());
        final String memory = unsafe.get(0).warning();
        final String appendOnly = unsafe.get(1).warning();
        assertTrue(memory.contains("primary=10.0.0.7:7002 maxmemory-policy=volatile-lru expected=noeviction"), memory);
        assertTrue(appendOnly.contains("primary=10.0.0.7:7002 appendonly=no expected=yes"), appendOnly);
        assertTrue(memory.contains("effect=") && appendOnly.contains("effect="), unsafe.toString());
        assertEquals("redis setting no longer unsafe: primary=10.0.0.7:7002 appendonly was=no",
            unsafe.get(1).cleared());
    }

    @Test
    void shouldNotJudgeASettingTheAnswerLacks()
    {
        assertEquals(List.of(), RedisSettingsPolicy.judge("127.0.0.1:6379", Map.of()));
        assertEquals(1, RedisSettingsPolicy.judge("127.0.0.1:6379", Map.of("appendonly", "no")).size());
    }

    @Test
    void shouldSayEachUnsafeSettingWhenFoundAndWhenGoneNotAtEveryCheck()
    {
        final RedisSettingsPolicy policy = new RedisSettingsPolicy(names -> null, Runnable::run);
        final RedisSettingsPolicy.Unsafe evicting = new RedisSettingsPolicy.Unsafe("a:1", "maxmemory-policy",
            "allkeys-lru");

        RedisSettingsPolicy.Changes changes = policy.update(Map.of("a:1", EVICTING, "b:2", SAFE));
        assertEquals(List.of(evicting), changes.found());
        assertEquals(List.of(), changes.cleared());
        assertEquals(1, policy.unsafeSettings());

        changes = policy.update(Map.of("a:1", EVICTING, "b:2", SAFE));
        assertEquals(new RedisSettingsPolicy.Changes(List.of(), List.of()), changes, "still standing: said once");
        assertEquals(1, policy.unsafeSettings());

        // A failover: b's replica, without an append-only file, now serves b's slots; a is no longer a primary.
        changes = policy.update(Map.of("c:3", Map.of("maxmemory-policy", "noeviction", "appendonly", "no")));
        assertEquals(List.of(new RedisSettingsPolicy.Unsafe("c:3", "appendonly", "no")), changes.found());
        assertEquals(List.of(evicting), changes.cleared());
        assertEquals(1, policy.unsafeSettings());

        changes = policy.update(Map.of("c:3", SAFE));
        assertEquals(List.of(), changes.found());
        assertEquals(1, changes.cleared().size());
        assertEquals(0, policy.unsafeSettings());
    }

    @Test
    @Timeout(10)
    void shouldKeepTheLastCountWhenACheckCannotReadAndNeverFail() throws Exception
    {
        final Queue<CompletionStage<Map<String, Map<String, String>>>> answers = new ArrayDeque<>();
        answers.add(CompletableFuture.completedFuture(Map.of("a:1", EVICTING)));
        answers.add(CompletableFuture.failedFuture(new IllegalStateException("NOPERM")));
        final RedisSettingsPolicy policy = new RedisSettingsPolicy(names -> answers.remove(), Runnable::run);

        policy.check().get(5, TimeUnit.SECONDS);
        assertEquals(1, policy.unsafeSettings());
        final CompletableFuture<Void> failed = policy.check();
        failed.get(5, TimeUnit.SECONDS);
        assertFalse(failed.isCompletedExceptionally());
        assertEquals(1, policy.unsafeSettings(), "Redis away: the last count stands");

        final RedisSettingsPolicy throwing = new RedisSettingsPolicy(names ->
        {
            throw new IllegalStateException("not connected");
        }, Runnable::run);
        throwing.check().get(5, TimeUnit.SECONDS);
        assertEquals(0, throwing.unsafeSettings());
    }

    @Test
    @Timeout(10)
    void shouldNotAskAgainWhileTheLastCheckWaitsForItsAnswer() throws Exception
    {
        final CompletableFuture<Map<String, Map<String, String>>> slow = new CompletableFuture<>();
        final int[] reads = new int[1];
        final RedisSettingsPolicy policy = new RedisSettingsPolicy(names ->
        {
            reads[0]++;
            return slow;
        }, Runnable::run);

        final CompletableFuture<Void> first = policy.check();
        assertSame(first, policy.check());
        assertEquals(1, reads[0]);

        slow.complete(Map.of("a:1", EVICTING));
        first.get(5, TimeUnit.SECONDS);
        assertEquals(1, policy.unsafeSettings());
    }

    @Test
    @Timeout(10)
    void shouldAskAgainAtStartWhenRedisGaveNoAnswerButNotWhenItRefused() throws Exception
    {
        final java.util.concurrent.ScheduledExecutorService executor =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try
        {
            // A connection just made that says "not connected" once: asked again, and read.
            final Queue<CompletionStage<Map<String, Map<String, String>>>> answers = new ArrayDeque<>();
            answers.add(CompletableFuture.failedFuture(new io.lettuce.core.RedisException("Currently not connected")));
            answers.add(CompletableFuture.completedFuture(Map.of("a:1", EVICTING)));
            final RedisSettingsPolicy retried = RedisSettingsPolicy.start(names -> answers.remove(), executor,
                60_000, 4_000);
            assertEquals(1, retried.unsafeSettings(), "read at start, on the second ask");
            assertTrue(answers.isEmpty());

            // Redis refusing CONFIG answered: asked once, and start does not wait for more.
            final int[] reads = new int[1];
            final long startNs = System.nanoTime();
            final RedisSettingsPolicy refused = RedisSettingsPolicy.start(names ->
            {
                reads[0]++;
                return CompletableFuture.failedFuture(new io.lettuce.core.RedisCommandExecutionException("NOPERM"));
            }, executor, 60_000, 4_000);
            assertEquals(1, reads[0]);
            assertTrue(System.nanoTime() - startNs < TimeUnit.SECONDS.toNanos(2), "no wait for a refusal");
            assertEquals(0, refused.unsafeSettings());
        }
        finally
        {
            executor.shutdownNow();
        }
    }
}
