package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.demo.DemoMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The demo agent over a real socket: its calculator computes what the person asked. */
@Timeout(60)
class DemoAgentTest
{
    private AgentWireServer server;
    private WsClient user;

    @AfterEach
    void tearDown()
    {
        if (user != null)
        {
            user.close();
        }
        if (server != null)
        {
            server.close();
        }
    }

    @Test
    void shouldAnswerAnArithmeticQuestionWithItsCalculatorsValue() throws Exception
    {
        final String secret = DemoMode.randomSecret();
        server = AgentWireServer.start(ServerConfig.builder().host("127.0.0.1").port(0).ioThreads(1)
            .jwtSecret(secret).producerKey(DemoMode.randomSecret())
            .engine(AgentWireConfig.builder().sliceCount(1).build()).build(), true);
        user = WsClient.connect(URI.create("ws://127.0.0.1:" + server.port() + "/v1/ws"),
            Tokens.hs256(secret, "asker"));
        user.nextOfType("welcome", 10_000);
        user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"What is 17*23?\"}}");
        final List<JsonNode> run = new ArrayList<>();
        while (run.isEmpty() || !"agent_completed".equals(run.get(run.size() - 1).get("type").asText()))
        {
            run.addAll(user.collect(WsClient::isEvent, 1, 30_000));
        }
        final JsonNode call = run.stream().filter(e -> "tool_executing".equals(e.get("type").asText()))
            .findFirst().orElseThrow();
        assertEquals("calculator", call.get("data").get("tool").asText());
        assertEquals("17*23", call.get("data").get("args").get("expression").asText());
        final JsonNode result = run.stream().filter(e -> "tool_completed".equals(e.get("type").asText()))
            .findFirst().orElseThrow();
        assertEquals("391", result.get("data").get("result").asText());
        assertEquals("17*23 = 391", run.get(run.size() - 1).get("data").get("result").asText());
    }
}
