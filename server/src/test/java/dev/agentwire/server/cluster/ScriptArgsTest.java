package dev.agentwire.server.cluster;

import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ScriptArgsTest
{
    @Test
    void shouldWriteTheSameBytesAsLettucesOwnEvalShaArguments()
    {
        final Random random = new Random(20261205L);
        for (int round = 0; round < 200; round++)
        {
            final byte[] sha = "0123456789abcdef0123456789abcdef01234567".getBytes(StandardCharsets.US_ASCII);
            final String[] keys = new String[1 + random.nextInt(3)];
            for (int k = 0; k < keys.length; k++)
            {
                keys[k] = "aw:{u:ü-" + random.nextInt(1_000_000) + "}:s";
            }
            // Lengths across every digit count a group commit meets, the empty argument included.
            final byte[][] args = new byte[random.nextInt(130)][];
            for (int a = 0; a < args.length; a++)
            {
                args[a] = new byte[random.nextInt(4) == 0 ? 0 : random.nextInt(random.nextBoolean() ? 12 : 20_000)];
                random.nextBytes(args[a]);
            }
            final CommandArgs<String, byte[]> lettuce = new CommandArgs<>(RedisLink.CODEC)
                .add(sha).add(keys.length).addKeys(keys).addValues(args);
            final ScriptArgs ours = new ScriptArgs(sha, keys, args);

            assertArrayEquals(bytes(lettuce), bytes(ours), "round " + round);
            assertArrayEquals(bytes(ours), bytes(ours), "written again unchanged (a MOVED or ASK redirect)");
            assertEquals(lettuce.count(), ours.count());
            assertEquals(lettuce.getFirstEncodedKey(), ours.getFirstEncodedKey(), "routed by the first key");
        }
        assertNull(new ScriptArgs(new byte[]{'x'}, new String[0], new byte[0][]).getFirstEncodedKey());
    }

    @Test
    void shouldWriteEveryDigitCountOfALength()
    {
        for (final int value : new int[]{0, 9, 10, 99, 100, 12_345, 999_999_999, 1_000_000_000, Integer.MAX_VALUE})
        {
            final ByteBuf buf = Unpooled.buffer();
            ScriptArgs.digits(buf, value);
            assertEquals(Integer.toString(value), buf.toString(StandardCharsets.US_ASCII));
        }
    }

    private static byte[] bytes(final CommandArgs<String, byte[]> args)
    {
        final ByteBuf buf = Unpooled.buffer();
        args.encode(buf);
        final byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        return out;
    }
}
