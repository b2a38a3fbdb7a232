package dev.agentwire.producer;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/** {@code POST /v1/events} (a batch per request) and {@code POST /v1/ag-ui/events}, on the JDK's HTTP client. */
final class HttpTransport implements Transport
{
    private final HttpClient http;
    private final URI events;
    private final URI agUiEvents;
    private final String authorization;
    private final Duration timeout;

    HttpTransport(final ProducerConfig config)
    {
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(config.timeoutMs))
            .version(HttpClient.Version.HTTP_1_1).build();
        this.events = config.url.resolve("/v1/events");
        this.agUiEvents = config.url.resolve("/v1/ag-ui/events");
        this.authorization = "Bearer " + config.producerKey;
        this.timeout = Duration.ofMillis(config.timeoutMs);
    }

    @Override
    public List<Answers.Outcome> send(final List<String> ids, final List<byte[]> encoded) throws InterruptedException
    {
        final ByteArrayOutputStream body = new ByteArrayOutputStream(encoded.size() * 256);
        body.write('[');
        for (int i = 0; i < encoded.size(); i++)
        {
            if (i > 0)
            {
                body.write(',');
            }
            body.writeBytes(encoded.get(i));
        }
        body.write(']');
        final HttpResponse<byte[]> response = post(events, body.toByteArray());
        return Answers.http(ids, response.statusCode(), json(response.body()), retryAfterMs(response));
    }

    /** @return the status and the parsed answer of a native AG-UI batch. */
    HttpResponse<byte[]> postAgUi(final byte[] body) throws InterruptedException
    {
        return post(agUiEvents, body);
    }

    private HttpResponse<byte[]> post(final URI uri, final byte[] body) throws InterruptedException
    {
        try
        {
            return http.send(HttpRequest.newBuilder(uri).timeout(timeout).header("Authorization", authorization)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        }
        catch (final IOException ex)
        {
            // Cut, refused or timed out: the outcome is unknown; the pipeline sends it again with the same ids.
            throw new AgentWireException.Network(ex.getClass().getSimpleName() + ": " + ex.getMessage());
        }
    }

    static JsonNode json(final byte[] body)
    {
        try
        {
            return body.length == 0 ? ProducerEvent.MAPPER.createObjectNode() : ProducerEvent.MAPPER.readTree(body);
        }
        catch (final IOException ex)
        {
            return ProducerEvent.MAPPER.createObjectNode();
        }
    }

    static long retryAfterMs(final HttpResponse<?> response)
    {
        try
        {
            return response.headers().firstValue("Retry-After").map(s -> (long)(Double.parseDouble(s) * 1000))
                .orElse(0L);
        }
        catch (final NumberFormatException ex)
        {
            return 0;
        }
    }

    @Override
    public void close()
    {
        // The JDK's client holds no resources that outlive its connections' idle timeout.
    }
}
