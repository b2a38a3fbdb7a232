package dev.agentwire.server.ingest;

import java.nio.charset.StandardCharsets;

/**
 * A confirming runtime's {@code {"taken":N}}: it took every user's message up to tag N. Read without a JSON parser or
 * an allocation, since a runtime sends one per message it takes; anything else is left to the event parser.
 */
final class TakenFrame
{
    /** {@link #tag}: the frame is not a confirm. */
    static final long NOT_TAKEN = -1;

    private static final byte[] KEY = "\"taken\"".getBytes(StandardCharsets.US_ASCII);
    /** Digits of the largest tag read; more are not a confirm (a tag past any sent is refused by its socket). */
    private static final int MAX_DIGITS = 18;

    private TakenFrame()
    {
    }

    /** @return the tag of a frame that is exactly {@code {"taken":N}} (whitespace aside), else {@link #NOT_TAKEN}. */
    static long tag(final byte[] frame, final int length)
    {
        int at = skipSpace(frame, 0, length);
        if (at >= length || frame[at] != '{')
        {
            return NOT_TAKEN;
        }
        at = skipSpace(frame, at + 1, length);
        if (length - at < KEY.length)
        {
            return NOT_TAKEN;
        }
        for (final byte b : KEY)
        {
            if (frame[at++] != b)
            {
                return NOT_TAKEN;
            }
        }
        at = skipSpace(frame, at, length);
        if (at >= length || frame[at] != ':')
        {
            return NOT_TAKEN;
        }
        at = skipSpace(frame, at + 1, length);
        final int digitsFrom = at;
        long tag = 0;
        while (at < length && frame[at] >= '0' && frame[at] <= '9' && at - digitsFrom < MAX_DIGITS)
        {
            tag = tag * 10 + (frame[at++] - '0');
        }
        if (at == digitsFrom)
        {
            return NOT_TAKEN;
        }
        at = skipSpace(frame, at, length);
        if (at >= length || frame[at] != '}')
        {
            return NOT_TAKEN;
        }
        return skipSpace(frame, at + 1, length) == length ? tag : NOT_TAKEN;
    }

    private static int skipSpace(final byte[] frame, final int from, final int length)
    {
        int at = from;
        while (at < length && (frame[at] == ' ' || frame[at] == '\t' || frame[at] == '\n' || frame[at] == '\r'))
        {
            at++;
        }
        return at;
    }
}
