package dev.agentwire.server;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * inbound.lua, the cluster's stream of users' messages waiting for a runtime on another node, on a real Redis: it
 * refuses past its bound instead of trimming, drops what waited too long (off the group's pending list too), and
 * names the senders of those dropped that no node took (one a node took may have reached a runtime).
 */
@Timeout(60)
class InboundScriptTest
{
    private static final String KEY = "aw:inbound";

    @TempDir
    Path dir;
    private RedisProcess redis;
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;
    private RedisCommands<String, String> commands;
    private String script;

    @BeforeEach
    void start() throws Exception
    {
        redis = new RedisProcess(dir, false);
        client = RedisClient.create(redis.url());
        connection = client.connect();
        commands = connection.sync();
        // The tests run in server/.
        script = Files.readString(Path.of("src", "main", "resources", "cluster", "inbound.lua"));
    }

    @AfterEach
    void stop() throws Exception
    {
        connection.close();
        client.shutdown();
        redis.close();
    }

    private List<Object> run(final String... args)
    {
        return commands.eval(script, ScriptOutputType.MULTI, new String[]{KEY}, args);
    }

    private static String message(final String user)
    {
        return "{\"type\":\"user_message\",\"user\":\"" + user + "\",\"thread_id\":\"th-" + user + "\",\"data\":{}}";
    }

    @Test
    void shouldRefuseTheNewestPastTheBoundAndKeepEveryMessageWaiting()
    {
        assertEquals(1L, run("2", "60000", "producers", message("a")).get(0));
        assertEquals(1L, run("2", "60000", "producers", message("b")).get(0));
        assertEquals(0L, run("2", "60000", "producers", message("c")).get(0), "the third is refused");
        assertEquals(2L, commands.xlen(KEY), "and nothing waiting was pushed out for it");
        assertEquals(1L, run("0", "60000", "producers", message("put-back")).get(0), "a put-back has no bound");
    }

    @Test
    void shouldDropWhatWaitedTooLongAndNameOnlyTheSendersOfWhatNoNodeTook()
    {
        commands.xadd(KEY, new XAddArgs().id("1-0"), Map.of("m", message("taken")));
        commands.xadd(KEY, new XAddArgs().id("2-0"), Map.of("m", message("never")));
        // A node took the first and died before it deleted it: it may have reached a runtime.
        commands.xgroupCreate(XReadArgs.StreamOffset.from(KEY, "0"), "producers");
        commands.xreadgroup(Consumer.from("producers", "nodes"), XReadArgs.Builder.count(1),
            XReadArgs.StreamOffset.lastConsumed(KEY));

        final List<Object> reply = run("10", "60000", "producers");
        assertEquals(0L, reply.get(0), "nothing appended without a message");
        assertEquals(2L, reply.get(1), "both dropped, and counted");
        assertEquals(List.of("never", "user_message", "th-never", ""), reply.get(2), "only the one no node took");
        assertEquals(0L, commands.xlen(KEY));
        assertEquals(0L, commands.xpending(KEY, "producers").getCount(),
            "nor left on the group's pending list by the node that died holding it");
    }
}
