package dev.agentwire.server.cluster;

import io.lettuce.core.pubsub.PubSubCommandHandler;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads the sharded-channel messages of a subscription connection straight off its bytes, before Lettuce does.
 * <p>
 * Why: a cluster node receives one {@code smessage} push per event it delivers. Lettuce decodes each into a list,
 * copies it, makes the channel a String and looks its type up by name: a fifth of a cluster node's CPU samples
 * (benchmarks/README.md, "Where a cluster node's CPU goes"). Here a push is recognised by its fixed first bytes, its
 * channel and message are located in place, and {@link ChannelMessageSink} is handed their positions. Every other
 * frame (subscribe confirmations, {@code sunsubscribe} when a slot moves, command replies, errors) is passed on to
 * Lettuce unchanged and in order, so its subscription state, reconnects and slot map handling stay its own.
 * <p>
 * The handler sits in front of Lettuce's {@link PubSubCommandHandler} ({@link #installOn}); connections for
 * commands are left alone. It frames RESP3 by its lengths only (the types Redis sends). A frame it cannot frame
 * (a streamed aggregate, a malformed length) turns it into a pass-through for the rest of the connection's life,
 * counted ({@code agentwire_cluster_feed_unframed_total}): Lettuce then reads those bytes as it would without this
 * handler and hands their messages to the feed's listener, slower, and nothing is lost.
 * <p>
 * Threading: one instance per channel, called on its event loop only.
 */
final class ChannelMessageHandler extends ChannelInboundHandlerAdapter
{
    /** Where decoded messages go: called on the connection's event loop, must not block. */
    interface ChannelMessageSink
    {
        /**
         * @param buffer        holds the push; valid only during the call.
         * @param channelAt     where the channel's name starts in {@code buffer}.
         * @param channelLength the name's length in bytes.
         * @param messageAt     where the message starts.
         * @param messageLength the message's length in bytes.
         */
        void onMessage(ByteBuf buffer, int channelAt, int channelLength, int messageAt, int messageLength);
    }

    /** A sharded channel message's first bytes: a 3-element push whose first element is "smessage". */
    private static final byte[] SMESSAGE =
        ">3\r\n$8\r\nsmessage\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final int INCOMPLETE = -1;
    static final int UNFRAMEABLE = -2;
    private static final String NAME = "agentwire-channel-messages";

    private final ChannelMessageSink sink;
    private final LongAdder unframed;
    private ByteBuf cumulation;
    private boolean passThrough;
    /** The parts of the channel message {@link #readChannelMessage} found last. */
    private int channelAt;
    private int channelLength;
    private int messageAt;
    private int messageLength;

    ChannelMessageHandler(final ChannelMessageSink sink, final LongAdder unframed)
    {
        this.sink = sink;
        this.unframed = unframed;
    }

    /**
     * Puts a handler in front of Lettuce's pub/sub handler, if the channel has one (a subscription connection).
     *
     * @return whether the channel is a subscription connection and now has the handler.
     */
    static boolean installOn(final Channel channel, final ChannelMessageSink sink, final LongAdder unframed)
    {
        for (final Map.Entry<String, ChannelHandler> handler : channel.pipeline())
        {
            if (handler.getValue() instanceof PubSubCommandHandler)
            {
                channel.pipeline().addBefore(handler.getKey(), NAME, new ChannelMessageHandler(sink, unframed));
                return true;
            }
        }
        return false;
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (passThrough || !(msg instanceof ByteBuf))
        {
            ctx.fireChannelRead(msg);
            return;
        }
        final ByteBuf in = cumulation == null ? (ByteBuf)msg :
            ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), cumulation, (ByteBuf)msg);
        cumulation = null;
        int passFrom = in.readerIndex();
        int at = passFrom;
        final int limit = in.writerIndex();
        while (at < limit)
        {
            final int end = frameEnd(in, at, limit);
            if (end == INCOMPLETE)
            {
                break;
            }
            if (end == UNFRAMEABLE)
            {
                passThrough = true;
                unframed.increment();
                at = limit;
                break;
            }
            if (readChannelMessage(in, at))
            {
                if (at > passFrom)
                {
                    ctx.fireChannelRead(in.retainedSlice(passFrom, at - passFrom));
                }
                sink.onMessage(in, channelAt, channelLength, messageAt, messageLength);
                passFrom = end;
            }
            at = end;
        }
        if (at > passFrom)
        {
            ctx.fireChannelRead(in.retainedSlice(passFrom, at - passFrom));
        }
        if (at < limit)
        {
            // A frame not yet whole: keep it for the next read.
            in.readerIndex(at);
            cumulation = in;
        }
        else
        {
            in.release();
        }
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) throws Exception
    {
        // What is left of a connection that closed is no frame of the next one.
        if (cumulation != null)
        {
            cumulation.release();
            cumulation = null;
        }
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        if (cumulation != null)
        {
            cumulation.release();
            cumulation = null;
        }
    }

    /**
     * Locates the parts of the (whole) frame at {@code at} if it is a sharded channel message whose channel and
     * message are both blob strings, in {@link #channelAt}, {@link #channelLength}, {@link #messageAt} and
     * {@link #messageLength}.
     *
     * @return whether it is one; any other frame is Lettuce's.
     */
    private boolean readChannelMessage(final ByteBuf in, final int at)
    {
        for (int i = 0; i < SMESSAGE.length; i++)
        {
            if (in.getByte(at + i) != SMESSAGE[i])
            {
                return false;
            }
        }
        final int channelHeaderAt = at + SMESSAGE.length;
        if (in.getByte(channelHeaderAt) != '$')
        {
            return false;
        }
        final int limit = in.writerIndex();
        final int channelLineEnd = lineEnd(in, channelHeaderAt, limit);
        final long channel = readLength(in, channelHeaderAt + 1, channelLineEnd - 1);
        if (channel < 0)
        {
            return false;
        }
        final int messageHeaderAt = channelLineEnd + 1 + (int)channel + 2;
        if (in.getByte(messageHeaderAt) != '$')
        {
            return false;
        }
        final int messageLineEnd = lineEnd(in, messageHeaderAt, limit);
        final long message = readLength(in, messageHeaderAt + 1, messageLineEnd - 1);
        if (message < 0)
        {
            return false;
        }
        channelAt = channelLineEnd + 1;
        channelLength = (int)channel;
        messageAt = messageLineEnd + 1;
        messageLength = (int)message;
        return true;
    }

    /**
     * @return where the RESP3 frame starting at {@code at} ends (exclusive), {@link #INCOMPLETE} when its bytes
     *     have not all arrived, or {@link #UNFRAMEABLE}.
     */
    static int frameEnd(final ByteBuf in, final int at, final int limit)
    {
        long pending = 1;
        int p = at;
        while (pending > 0)
        {
            if (p >= limit)
            {
                return INCOMPLETE;
            }
            final byte type = in.getByte(p);
            final int lineEnd = lineEnd(in, p + 1, limit);
            if (lineEnd == INCOMPLETE)
            {
                return INCOMPLETE;
            }
            if (lineEnd - 1 < p + 1 || in.getByte(lineEnd - 1) != '\r')
            {
                return UNFRAMEABLE;
            }
            pending--;
            switch (type)
            {
                case '+', '-', ':', '_', ',', '#', '(' -> p = lineEnd + 1;
                case '$', '=', '!' ->
                {
                    final long length = readLength(in, p + 1, lineEnd - 1);
                    if (length < -1)
                    {
                        return UNFRAMEABLE;
                    }
                    final long end = length == -1 ? lineEnd + 1 : (long)lineEnd + 1 + length + 2;
                    if (end > limit)
                    {
                        return INCOMPLETE;
                    }
                    p = (int)end;
                }
                case '*', '>', '~', '%', '|' ->
                {
                    final long count = readLength(in, p + 1, lineEnd - 1);
                    if (count < -1)
                    {
                        return UNFRAMEABLE;
                    }
                    if (count > 0)
                    {
                        // A map's and an attribute's entries are pairs; an attribute is followed by the value it
                        // describes.
                        pending += type == '%' ? 2 * count : type == '|' ? 2 * count + 1 : count;
                    }
                    p = lineEnd + 1;
                }
                default ->
                {
                    return UNFRAMEABLE;
                }
            }
        }
        return p;
    }

    /** @return the index of the next '\n' from {@code from}, or {@link #INCOMPLETE}. */
    private static int lineEnd(final ByteBuf in, final int from, final int limit)
    {
        final int found = in.indexOf(from, limit, (byte)'\n');
        return found < 0 ? INCOMPLETE : found;
    }

    /** @return the decimal number in [from, to), -1 for "-1", or {@link #UNFRAMEABLE} for anything else. */
    private static long readLength(final ByteBuf in, final int from, final int to)
    {
        if (to - from == 2 && in.getByte(from) == '-' && in.getByte(from + 1) == '1')
        {
            return -1;
        }
        if (to <= from || to - from > 18)
        {
            return UNFRAMEABLE;
        }
        long value = 0;
        for (int i = from; i < to; i++)
        {
            final int digit = in.getByte(i) - '0';
            if (digit < 0 || digit > 9)
            {
                return UNFRAMEABLE;
            }
            value = value * 10 + digit;
        }
        return value;
    }
}
