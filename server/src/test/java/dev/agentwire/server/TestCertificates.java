package dev.agentwire.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A certificate authority of a test's own, a server certificate it signed for 127.0.0.1 (its subject alternative
 * name, which clients verify) and a client certificate it signed (what a node presents to a Redis that asks for one),
 * made with Debian's openssl (.ci/run installs it; without it the test is skipped locally and fails in CI). Each call
 * makes a new authority, so two of them do not trust each other.
 */
final class TestCertificates
{
    /** PEM: the authority's certificate (what a client trusts), and the server's certificate and key. */
    final Path caFile;
    final Path certFile;
    final Path keyFile;
    /** PEM: a client's certificate and its key (PKCS#8, as openssl 3 writes a new key). */
    final Path clientCertFile;
    final Path clientKeyFile;
    private final Path dir;

    private TestCertificates(final Path dir)
    {
        this.dir = dir;
        caFile = dir.resolve("ca.pem");
        certFile = dir.resolve("server.pem");
        keyFile = dir.resolve("server.key");
        clientCertFile = dir.resolve("client.pem");
        clientKeyFile = dir.resolve("client.key");
    }

    static TestCertificates make(final Path dir) throws Exception
    {
        final boolean installed = run(dir.getParent(), List.of("openssl", "version"));
        if (!installed && "true".equals(System.getenv("CI")))
        {
            throw new IllegalStateException("CI must have openssl (.ci/run installs it)");
        }
        assumeTrue(installed, "openssl not installed: apt-get install -y openssl");
        Files.createDirectories(dir);
        final TestCertificates made = new TestCertificates(dir);
        final Path extensions = Files.writeString(dir.resolve("san.cnf"), "subjectAltName=IP:127.0.0.1\n");
        check(dir, List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=agentwire test ca " + dir.getFileName(), "-keyout", made.caKey().toString(),
            "-out", made.caFile.toString()));
        made.sign("127.0.0.1", extensions, made.certFile, made.keyFile);
        made.sign("agentwire-node", null, made.clientCertFile, made.clientKeyFile);
        return made;
    }

    /** Writes a new key and a certificate for it, signed by this authority, to the given files (replaced). */
    void sign(final String commonName, final Path extensions, final Path certOut, final Path keyOut) throws Exception
    {
        final Path request = dir.resolve(commonName + ".csr");
        check(dir, List.of("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + commonName,
            "-keyout", keyOut.toString(), "-out", request.toString()));
        final List<String> command = new ArrayList<>(List.of("openssl", "x509", "-req", "-days", "2", "-in",
            request.toString(), "-CA", caFile.toString(), "-CAkey", caKey().toString(), "-CAcreateserial",
            "-out", certOut.toString()));
        if (extensions != null)
        {
            command.addAll(List.of("-extfile", extensions.toString()));
        }
        check(dir, command);
    }

    private Path caKey()
    {
        return dir.resolve("ca.key");
    }

    private static void check(final Path dir, final List<String> command) throws Exception
    {
        if (!run(dir, command))
        {
            throw new IllegalStateException("openssl failed: command=" + String.join(" ", command) + " log=" +
                Files.readString(dir.resolve("openssl.log")));
        }
    }

    private static boolean run(final Path dir, final List<String> command) throws Exception
    {
        Files.createDirectories(dir);
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("openssl.log").toFile()).start();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        }
        catch (final java.io.IOException notInstalled)
        {
            return false;
        }
    }
}
