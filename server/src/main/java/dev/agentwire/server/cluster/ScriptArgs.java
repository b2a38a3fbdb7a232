package dev.agentwire.server.cluster;

import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * An EVALSHA's, EVAL's or FCALL's arguments (the digest, source or function, the key count, the keys, the
 * arguments) written as RESP bulk strings straight from the arrays the caller filled. Lettuce's own
 * {@link CommandArgs} wraps each argument in an object, grows a list for them and formats each length with
 * {@link Long#toString(long)}: for a group commit of 6 arguments per event, that was about a tenth of a cluster
 * node's CPU samples (JFR, 2026-12-05). Written again, unchanged, when Lettuce follows a MOVED or ASK redirect.
 */
final class ScriptArgs extends CommandArgs<String, byte[]>
{
    private static final byte[] CRLF = {'\r', '\n'};
    /** The most decimal digits an int has. */
    private static final int MAX_DIGITS = 10;

    private final byte[] script;
    private final String[] keys;
    private final byte[][] args;
    private final ByteBuffer routingKey;

    /**
     * @param script the script's digest (EVALSHA) or source (EVAL), as bytes.
     * @param keys   the keys the script declares; a sharded Redis routes the call by the first.
     * @param args   the script's arguments.
     */
    ScriptArgs(final byte[] script, final String[] keys, final byte[][] args)
    {
        super(RedisLink.CODEC);
        this.script = script;
        this.keys = keys;
        this.args = args;
        this.routingKey = keys.length == 0 ? null : ByteBuffer.wrap(keys[0].getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int count()
    {
        return 2 + keys.length + args.length;
    }

    @Override
    public ByteBuffer getFirstEncodedKey()
    {
        return routingKey == null ? null : routingKey.duplicate();
    }

    @Override
    public void encode(final ByteBuf buf)
    {
        bulk(buf, script);
        bulkDigits(buf, keys.length);
        for (final String key : keys)
        {
            bulk(buf, key.getBytes(StandardCharsets.UTF_8));
        }
        for (final byte[] arg : args)
        {
            bulk(buf, arg);
        }
    }

    @Override
    public String toString()
    {
        // Never the arguments: they are users' events.
        return "ScriptArgs[keys=" + keys.length + ", args=" + args.length + ']';
    }

    @Override
    public String toCommandString()
    {
        return toString();
    }

    /**
     * {@code FUNCTION LOAD REPLACE <library>}, routed by a key as the call that needs the library is (a sharded
     * Redis loads a library shard by shard: the one that answered that it does not have it).
     */
    static final class FunctionLoad extends CommandArgs<String, byte[]>
    {
        private static final byte[] LOAD = {'L', 'O', 'A', 'D'};
        private static final byte[] REPLACE = {'R', 'E', 'P', 'L', 'A', 'C', 'E'};

        private final ByteBuffer routingKey;
        private final byte[] library;

        FunctionLoad(final String routingKey, final byte[] library)
        {
            super(RedisLink.CODEC);
            this.routingKey = ByteBuffer.wrap(routingKey.getBytes(StandardCharsets.UTF_8));
            this.library = library;
        }

        @Override
        public int count()
        {
            return 3;
        }

        @Override
        public ByteBuffer getFirstEncodedKey()
        {
            return routingKey.duplicate();
        }

        @Override
        public void encode(final ByteBuf buf)
        {
            bulk(buf, LOAD);
            bulk(buf, REPLACE);
            bulk(buf, library);
        }

        @Override
        public String toString()
        {
            return "FunctionLoad[bytes=" + library.length + ']';
        }

        @Override
        public String toCommandString()
        {
            return toString();
        }
    }

    private static void bulk(final ByteBuf buf, final byte[] value)
    {
        buf.writeByte('$');
        digits(buf, value.length);
        buf.writeBytes(CRLF);
        buf.writeBytes(value);
        buf.writeBytes(CRLF);
    }

    /** A non-negative number as a bulk string of its decimal digits. */
    private static void bulkDigits(final ByteBuf buf, final int value)
    {
        buf.writeByte('$');
        digits(buf, digitCount(value));
        buf.writeBytes(CRLF);
        digits(buf, value);
        buf.writeBytes(CRLF);
    }

    /** Writes a non-negative int's decimal digits, no object made. */
    static void digits(final ByteBuf buf, final int value)
    {
        final int count = digitCount(value);
        final int at = buf.writerIndex();
        buf.ensureWritable(count);
        int rest = value;
        for (int i = count - 1; i >= 0; i--)
        {
            buf.setByte(at + i, '0' + rest % 10);
            rest /= 10;
        }
        buf.writerIndex(at + count);
    }

    static int digitCount(final int value)
    {
        if (value < 0)
        {
            throw new IllegalArgumentException("negative length: value=" + value);
        }
        int count = 1;
        for (int bound = 10; count < MAX_DIGITS && value >= bound; bound *= 10)
        {
            count++;
        }
        return count;
    }
}
