package dev.agentwire.server.cluster;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.output.StatusOutput;
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
import java.util.function.Consumer;

/**
 * One Lua script, run by digest ({@code EVALSHA}) and sent whole again when Redis does not know it (a restart
 * flushes the cache); or one function library, a file whose first line is {@code #!lua name=<library>}, whose one
 * function has the library's name: called with {@code FCALL} and loaded ({@code FUNCTION LOAD}) on the shard that
 * answers it is not found. A library's helpers are made once, when Redis loads it, where a script makes them again
 * at every call: publish.lua, called at every group commit, is one. A {@code %DIGEST%} in a library is replaced by
 * the digest of its text, so nodes of different builds never call each other's. A line {@code --!include <file>}
 * is replaced by that file of the same folder: the code several scripts share.
 */
final class LuaScript
{
    private static final String INCLUDE = "--!include ";
    private static final String LIBRARY = "#!lua name=";
    private static final String DIGEST = "%DIGEST%";
    /** How Redis answers an FCALL of a function it has not loaded (a new or flushed shard). */
    private static final String FUNCTION_NOT_FOUND = "ERR Function not found";

    private final byte[] source;
    /** The script's digest (EVALSHA), or the library's function name (FCALL). */
    private final byte[] named;
    private final boolean library;
    private final Consumer<Throwable> onError;

    /**
     * @param resource the script's file under {@code src/main/resources/cluster}.
     * @param onError  told every call that failed (the link counts it, and reconnects on READONLY).
     */
    LuaScript(final String resource, final Consumer<Throwable> onError)
    {
        this.onError = onError;
        final String text = spliced(resource);
        final String digest = sha1(text, resource);
        library = text.startsWith(LIBRARY);
        if (library)
        {
            final String written = text.replace(DIGEST, digest.substring(0, 16));
            source = written.getBytes(StandardCharsets.UTF_8);
            named = written.substring(LIBRARY.length(), written.indexOf('\n')).trim()
                .getBytes(StandardCharsets.US_ASCII);
        }
        else
        {
            source = text.getBytes(StandardCharsets.UTF_8);
            named = digest.getBytes(StandardCharsets.US_ASCII);
        }
    }

    private static String sha1(final String text, final String resource)
    {
        try
        {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(
                text.getBytes(StandardCharsets.UTF_8)));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("no SHA-1 for script resource=" + resource, ex);
        }
    }

    /** @return what {@code FCALL} names (a library's function), or null for a script. */
    String functionName()
    {
        return library ? new String(named, StandardCharsets.US_ASCII) : null;
    }

    /** @return the text Redis is sent: includes spliced in, a library's digest written in. */
    String source()
    {
        return new String(source, StandardCharsets.UTF_8);
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
        byName(commands, keys, args).whenComplete((reply, error) ->
        {
            if (error == null)
            {
                result.complete(reply);
            }
            else if (isUnknownToRedis(error))
            {
                again(commands, keys, args).whenComplete((reply2, error2) -> complete(result, reply2, error2));
            }
            else
            {
                complete(result, null, error);
            }
        });
        return result;
    }

    /** A script by its digest ({@code EVALSHA}), a library's function by its name ({@code FCALL}). */
    private RedisFuture<List<Object>> byName(final RedisClusterAsyncCommands<String, byte[]> commands,
        final String[] keys, final byte[][] args)
    {
        return commands.dispatch(library ? CommandType.FCALL : CommandType.EVALSHA,
            new NestedMultiOutput<>(RedisLink.CODEC), new ScriptArgs(named, keys, args));
    }

    /**
     * Once Redis did not know it: a script is sent whole ({@code EVAL}); a library is loaded where the call went (the
     * key routes both), then called again.
     */
    private CompletionStage<List<Object>> again(final RedisClusterAsyncCommands<String, byte[]> commands,
        final String[] keys, final byte[][] args)
    {
        if (!library)
        {
            return commands.dispatch(CommandType.EVAL, new NestedMultiOutput<>(RedisLink.CODEC),
                new ScriptArgs(source, keys, args));
        }
        return commands.dispatch(CommandType.FUNCTION, new StatusOutput<>(RedisLink.CODEC),
            new ScriptArgs.FunctionLoad(keys[0], source)).thenCompose(loaded -> byName(commands, keys, args));
    }

    private boolean isUnknownToRedis(final Throwable error)
    {
        final Throwable cause = RedisLink.unwrap(error);
        if (!library)
        {
            return cause instanceof RedisNoScriptException;
        }
        return cause.getMessage() != null && cause.getMessage().startsWith(FUNCTION_NOT_FOUND);
    }

    private void complete(final CompletableFuture<List<Object>> result, final List<Object> reply, final Throwable error)
    {
        if (error != null)
        {
            onError.accept(error);
            result.completeExceptionally(RedisLink.unwrap(error));
        }
        else
        {
            result.complete(reply);
        }
    }
}
