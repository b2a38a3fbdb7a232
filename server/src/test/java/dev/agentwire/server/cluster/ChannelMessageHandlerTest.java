package dev.agentwire.server.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link ChannelMessageHandler} against RESP3 bytes as Redis sends them, cut at every place a read can cut them:
 * the sharded channel messages come out with their channel and message exact, and every other frame reaches the
 * next handler (Lettuce's) byte for byte and in order.
 */
final class ChannelMessageHandlerTest
{
    /** Frames the handler must pass on: every RESP3 type Redis sends, and pushes that are not channel messages. */
    private static final String[] PASSED = {
        ">3\r\n$10\r\nssubscribe\r\n$12\r\naw:{u:alice}\r\n:1\r\n",
        "+OK\r\n",
        "-ERR unknown command\r\n",
        ":12\r\n",
        "_\r\n",
        ",1.5\r\n",
        "#t\r\n",
        "(12345678901234567890\r\n",
        "$-1\r\n",
        "$0\r\n\r\n",
        "=15\r\ntxt:some string\r\n",
        "!3\r\nerr\r\n",
        "*2\r\n$1\r\na\r\n*1\r\n:1\r\n",
        "*-1\r\n",
        "*0\r\n",
        "%1\r\n+k\r\n$2\r\nv\n\r\n",
        "~2\r\n+x\r\n+y\r\n",
        "|1\r\n+key\r\n+value\r\n:7\r\n",
        ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n",
        ">3\r\n$8\r\nsmessage\r\n$1\r\nc\r\n:5\r\n",
        ">3\r\n$8\r\nsmessage\r\n$1\r\nc\r\n$-1\r\n",
        ">3\r\n$12\r\nsunsubscribe\r\n$12\r\naw:{u:alice}\r\n:0\r\n",
    };

    private record Message(String channel, String message)
    {
    }

    private static String smessage(final String channel, final String message)
    {
        return ">3\r\n$8\r\nsmessage\r\n$" + channel.getBytes(StandardCharsets.UTF_8).length + "\r\n" + channel +
            "\r\n$" + message.getBytes(StandardCharsets.UTF_8).length + "\r\n" + message + "\r\n";
    }

    /** What one run of bytes through the handler gave: the messages taken, and the bytes passed on. */
    private static final class Outcome
    {
        final List<Message> messages = new ArrayList<>();
        final ByteArrayOutputStream passed = new ByteArrayOutputStream();
        final LongAdder unframed = new LongAdder();
    }

    private static Outcome run(final byte[] bytes, final int[] cuts)
    {
        final Outcome outcome = new Outcome();
        final EmbeddedChannel channel = new EmbeddedChannel(new ChannelMessageHandler((buffer, channelAt, channelLength,
            messageAt, messageLength) -> outcome.messages.add(new Message(
            buffer.toString(channelAt, channelLength, StandardCharsets.UTF_8),
            buffer.toString(messageAt, messageLength, StandardCharsets.UTF_8))), outcome.unframed));
        final List<ByteBuf> written = new ArrayList<>();
        int from = 0;
        for (final int cut : cuts)
        {
            final ByteBuf chunk = Unpooled.copiedBuffer(bytes, from, cut - from);
            written.add(chunk);
            channel.writeInbound(chunk);
            from = cut;
        }
        ByteBuf out;
        while ((out = channel.readInbound()) != null)
        {
            final byte[] passed = new byte[out.readableBytes()];
            out.readBytes(passed);
            outcome.passed.writeBytes(passed);
            out.release();
        }
        channel.finishAndReleaseAll();
        for (final ByteBuf chunk : written)
        {
            assertEquals(0, chunk.refCnt(), "a read's buffer was not released");
        }
        return outcome;
    }

    private static int[] whole(final byte[] bytes)
    {
        return new int[] {bytes.length};
    }

    private static int[] byteByByte(final byte[] bytes)
    {
        final int[] cuts = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++)
        {
            cuts[i] = i + 1;
        }
        return cuts;
    }

    private static int[] randomCuts(final byte[] bytes, final Random random)
    {
        final List<Integer> cuts = new ArrayList<>();
        int at = 0;
        while (at < bytes.length)
        {
            at = Math.min(bytes.length, at + 1 + random.nextInt(40));
            cuts.add(at);
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void shouldTakeChannelMessagesAndPassEveryOtherFrameOnInOrderWhereverTheReadsCut()
    {
        final StringBuilder stream = new StringBuilder();
        final StringBuilder expectedPassed = new StringBuilder();
        final List<Message> expected = new ArrayList<>();
        for (int i = 0; i < PASSED.length; i++)
        {
            stream.append(PASSED[i]);
            expectedPassed.append(PASSED[i]);
            // A message's bytes may hold CR LF, '$' and digits: they are read by length, never scanned.
            final Message message = new Message("aw:{u:user-" + i + "}", "e17:" + i + ":{\"data\":\"a\r\n$5\r\nb\"}é");
            expected.add(message);
            stream.append(smessage(message.channel(), message.message()));
        }
        final byte[] bytes = stream.toString().getBytes(StandardCharsets.UTF_8);
        final Random random = new Random(20261204L);
        final List<int[]> cuttings = new ArrayList<>(List.of(whole(bytes), byteByByte(bytes)));
        for (int i = 0; i < 200; i++)
        {
            cuttings.add(randomCuts(bytes, random));
        }
        for (final int[] cuts : cuttings)
        {
            final Outcome outcome = run(bytes, cuts);
            assertEquals(expected, outcome.messages, "reads cut at " + cuts.length + " places");
            assertEquals(expectedPassed.toString(), outcome.passed.toString(StandardCharsets.UTF_8));
            assertEquals(0, outcome.unframed.sum());
        }
    }

    @Test
    void shouldPassEverythingOnFromTheFirstFrameItCannotFrame()
    {
        final String before = smessage("aw:{u:a}", "e1:1:x") + "+OK\r\n";
        final String after = "?streamed\r\n" + smessage("aw:{u:b}", "e1:2:y") + ":1\r\n";
        final byte[] bytes = (before + after).getBytes(StandardCharsets.UTF_8);
        for (final int[] cuts : List.of(whole(bytes), byteByByte(bytes)))
        {
            final Outcome outcome = run(bytes, cuts);
            assertEquals(List.of(new Message("aw:{u:a}", "e1:1:x")), outcome.messages);
            assertEquals("+OK\r\n" + after, outcome.passed.toString(StandardCharsets.UTF_8));
            assertEquals(1, outcome.unframed.sum());
        }
    }

    @Test
    void shouldFrameBadLengthsAsUnframeable()
    {
        for (final String bad : List.of("$x\r\nab\r\n", "*-2\r\n", "$\r\n", ":1\n", "$1234567890123456789\r\n"))
        {
            final ByteBuf buffer = Unpooled.copiedBuffer(bad, StandardCharsets.US_ASCII);
            assertEquals(ChannelMessageHandler.UNFRAMEABLE,
                ChannelMessageHandler.frameEnd(buffer, 0, buffer.writerIndex()), bad);
            buffer.release();
        }
    }
}
