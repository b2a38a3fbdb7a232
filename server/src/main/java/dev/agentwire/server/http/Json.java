package dev.agentwire.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one JSON configuration of the server: strict parsing with bounded nesting and sizes.
 */
public final class Json
{
    /** Streaming parsers and generators: nesting bounded at 64, strings at 16 MiB. */
    public static final JsonFactory FACTORY = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxStringLength(16 << 20).build())
        .build();
    /** Trees over the same factory. */
    public static final ObjectMapper MAPPER = new ObjectMapper(FACTORY);

    private Json()
    {
    }
}
