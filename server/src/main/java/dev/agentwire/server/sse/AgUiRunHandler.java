package dev.agentwire.server.sse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.AgentWire;
import dev.agentwire.core.Subscription;
import dev.agentwire.server.auth.Principal;
import dev.agentwire.server.http.BodyReader;
import dev.agentwire.server.http.ClientAddress;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.ops.ServerMetrics;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.user.ConnectionRegistry;
import dev.agentwire.server.user.UserAdmission;
import dev.agentwire.server.user.UserSocketSettings;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.PathTemplateMatch;
import io.undertow.util.SameThreadExecutor;

import java.io.IOException;

/**
 * AG-UI's HTTP agent endpoint, for any AG-UI front end as it is (the stock {@code HttpAgent} of {@code @ag-ui/client},
 * CopilotKit): docs/AG-UI.md, "The HTTP agent endpoint".
 * <ul>
 *   <li>{@code POST /v1/ag-ui/run}: a {@code RunAgentInput} with the user's token ({@code Authorization: Bearer});
 *   the whole input goes to the thread's agent runtime (as a {@code user_message} whose {@code data.input} is the
 *   input, routed as a user's message is), and the answer is {@code text/event-stream} with that run's AG-UI events
 *   as they are sequenced, until its end. No runtime: a {@code RUN_ERROR}.</li>
 *   <li>{@code GET /v1/ag-ui/runs/{runId}} with {@code Last-Event-ID}: the run's stream again from after that id
 *   (from history, then live): no gap, no duplicate; a cursor history no longer covers is told
 *   ({@code CUSTOM agentwire.resumed} with {@code recovered: false}). Without it, the run from the start of history.
 *   The token may also come as {@code ?access_token=} (an {@code EventSource} cannot set headers).</li>
 *   <li>{@code POST /v1/ag-ui/runs/{runId}/cancel}: an explicit cancel to the runtime. A dropped stream is not
 *   one.</li>
 * </ul>
 * The same Origin check, token rules and connection caps as the user sockets: a stream counts as one connection of
 * the user (and of its address) while open. A dropped stream never cancels the run.
 */
public final class AgUiRunHandler implements HttpHandler
{
    /** Longest runId and threadId taken (as AG-UI's own ids in native ingest). */
    static final int MAX_ID_LENGTH = 256;
    private static final HttpString LAST_EVENT_ID = new HttpString("Last-Event-ID");
    /** {@code POST /v1/ag-ui/runs/{runId}/cancel}. */
    private static final String CANCEL_SUFFIX = "/cancel";
    private static final Runnable NOTHING = () -> { };

    private final AgentWire engine;
    private final UserAdmission admission;
    private final InboundRouter router;
    private final ConnectionRegistry registry;
    private final ServerMetrics metrics;
    private final UserSocketSettings settings;
    private final int maxBodyBytes;
    private final long runStartTimeoutMs;

    /**
     * @param engine       the engine the run's user is subscribed to.
     * @param admission    the Origin and token checks of every user request.
     * @param router       takes the input to an agent runtime.
     * @param registry     the connection caps and connect rates a stream counts against.
     * @param metrics      the server's counters.
     * @param settings     Origins and trusted proxies, as for user sockets.
     * @param maxBodyBytes largest {@code RunAgentInput} taken (413 above).
     * @param runStartTimeoutMs how long a run's stream waits for its first event once a runtime took the input, then
     *                     ends with {@code RUN_ERROR} {@code run_start_timeout}; 0: no limit.
     */
    public AgUiRunHandler(final AgentWire engine, final UserAdmission admission, final InboundRouter router,
        final ConnectionRegistry registry, final ServerMetrics metrics, final UserSocketSettings settings,
        final int maxBodyBytes, final long runStartTimeoutMs)
    {
        this.engine = engine;
        this.admission = admission;
        this.router = router;
        this.registry = registry;
        this.metrics = metrics;
        this.settings = settings;
        this.maxBodyBytes = maxBodyBytes;
        this.runStartTimeoutMs = runStartTimeoutMs;
    }

    @Override
    public void handleRequest(final HttpServerExchange exchange)
    {
        final boolean run = Methods.POST.equals(exchange.getRequestMethod());
        if (!run && !Methods.GET.equals(exchange.getRequestMethod()))
        {
            Http.error(exchange, 405, "method_not_allowed", "POST /v1/ag-ui/run, GET /v1/ag-ui/runs/{runId}");
            return;
        }
        // The token may come in the query only for the reconnect (an EventSource cannot set headers).
        final Principal principal = admission.admit(exchange, !run);
        if (principal == null)
        {
            return;
        }
        if (!engine.isRunning())
        {
            Http.error(exchange, 503, "shutting_down", "the server is shutting down");
            return;
        }
        if (run && exchange.getRequestPath().endsWith(CANCEL_SUFFIX))
        {
            onCancel(exchange, principal);
        }
        else if (run)
        {
            BodyReader.read(exchange, maxBodyBytes, (ex, body, length) -> onInput(ex, principal, body, length),
                AgUiRunHandler::onBodyFailure);
        }
        else
        {
            onReconnect(exchange, principal);
        }
    }

    private static void onBodyFailure(final HttpServerExchange exchange, final int failure)
    {
        if (failure == BodyReader.TOO_LARGE)
        {
            Http.error(exchange, 413, "too_large", "the RunAgentInput is over the body bound");
        }
        else
        {
            Http.error(exchange, 400, "bad_request", "body could not be read");
        }
    }

    /** {@code POST /v1/ag-ui/run}: checks the input, follows the user's stream, then hands the input over. */
    private void onInput(final HttpServerExchange exchange, final Principal principal, final byte[] body,
        final int length)
    {
        final JsonNode input;
        try
        {
            input = Json.MAPPER.readTree(body, 0, length);
        }
        catch (final IOException ex)
        {
            Http.error(exchange, 400, "bad_request", "body is not JSON: " + ex.getMessage());
            return;
        }
        final String invalid = invalidInput(input);
        if (invalid != null)
        {
            Http.error(exchange, 400, "bad_request", invalid);
            return;
        }
        final String remoteIp = ClientAddress.of(exchange, settings.trustedProxies());
        if (!openSlot(exchange, principal.userId, remoteIp))
        {
            return;
        }
        final String runId = input.get("runId").asText();
        final String threadId = input.get("threadId").asText();
        exchange.dispatch(SameThreadExecutor.INSTANCE, NOTHING);
        final AgUiRunStream stream = new AgUiRunStream(exchange, runId, 0, 0, -1, false, runStartTimeoutMs,
            () -> registry.closeStream(principal.userId, remoteIp));
        // Following the stream first: the runtime's first event cannot come before the subscription.
        final Subscription subscription = engine.subscribe(principal.userId, stream.listener);
        final ObjectNode message = Http.object().put("type", "user_message").put("thread_id", threadId)
            .put("run_id", runId);
        message.putObject("data").put("text", lastUserText(input)).set("input", input);
        router.submit(principal.userId, "user_message", message, message.toString(), exchange.getIoThread(),
            (routed, code, why) ->
            {
                if (routed == InboundRouter.DELIVERED)
                {
                    stream.start(subscription);
                    return;
                }
                // Refused (an interrupt rule, no runtime): the run never starts, and the stream says why.
                subscription.close();
                registry.closeStream(principal.userId, remoteIp);
                stream.failRun(Http.object().put("type", "RUN_ERROR").put("message", why).put("code", code));
            });
    }

    /**
     * {@code POST /v1/ag-ui/runs/{runId}/cancel}: an explicit cancel, to the runtime as its own message (as a user
     * socket's {@code cancel}); the runtime ends the run ({@code RUN_FINISHED} cancelled, or what it decides). 202
     * when a runtime took it (on a cluster: when the cluster holds it for a runtime on another node), else the
     * router's refusal (503 {@code no_agent} / {@code agent_busy} / {@code agent_error} / {@code unavailable} /
     * {@code outcome_unknown}). Not a stream: no connection slot is held.
     */
    private void onCancel(final HttpServerExchange exchange, final Principal principal)
    {
        final String runId = exchange.getAttachment(PathTemplateMatch.ATTACHMENT_KEY).getParameters().get("runId");
        if (runId == null || runId.isEmpty() || runId.length() > MAX_ID_LENGTH)
        {
            Http.error(exchange, 400, "bad_request", "runId must be 1.." + MAX_ID_LENGTH + " characters");
            return;
        }
        final ObjectNode message = Http.object().put("type", "cancel").put("run_id", runId);
        // Answered once routed (on this I/O thread): at once here, or once the cluster took it for another node.
        exchange.dispatch(SameThreadExecutor.INSTANCE, NOTHING);
        router.submit(principal.userId, "cancel", message, message.toString(), exchange.getIoThread(),
            (routed, code, why) ->
            {
                if (routed == InboundRouter.DELIVERED)
                {
                    Http.json(exchange, 202, Http.object().put("cancel", "delivered").put("run_id", runId));
                    return;
                }
                Http.error(exchange, 503, code, why);
            });
    }

    /** {@code GET /v1/ag-ui/runs/{runId}}: the run's stream again, after the client's last event id. */
    private void onReconnect(final HttpServerExchange exchange, final Principal principal)
    {
        final String runId = exchange.getAttachment(PathTemplateMatch.ATTACHMENT_KEY).getParameters().get("runId");
        if (runId == null || runId.isEmpty() || runId.length() > MAX_ID_LENGTH)
        {
            Http.error(exchange, 400, "bad_request", "runId must be 1.." + MAX_ID_LENGTH + " characters");
            return;
        }
        String lastId = exchange.getRequestHeaders().getFirst(LAST_EVENT_ID);
        if (lastId == null)
        {
            lastId = Http.query(exchange, "lastEventId");
        }
        long epoch = 0;
        long seq = 0;
        int part = -1;
        if (lastId != null && !lastId.isEmpty())
        {
            final String[] fields = lastId.split(":", -1);
            try
            {
                if (fields.length != 3)
                {
                    throw new NumberFormatException(lastId);
                }
                epoch = Long.parseLong(fields[0]);
                seq = Long.parseLong(fields[1]);
                part = Integer.parseInt(fields[2]);
            }
            catch (final NumberFormatException ex)
            {
                Http.error(exchange, 400, "bad_request", "Last-Event-ID must be <epoch>:<seq>:<part>, as sent");
                return;
            }
            if (seq < 1 || part < 0)
            {
                Http.error(exchange, 400, "bad_request", "Last-Event-ID has seq >= 1 and part >= 0");
                return;
            }
        }
        final String remoteIp = ClientAddress.of(exchange, settings.trustedProxies());
        if (!openSlot(exchange, principal.userId, remoteIp))
        {
            return;
        }
        exchange.dispatch(SameThreadExecutor.INSTANCE, NOTHING);
        final boolean resuming = lastId != null && !lastId.isEmpty();
        final AgUiRunStream stream = new AgUiRunStream(exchange, runId, epoch, seq, part, resuming, 0,
            () -> registry.closeStream(principal.userId, remoteIp));
        // The group of the cursor's seq again (its later parts may be missing), or the whole history.
        stream.start(engine.subscribe(principal.userId, stream.listener, epoch, resuming ? seq - 1 : 0));
    }

    private boolean openSlot(final HttpServerExchange exchange, final String userId, final String remoteIp)
    {
        if (registry.tryOpenStream(userId, remoteIp, System.nanoTime()))
        {
            return true;
        }
        metrics.rateLimited("connect");
        exchange.getResponseHeaders().put(Headers.RETRY_AFTER, "1");
        Http.error(exchange, 429, "rate_limited", "the user's connect rate or connection cap is reached");
        return false;
    }

    /**
     * @return what is wrong with a RunAgentInput, or null: the fields AgentWire relies on (the rest is the runtime's).
     */
    static String invalidInput(final JsonNode input)
    {
        if (input == null || !input.isObject())
        {
            return "body must be a RunAgentInput object";
        }
        for (final String field : new String[]{"threadId", "runId"})
        {
            final JsonNode value = input.get(field);
            if (value == null || !value.isTextual() || value.asText().isEmpty() ||
                value.asText().length() > MAX_ID_LENGTH)
            {
                return field + " must be a string of 1.." + MAX_ID_LENGTH + " characters";
            }
        }
        for (final String field : new String[]{"messages", "tools", "context", "resume"})
        {
            final JsonNode value = input.get(field);
            if (value != null && !value.isNull() && !value.isArray())
            {
                return field + " must be an array";
            }
        }
        return null;
    }

    /** @return the text of the input's last user message (for runtimes that read only {@code data.text}), or "". */
    static String lastUserText(final JsonNode input)
    {
        final JsonNode messages = input.path("messages");
        for (int i = messages.size() - 1; i >= 0; i--)
        {
            final JsonNode message = messages.get(i);
            if (!"user".equals(message.path("role").asText()))
            {
                continue;
            }
            final JsonNode content = message.get("content");
            if (content != null && content.isTextual())
            {
                return content.asText();
            }
            final StringBuilder text = new StringBuilder();
            if (content != null && content.isArray())
            {
                for (final JsonNode part : content)
                {
                    if ("text".equals(part.path("type").asText()))
                    {
                        text.append(part.path("text").asText());
                    }
                }
            }
            return text.toString();
        }
        return "";
    }
}
