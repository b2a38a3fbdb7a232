package dev.agentwire.langchain4j;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Writes a run's small payloads ({@code {"text":"…"}} and the like) with one Jackson generator into one growing
 * array, reused for every event: once the array has grown to the largest payload, a token costs no allocation here.
 * Not thread-safe: one per sink, under its lock.
 */
final class PayloadWriter
{
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The reusable output: an array that grows, emptied before each payload. */
    private static final class Output extends OutputStream
    {
        byte[] bytes = new byte[512];
        int length;

        @Override
        public void write(final int b)
        {
            grow(1);
            bytes[length++] = (byte)b;
        }

        @Override
        public void write(final byte[] src, final int offset, final int count)
        {
            grow(count);
            System.arraycopy(src, offset, bytes, length, count);
            length += count;
        }

        private void grow(final int count)
        {
            if (length + count > bytes.length)
            {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + count));
            }
        }
    }

    private final Output out = new Output();
    private final JsonGenerator json;

    PayloadWriter()
    {
        try
        {
            json = new JsonFactory().createGenerator(out);
            json.setRootValueSeparator(null);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** @return this, emptied, with an object opened. */
    PayloadWriter begin()
    {
        out.length = 0;
        try
        {
            json.writeStartObject();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return this;
    }

    PayloadWriter string(final String name, final String value)
    {
        try
        {
            json.writeStringField(name, value == null ? "" : value);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return this;
    }

    PayloadWriter bool(final String name, final boolean value)
    {
        try
        {
            json.writeBooleanField(name, value);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return this;
    }

    /** The model's tool arguments: an object as written, anything else (or malformed) as {@code {}}. */
    PayloadWriter arguments(final String name, final String argumentsJson)
    {
        JsonNode args;
        try
        {
            args = argumentsJson == null || argumentsJson.isBlank() ? null : MAPPER.readTree(argumentsJson);
        }
        catch (final IOException ex)
        {
            args = null;
        }
        try
        {
            json.writeFieldName(name);
            if (args != null && args.isObject())
            {
                MAPPER.writeTree(json, args);
            }
            else
            {
                json.writeStartObject();
                json.writeEndObject();
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return this;
    }

    /** Closes the object and flushes it into the array. @return this. */
    PayloadWriter end()
    {
        try
        {
            json.writeEndObject();
            json.flush();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return this;
    }

    byte[] bytes()
    {
        return out.bytes;
    }

    int length()
    {
        return out.length;
    }
}
