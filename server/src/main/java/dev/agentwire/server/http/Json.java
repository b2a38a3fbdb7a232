package dev.agentwire.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one JSON configuration of the server: strict parsing with bounded nesting and sizes.
 */
final class Json
{
    static final JsonFactory FACTORY = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxStringLength(16 << 20).build())
        .build();
    static final ObjectMapper MAPPER = new ObjectMapper(FACTORY);

    private Json()
    {
    }
}
