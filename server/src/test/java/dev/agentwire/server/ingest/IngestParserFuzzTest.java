package dev.agentwire.server.ingest;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.agentwire.core.EventDraft;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of the ingest parser, the first code an untrusted body meets. Whatever the bytes, the
 * parser answers with valid drafts or with {@link IngestParser.Invalid} (a 400 naming the problem): any other
 * exception, a hang, or a draft whose data does not lie inside the body is a bug. {@code mvn verify} runs the
 * inputs in {@code src/test/resources/.../IngestParserFuzzTestInputs} and a short fuzzing run; longer:
 * {@code JAZZER_FUZZ=1 mvn -pl server test -Dtest=IngestParserFuzzTest -Djazzer.max_duration=10m}. Every crash
 * found becomes an input there, and so a regression test.
 */
class IngestParserFuzzTest
{
    private static final IngestParser PARSER = new IngestParser(64 * 1024);

    @FuzzTest(maxDuration = "20s")
    void shouldAnswerEveryBodyWithDraftsOrAClearError(final byte[] body)
    {
        try
        {
            final List<EventDraft> drafts = PARSER.parseBody(body, body.length);
            assertTrue(!drafts.isEmpty() && drafts.size() <= IngestParser.MAX_BATCH, "drafts: " + drafts.size());
            for (final EventDraft draft : drafts)
            {
                assertTrue(draft.type() != null, "a draft without a type");
                assertTrue(draft.payloadLength() >= 0 && draft.payloadLength() <= body.length + 2,
                    "data outside the body: " + draft.payloadLength());
            }
        }
        catch (final IngestParser.Invalid expected)
        {
            assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty(), "an error says what");
        }
        try
        {
            PARSER.parseFrame(body, body.length, new String[1]);
        }
        catch (final IngestParser.Invalid expected)
        {
            assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty(), "an error says what");
        }
    }
}
