package dev.agentwire.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;

import java.io.IOException;

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

    /** Where {@link #readExact} keeps numbers as their source text. */
    public enum Numbers
    {
        /** Every number in the document. */
        EVERYWHERE,
        /** Only inside the top-level {@code data} member (an event envelope: its seq and epoch stay numeric). */
        IN_DATA
    }

    private Json()
    {
    }

    /**
     * Reads a tree whose numbers are kept as the bytes they were sent as: written back (with {@code writeTree} or
     * {@code toString}) they come out byte for byte, so {@code 1e400}, {@code 0.30000000000000000001} and
     * {@code -0.0} pass through unchanged. Jackson's own trees turn them into doubles ({@code "Infinity"},
     * {@code 0.3}, {@code 0.0}), which broke the promise that data is passed through as sent. A kept number reads as
     * a {@link RawValue} (not numeric) from the tree: use it only for fields the server passes on, not ones it
     * computes with. Duplicate keys are refused, as the ingest parser refuses them.
     *
     * @return the tree, or null for an empty input.
     * @throws IOException not JSON, or a duplicate key.
     */
    public static JsonNode readExact(final byte[] bytes, final int offset, final int length, final Numbers numbers)
        throws IOException
    {
        try (JsonParser p = FACTORY.createParser(bytes, offset, length))
        {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            final JsonToken first = p.nextToken();
            if (first == null)
            {
                return null;
            }
            final JsonNode root = value(p, first, numbers == Numbers.EVERYWHERE, numbers == Numbers.IN_DATA);
            if (p.nextToken() != null)
            {
                throw new IOException("trailing content after the JSON value");
            }
            return root;
        }
    }

    /**
     * The scalar the parser is on, as a tree node.
     *
     * @param exactNumbers keep a number as its source text ({@link RawValue}), as {@link #readExact} does.
     */
    public static JsonNode scalar(final JsonParser p, final JsonToken token, final boolean exactNumbers)
        throws IOException
    {
        final JsonNodeFactory nodes = JsonNodeFactory.instance;
        switch (token)
        {
            case VALUE_STRING:
                return nodes.textNode(p.getText());
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                if (exactNumbers)
                {
                    return nodes.rawValueNode(new RawValue(p.getText()));
                }
                return token == JsonToken.VALUE_NUMBER_INT ? nodes.numberNode(p.getLongValue()) :
                    nodes.numberNode(p.getDoubleValue());
            case VALUE_TRUE:
                return nodes.booleanNode(true);
            case VALUE_FALSE:
                return nodes.booleanNode(false);
            case VALUE_NULL:
                return nodes.nullNode();
            default:
                throw new IOException("not a scalar: " + token);
        }
    }

    private static JsonNode value(final JsonParser p, final JsonToken token, final boolean raw, final boolean envelope)
        throws IOException
    {
        final JsonNodeFactory nodes = JsonNodeFactory.instance;
        switch (token)
        {
            case START_OBJECT:
            {
                final ObjectNode object = nodes.objectNode();
                for (String name = p.nextFieldName(); name != null; name = p.nextFieldName())
                {
                    final boolean rawInside = raw || (envelope && "data".equals(name));
                    object.set(name, value(p, p.nextToken(), rawInside, false));
                }
                return object;
            }
            case START_ARRAY:
            {
                final ArrayNode array = nodes.arrayNode();
                for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken())
                {
                    array.add(value(p, t, raw, false));
                }
                return array;
            }
            case VALUE_STRING:
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
            case VALUE_TRUE:
            case VALUE_FALSE:
            case VALUE_NULL:
                return scalar(p, token, raw);
            default:
                throw new IOException("unexpected JSON token " + token);
        }
    }
}
