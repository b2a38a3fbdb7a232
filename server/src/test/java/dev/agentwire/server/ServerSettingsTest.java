package dev.agentwire.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One table of settings: every setting has one flag, one variable and one key, the README's table is the table,
 * and a start with several bad values names them all at once.
 */
class ServerSettingsTest
{
    @Test
    void shouldDocumentEverySettingInTheReadmeAsTheTableStatesIt() throws IOException
    {
        final String readme = Files.readString(Path.of("..", "README.md"));
        final String table = ServerSettings.markdownTable();
        assertTrue(readme.contains(table), "README.md's configuration table must be exactly:\n" + table);
    }

    @Test
    void shouldGiveEverySettingItsOwnFlagVariableAndKey()
    {
        final Set<String> names = new HashSet<>();
        for (final Setting<?> setting : ServerSettings.SETTINGS)
        {
            assertTrue(names.add(setting.key), setting.key);
            assertTrue(names.add(setting.flag), setting.flag);
            assertTrue(names.add(setting.env), setting.env);
            assertEquals(setting.env, SettingsDefaults.keyOf(setting.flag), "the file key is the variable");
            assertTrue(setting.help != null && !setting.help.isBlank(), setting.key + " has help");
        }
    }

    @Test
    void shouldNameEveryBadSettingAtOnce()
    {
        final PrintStream err = System.err;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try
        {
            assertEquals(2, Main.run(Map.of("AGENTWIRE_MAX_BAD_MESSAGES", "zero"), "serve", "--port", "70000",
                "--jwt-secret", "short", "--producer-key", "p".repeat(20), "--ring-size", "1000",
                "--heartbeat-interval-ms", "5000", "--heartbeat-timeout-ms", "1000"));
        }
        finally
        {
            System.setErr(err);
        }
        final String message = captured.toString(StandardCharsets.UTF_8);
        for (final String expected : new String[]{"maxBadMessages=zero must be an integer",
            "port=70000 must be 0..65535", "jwtSecret=<hidden> must be at least 32 bytes",
            "heartbeatTimeoutMs=1000 must be above heartbeatIntervalMs (5000)", "ringSize"})
        {
            assertTrue(message.contains("agentwire: invalid config: " + expected), expected + " in:\n" + message);
        }
        assertTrue(!message.contains("short"), "a secret is never printed");
    }

    @Test
    void shouldRefuseATlsAuthorityFileWithoutATlsRedis() throws IOException
    {
        final Path caFile = Files.createTempFile("agentwire-ca", ".pem");
        try
        {
            final ServerConfig.Builder builder = ServerConfig.builder().jwtSecret("s".repeat(32))
                .producerKey("p".repeat(20)).redisTlsCaFile(caFile);
            final IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                () -> builder.redisUrl("redis://127.0.0.1:6379").build());
            assertTrue(plain.getMessage().contains("redisTlsCaFile=" + caFile + " needs redisUrl=rediss://"),
                plain.getMessage());
            assertTrue(!plain.getMessage().contains("6379"), "the URL (which may hold a password) is not printed");
            assertTrue(builder.redisUrl("rediss://127.0.0.1:6379").build().isClustered(), "accepted with TLS");
        }
        finally
        {
            Files.delete(caFile);
        }
    }

    @Test
    void shouldRefuseAClientCertificateWithoutItsKeyOrWithAKeyTheNodeCannotRead(@TempDir final Path dir)
        throws IOException
    {
        final Path cert = Files.writeString(dir.resolve("client.pem"), "-----BEGIN CERTIFICATE-----\n");
        final Path pkcs8 = Files.writeString(dir.resolve("client.key"), "-----BEGIN PRIVATE KEY-----\n");
        final Path pkcs1 = Files.writeString(dir.resolve("rsa.key"), "-----BEGIN RSA PRIVATE KEY-----\n");
        final Path encrypted = Files.writeString(dir.resolve("enc.key"), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
        final ServerConfig.Builder builder = ServerConfig.builder().jwtSecret("s".repeat(32))
            .producerKey("p".repeat(20)).redisUrl("rediss://127.0.0.1:6379");

        final String alone = assertThrows(IllegalArgumentException.class,
            () -> builder.redisTlsClientCertificate(cert, null).build()).getMessage();
        assertTrue(alone.contains("redisTlsCertFile=" + cert + " redisTlsKeyFile=<unset> must be set together"), alone);
        for (final Path unreadable : new Path[]{pkcs1, encrypted, dir.resolve("missing.key")})
        {
            final String refused = assertThrows(IllegalArgumentException.class,
                () -> builder.redisTlsClientCertificate(cert, unreadable).build()).getMessage();
            assertTrue(refused.contains("redisTlsKeyFile=" + unreadable + " must be a readable PEM file holding an " +
                "unencrypted PKCS#8 key"), refused);
            assertTrue(refused.contains("openssl pkcs8 -topk8 -nocrypt"), "says how to convert it: " + refused);
        }
        final String plain = assertThrows(IllegalArgumentException.class,
            () -> builder.redisTlsClientCertificate(cert, pkcs8).redisUrl("redis://127.0.0.1:6379").build())
            .getMessage();
        assertTrue(plain.contains("redisTlsCertFile=" + cert + " needs redisUrl=rediss://"), plain);
        assertTrue(builder.redisTlsClientCertificate(cert, pkcs8).redisUrl("rediss://127.0.0.1:6379").build()
            .isClustered(), "accepted with TLS");
    }

    @Test
    void shouldTakeASentinelUrlAndItsTlsFormAndNeverPrintABadUrlsPassword() throws IOException
    {
        final ServerConfig.Builder builder = ServerConfig.builder().jwtSecret("s".repeat(32))
            .producerKey("p".repeat(20));
        assertTrue(builder.redisUrl("redis-sentinel://127.0.0.1:26379,127.0.0.1:26380#agentwire").build()
            .isClustered());
        // Over TLS, the Redis TLS settings apply as with rediss://.
        final Path caFile = Files.createTempFile("ca", ".pem");
        try
        {
            assertTrue(builder.redisUrl("rediss-sentinel://127.0.0.1:26379#agentwire").redisTlsCaFile(caFile).build()
                .isClustered());
        }
        finally
        {
            Files.delete(caFile);
            builder.redisTlsCaFile(null);
        }
        // The Sentinels' own password goes with a Sentinel URL only, and is never printed.
        final String sentinelless = assertThrows(IllegalArgumentException.class,
            () -> builder.redisUrl("redis://127.0.0.1:6379").redisSentinelPassword("the-sentinels-password").build())
            .getMessage();
        assertTrue(sentinelless.contains("redisSentinelPassword=<hidden> needs redisUrl=redis-sentinel://… or " +
            "rediss-sentinel://…; redisUrl=<not behind Sentinel>"), sentinelless);
        assertTrue(!sentinelless.contains("the-sentinels-password"), sentinelless);
        assertTrue(builder.redisUrl("redis-sentinel://127.0.0.1:26379#agentwire").build().isClustered());
        builder.redisSentinelPassword(null);
        final String withPassword = assertThrows(IllegalArgumentException.class,
            () -> builder.redisUrl("http://:a-password@127.0.0.1:6379").build()).getMessage();
        assertTrue(withPassword.contains("redisUrl=http://<hidden> must start with"), withPassword);
        assertTrue(!withPassword.contains("a-password"), "a password in a bad URL is not printed: " + withPassword);
    }

    @Test
    void shouldTakeARedisClustersSeedsInOneUrlAndRefuseAMalformedListWithoutItsPassword()
    {
        final ServerConfig.Builder builder = ServerConfig.builder().jwtSecret("s".repeat(32))
            .producerKey("p".repeat(20));
        for (final String url : new String[]{"redis://127.0.0.1:7000,127.0.0.1:7001,redis-2",
            "rediss://:pw@h1:1,h2:2/0", "redis://[::1]:7000,10.0.0.2:7001"})
        {
            assertTrue(builder.redisUrl(url).build().isClustered(), url);
        }
        for (final String url : new String[]{"redis://:a-password@h1:7000,,h2:7001", "redis://:a-password@h1:7000,h2:x",
            "redis://:a-password@h1:70000", "redis://:a-password@"})
        {
            final String refused = assertThrows(IllegalArgumentException.class,
                () -> builder.redisUrl(url).build()).getMessage();
            assertTrue(refused.contains("redisUrl=redis://<hidden> must start with redis://, rediss://, " +
                "redis-sentinel:// or rediss-sentinel://, then host[:port]"), refused);
            assertTrue(!refused.contains("a-password"), "the password is not printed: " + refused);
        }
    }
}
