package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * AG-UI's own code as the judge of what a client received: {@code clients/js/test/validate.mjs} checks every frame
 * with {@code @ag-ui/core}'s schemas and every run with {@code @ag-ui/client}'s {@code verifyEvents}, in Node, with
 * the client package's pinned dependencies (the build installs them before the tests run).
 */
final class AgUiJudge
{
    private static final Path PACKAGE = Path.of("..", "clients", "js").toAbsolutePath().normalize();

    private AgUiJudge()
    {
    }

    /** Fails unless every frame is an AG-UI event and every run in them verifies. */
    static void assertVerifies(final List<JsonNode> frames) throws Exception
    {
        final boolean installed = Files.isDirectory(PACKAGE.resolve("node_modules").resolve("@ag-ui"));
        if (!installed && "true".equals(System.getenv("CI")))
        {
            throw new IllegalStateException("CI must build the client package (npm ci runs in generate-resources)");
        }
        assumeTrue(installed, "clients/js has no node_modules (built with -DskipNpm): AG-UI's validators absent");
        final Process node = new ProcessBuilder("node", "test/validate.mjs")
            .directory(PACKAGE.toFile())
            .redirectErrorStream(true)
            .start();
        try (OutputStream in = node.getOutputStream())
        {
            in.write(Json.MAPPER.writeValueAsBytes(frames));
        }
        assertTrue(node.waitFor(60, TimeUnit.SECONDS), "validate.mjs did not finish");
        final String verdict = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, node.exitValue(), verdict);
    }
}
