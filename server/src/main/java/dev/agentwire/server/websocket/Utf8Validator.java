package dev.agentwire.server.websocket;

import org.agrona.DirectBuffer;

/**
 * Whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), as a
 * text message must be (RFC 6455 section 8.1). Allocates nothing.
 */
final class Utf8Validator
{
    private Utf8Validator()
    {
    }

    static boolean isValid(final DirectBuffer bytes, final int offset, final int length)
    {
        int i = offset;
        final int end = offset + length;
        while (i < end)
        {
            final int b = bytes.getByte(i) & 0xFF;
            if (b < 0x80)
            {
                i++;
                continue;
            }
            final int need;
            final int min;
            int cp;
            if (b >= 0xC2 && b <= 0xDF)
            {
                need = 1;
                min = 0x80;
                cp = b & 0x1F;
            }
            else if (b >= 0xE0 && b <= 0xEF)
            {
                need = 2;
                min = 0x800;
                cp = b & 0x0F;
            }
            else if (b >= 0xF0 && b <= 0xF4)
            {
                need = 3;
                min = 0x10000;
                cp = b & 0x07;
            }
            else
            {
                return false;
            }
            if (i + need >= end)
            {
                return false;
            }
            for (int k = 1; k <= need; k++)
            {
                final int c = bytes.getByte(i + k) & 0xFF;
                if ((c & 0xC0) != 0x80)
                {
                    return false;
                }
                cp = (cp << 6) | (c & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            {
                return false;
            }
            i += need + 1;
        }
        return true;
    }
}
