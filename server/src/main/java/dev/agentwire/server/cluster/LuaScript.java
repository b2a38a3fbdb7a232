package dev.agentwire.server.cluster;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.protocol.CommandType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;

/**
 * One Lua script: run by digest, loaded again when Redis does not know it (a restart flushes the cache). A line
 * {@code --!include <file>} in a script is replaced by that file of the same folder: the code several scripts share
 * (Redis runs each script alone, with no way to load a library).
 */
final class LuaScript
{
    private static final String INCLUDE = "--!include ";

    private final byte[] source;
    private final byte[] sha;
    private final LongAdder errors;

    /**
     * @param resource the script's file under {@code src/main/resources/cluster}.
     * @param errors   counts the calls that failed.
     */
    LuaScript(final String resource, final LongAdder errors)
    {
        this.errors = errors;
        source = spliced(resource).getBytes(StandardCharsets.UTF_8);
        try
        {
            sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source))
                .getBytes(StandardCharsets.US_ASCII);
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("no SHA-1 for script resource=" + resource, ex);
        }
    }

    /** @return the script's text as Redis runs it: its includes spliced in (one level). */
    static String spliced(final String resource)
    {
        final StringBuilder text = new StringBuilder();
        for (final String line : text(resource).split("\n", -1))
        {
            if (line.startsWith(INCLUDE))
            {
                text.append(text(line.substring(INCLUDE.length()).trim()));
            }
            else
            {
                text.append(line).append('\n');
            }
        }
        text.setLength(text.length() - 1);
        return text.toString();
    }

    private static String text(final String resource)
    {
        try (InputStream in = RedisLink.class.getResourceAsStream("/cluster/" + resource))
        {
            if (in == null)
            {
                throw new IllegalStateException("missing script resource=/cluster/" + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot load script resource=" + resource, ex);
        }
    }

    /** @param keys the keys the script declares: a sharded Redis routes the call by the first. */
    CompletionStage<List<Object>> run(final RedisClusterAsyncCommands<String, byte[]> commands, final String[] keys,
        final byte[][] args)
    {
        final CompletableFuture<List<Object>> result = new CompletableFuture<>();
        final RedisFuture<List<Object>> first = commands.dispatch(CommandType.EVALSHA,
            new NestedMultiOutput<>(RedisLink.CODEC), new ScriptArgs(sha, keys, args));
        first.whenComplete((reply, error) ->
        {
            if (error == null)
            {
                result.complete(reply);
            }
            else if (RedisLink.unwrap(error) instanceof RedisNoScriptException)
            {
                final RedisFuture<List<Object>> again = commands.dispatch(CommandType.EVAL,
                    new NestedMultiOutput<>(RedisLink.CODEC), new ScriptArgs(source, keys, args));
                again.whenComplete((reply2, error2) -> complete(result, reply2, error2));
            }
            else
            {
                complete(result, null, error);
            }
        });
        return result;
    }

    private void complete(final CompletableFuture<List<Object>> result, final List<Object> reply, final Throwable error)
    {
        if (error != null)
        {
            errors.increment();
            result.completeExceptionally(RedisLink.unwrap(error));
        }
        else
        {
            result.complete(reply);
        }
    }
}
