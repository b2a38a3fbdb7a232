package dev.agentwire.server.ingest;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A confirm is exactly {@code {"taken":N}}; every other frame is left to the event parser, which names its fault. */
class TakenFrameTest
{
    @ParameterizedTest
    @ValueSource(strings = {"{\"taken\":17}", " { \"taken\" : 17 } ", "{\"taken\":\n17}\r\n"})
    void shouldReadAConfirm(final String frame)
    {
        assertEquals(17, tag(frame));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "{", "{}", "{\"taken\":}", "{\"taken\":-1}", "{\"taken\":1.5}", "{\"taken\":\"1\"}",
        "{\"taken\":1,\"type\":\"x\"}", "{\"taken\":1}}", "{\"taken\":1", "{\"type\":\"taken\"}", "{\"takenx\":1}",
        "{\"taken\":1234567890123456789}", "[{\"taken\":1}]"})
    void shouldLeaveEveryOtherFrameToTheEventParser(final String frame)
    {
        assertEquals(TakenFrame.NOT_TAKEN, tag(frame));
    }

    private static long tag(final String frame)
    {
        final byte[] bytes = ("padding" + frame).getBytes(StandardCharsets.UTF_8);
        final byte[] exact = new byte[bytes.length + 8];
        System.arraycopy(bytes, 7, exact, 0, bytes.length - 7);
        return TakenFrame.tag(exact, bytes.length - 7); // bytes past the length are not the frame's
    }
}
