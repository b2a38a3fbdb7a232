package dev.agentwire.server.cluster;

import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.AsyncExecutions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Redis settings a node relies on, read from every primary at start and then every {@code redisSettingsCheckMs}:
 * a Redis that evicts keys drops histories, stream heads and idempotency marks without a word, and one without an
 * append-only file loses them all when it restarts. Neither can be seen from the commands that follow, so a node
 * says so, as a warning and in {@code agentwire_cluster_redis_unsafe_settings}, and runs on: the operator decides
 * (docs/CLUSTER.md, "Sizing and Redis settings"). Checked again because settings move under a running node: a
 * {@code CONFIG SET}, or a replica promoted with settings of its own (Redis does not copy them). Each unsafe setting
 * is logged when it is first found and when it is gone, not at every check. A Redis that does not answer
 * {@code CONFIG GET} (a managed service, an ACL) is said once; a check that cannot read keeps the last count.
 * <p>
 * Threading: {@link #check} is called on the cluster executor, and its answer is handled there too.
 */
final class RedisSettingsPolicy
{
    /** The only memory policy that loses nothing: a full Redis refuses writes, and producers get a 503. */
    static final String SAFE_MEMORY_POLICY = "noeviction";

    private static final Logger LOG = LoggerFactory.getLogger(RedisSettingsPolicy.class);
    private static final String MEMORY_POLICY = "maxmemory-policy";
    private static final String APPEND_ONLY = "appendonly";

    /** Reads settings from every primary: {@link RedisLink} makes one for one Redis or for a Redis Cluster. */
    @FunctionalInterface
    interface Reader
    {
        /**
         * @param names the settings to read.
         * @return each primary's answer to {@code CONFIG GET}, keyed by its host and port; failed when any primary
         * could not answer.
         */
        CompletionStage<Map<String, Map<String, String>>> read(String... names);
    }

    /** One unsafe setting of one primary. */
    record Unsafe(String primary, String setting, String value)
    {
        /** @return the warning, {@code key=value}, with what the setting costs. */
        String warning()
        {
            final boolean memory = MEMORY_POLICY.equals(setting);
            return "redis setting unsafe: primary=" + primary + " " + setting + "=" + value + " expected=" +
                (memory ? SAFE_MEMORY_POLICY : "yes") + " effect=" + (memory ?
                "when full, Redis drops histories, stream heads and idempotency marks without a word (lost events," +
                " duplicates)" :
                "a restart loses every history and idempotency mark (resumes answer recovered:false, retried" +
                " events publish again)");
        }

        /** @return what is said when it is gone: changed, or its Redis no longer a primary. */
        String cleared()
        {
            return "redis setting no longer unsafe: primary=" + primary + " " + setting + " was=" + value;
        }
    }

    /** What one check changed: the unsafe settings found that were not before, and those gone. */
    record Changes(List<Unsafe> found, List<Unsafe> cleared)
    {
    }

    private final Reader reader;
    private final Executor executor;
    /** The unsafe settings of the last check that read every primary (touched on the executor only). */
    private Set<Unsafe> standing = Set.of();
    /** How soon a failed first read is asked again at start. */
    static final long START_RETRY_MS = 100;
    private boolean saidUnreadable;
    /** Redis answered a check: every primary's settings, or a refusal (CONFIG not allowed) that asking again keeps. */
    private volatile boolean answered;
    private volatile int unsafeSettings;
    private volatile CompletableFuture<Void> inFlight = CompletableFuture.completedFuture(null);

    /**
     * @param reader   reads the primaries' settings.
     * @param executor where answers are handled: the cluster executor.
     */
    RedisSettingsPolicy(final Reader reader, final Executor executor)
    {
        this.reader = reader;
        this.executor = executor;
    }

    /**
     * Checks now, waiting for the answer so that it is said before the node serves anyone, then every
     * {@code checkMs} on the executor. A first read that gets no answer from Redis is asked again within
     * {@code waitMs} ({@link #START_RETRY_MS} apart), and only the last such failure is said: a connection just made
     * may still be "not connected" for a few milliseconds (a CI build met it, and said the settings unreadable until
     * the next check, minutes later). A refusal from Redis (CONFIG not allowed) is an answer: said at once.
     *
     * @param reader  reads the primaries' settings (bounded by Redis's command timeout).
     * @param executor the cluster executor: checks run there, and their answers are handled there.
     * @param checkMs how often to check again.
     * @param waitMs  longest the first check is waited for (its answer is still handled when it comes later).
     * @return the policy, checking.
     */
    static RedisSettingsPolicy start(
        final Reader reader,
        final ScheduledExecutorService executor,
        final long checkMs,
        final long waitMs)
    {
        final RedisSettingsPolicy policy = new RedisSettingsPolicy(reader, task ->
        {
            try
            {
                executor.execute(task);
            }
            catch (final RejectedExecutionException closing)
            {
                // An answer that arrived as the node closed: nobody reads it any more.
            }
        });
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        try
        {
            boolean last = false;
            while (!policy.answered && !last)
            {
                last = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_RETRY_MS) - deadlineNs >= 0;
                policy.check(last).get(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime())),
                    TimeUnit.MILLISECONDS);
                if (!policy.answered && !last)
                {
                    Thread.sleep(START_RETRY_MS);
                }
            }
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            LOG.info("redis settings not read at start: waitMs={} cause={}", waitMs, ex.toString());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        executor.scheduleWithFixedDelay(policy::check, checkMs, checkMs, TimeUnit.MILLISECONDS);
        return policy;
    }

    /** @return the unsafe settings found over all primaries by the last check that read them; 0 before one did. */
    int unsafeSettings()
    {
        return unsafeSettings;
    }

    /**
     * Reads every primary's settings, unless the last read is still waiting for an answer, and logs what changed.
     *
     * @return done when the answer was handled; never failed.
     */
    CompletableFuture<Void> check()
    {
        return check(true);
    }

    /** @param sayUnreadable whether a failed read is logged (once; a retry at start says only its last). */
    private CompletableFuture<Void> check(final boolean sayUnreadable)
    {
        if (!inFlight.isDone())
        {
            return inFlight;
        }
        CompletionStage<Map<String, Map<String, String>>> read;
        try
        {
            read = reader.read(MEMORY_POLICY, APPEND_ONLY);
        }
        catch (final RuntimeException ex)
        {
            read = CompletableFuture.failedFuture(ex);
        }
        inFlight = read.handleAsync((byPrimary, error) ->
        {
            if (error == null)
            {
                log(update(byPrimary));
                answered = true;
            }
            else if (RedisLink.unwrap(error) instanceof io.lettuce.core.RedisCommandExecutionException)
            {
                answered = true;
            }
            if (error != null && (sayUnreadable || answered) && !saidUnreadable)
            {
                saidUnreadable = true;
                LOG.info("redis settings not readable: cause={} check={}={} {}=yes by hand (docs/CLUSTER.md)",
                    RedisLink.unwrap(error).getMessage(), MEMORY_POLICY, SAFE_MEMORY_POLICY, APPEND_ONLY);
            }
            return (Void)null;
        }, executor).toCompletableFuture();
        return inFlight;
    }

    /**
     * Takes a check's answer as the standing state.
     *
     * @param byPrimary every primary's settings, keyed by host and port.
     * @return the unsafe settings found that were not before, and those gone, each in order.
     */
    Changes update(final Map<String, Map<String, String>> byPrimary)
    {
        final Set<Unsafe> now = new LinkedHashSet<>();
        byPrimary.forEach((primary, settings) -> now.addAll(judge(primary, settings)));
        final List<Unsafe> found = new ArrayList<>();
        for (final Unsafe unsafe : now)
        {
            if (!standing.contains(unsafe))
            {
                found.add(unsafe);
            }
        }
        final List<Unsafe> cleared = new ArrayList<>();
        for (final Unsafe unsafe : standing)
        {
            if (!now.contains(unsafe))
            {
                cleared.add(unsafe);
            }
        }
        standing = now;
        unsafeSettings = now.size();
        return new Changes(found, cleared);
    }

    private static void log(final Changes changes)
    {
        for (final Unsafe unsafe : changes.found())
        {
            LOG.warn(unsafe.warning());
        }
        for (final Unsafe unsafe : changes.cleared())
        {
            LOG.info(unsafe.cleared());
        }
    }

    /**
     * @param primary  where the settings were read.
     * @param settings {@code CONFIG GET}'s answer; a setting it lacks is not judged (Redis's values are
     *                 case-insensitive).
     * @return each unsafe setting, the memory policy first.
     */
    static List<Unsafe> judge(final String primary, final Map<String, String> settings)
    {
        final List<Unsafe> unsafe = new ArrayList<>(2);
        final String memoryPolicy = settings.get(MEMORY_POLICY);
        if (memoryPolicy != null && !SAFE_MEMORY_POLICY.equalsIgnoreCase(memoryPolicy))
        {
            unsafe.add(new Unsafe(primary, MEMORY_POLICY, memoryPolicy));
        }
        final String appendOnly = settings.get(APPEND_ONLY);
        if (appendOnly != null && !"yes".equalsIgnoreCase(appendOnly))
        {
            unsafe.add(new Unsafe(primary, APPEND_ONLY, appendOnly));
        }
        return unsafe;
    }

    /**
     * @return a reader of a Redis Cluster's primaries that serve slots, as its slot map stands at each read: after a
     * failover, the replica promoted. A primary without slots holds nothing; and a replica just made one can show as
     * such in a slot map that gossip has not yet brought up to date.
     */
    static Reader readerOf(final StatefulRedisClusterConnection<String, byte[]> connection)
    {
        return names ->
        {
            final AsyncExecutions<Map<String, String>> answers = connection.async()
                .nodes(node -> node.is(RedisClusterNode.NodeFlag.UPSTREAM) && !node.getSlots().isEmpty()).commands()
                .configGet(names);
            return answers.thenApply(all -> byAddress(answers));
        };
    }

    /** @return a reader of one Redis. */
    static Reader readerOf(final RedisURI uri, final StatefulRedisConnection<String, byte[]> connection)
    {
        return names -> connection.async().configGet(names).thenApply(answer -> byAddress(uri, answer));
    }

    /**
     * @param answers a Redis Cluster's primaries' answers, all complete.
     * @return them keyed by host and port (never a password), in that order.
     */
    private static Map<String, Map<String, String>> byAddress(final AsyncExecutions<Map<String, String>> answers)
    {
        final Map<String, Map<String, String>> byAddress = new TreeMap<>();
        for (final Map.Entry<RedisClusterNode, CompletableFuture<Map<String, String>>> answer :
            answers.asMap().entrySet())
        {
            byAddress.put(address(answer.getKey().getUri()), answer.getValue().join());
        }
        return byAddress;
    }

    /** @return one Redis's answer, keyed by its host and port (never a password). */
    private static Map<String, Map<String, String>> byAddress(final RedisURI uri, final Map<String, String> answer)
    {
        return Map.of(address(uri), answer);
    }

    /** @return host and port; behind Sentinel, the primary's name (whichever server it is now). */
    private static String address(final RedisURI uri)
    {
        return uri.getSentinelMasterId() != null ? "sentinel:" + uri.getSentinelMasterId() :
            uri.getHost() + ":" + uri.getPort();
    }
}
