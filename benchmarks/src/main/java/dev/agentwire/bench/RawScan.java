package dev.agentwire.bench;

import java.nio.charset.StandardCharsets;

/**
 * The raw floor's byte scanning: fields of the published JSON and of HTTP request heads found by bytes, without a
 * parser (the floor must cost nothing a real server would not). Stateless.
 */
final class RawScan
{
    private RawScan()
    {
    }

    static String stringField(final byte[] body, final int from, final int to, final String name)
    {
        final int at = indexOf(body, from, to, name.getBytes(StandardCharsets.US_ASCII));
        if (at < 0)
        {
            return null;
        }
        final int start = at + name.length();
        final int end = indexOf(body, start, to, '"');
        return new String(body, start, end - start, StandardCharsets.UTF_8);
    }

    /** The index of the brace closing the one at {@code open}, strings skipped. */
    static int matchingBrace(final byte[] body, final int open, final int to)
    {
        int depth = 0;
        boolean inString = false;
        for (int i = open; i < to; i++)
        {
            final byte b = body[i];
            if (inString)
            {
                if (b == '\\')
                {
                    i++;
                }
                else if (b == '"')
                {
                    inString = false;
                }
            }
            else if (b == '"')
            {
                inString = true;
            }
            else if (b == '{')
            {
                depth++;
            }
            else if (b == '}' && --depth == 0)
            {
                return i;
            }
        }
        return to - 1;
    }

    static int indexOf(final byte[] bytes, final int from, final int to, final int b)
    {
        for (int i = from; i < to; i++)
        {
            if (bytes[i] == b)
            {
                return i;
            }
        }
        return -1;
    }

    static int indexOf(final byte[] bytes, final int from, final int to, final byte[] what)
    {
        outer:
        for (int i = from; i <= to - what.length; i++)
        {
            for (int j = 0; j < what.length; j++)
            {
                if (bytes[i + j] != what[j])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static long headerValue(final String head, final String name, final long fallback)
    {
        final String text = headerText(head, name);
        return text == null ? fallback : Long.parseLong(text.trim());
    }

    static String headerText(final String head, final String name)
    {
        for (final String line : head.split("\r\n"))
        {
            final int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name))
            {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }
}
