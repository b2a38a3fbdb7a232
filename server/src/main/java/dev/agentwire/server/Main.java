package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.auth.TokenMinter;
import dev.agentwire.server.demo.DemoMode;
import dev.agentwire.server.ops.HeapPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code agentwire serve}: every setting is a flag and an environment variable (the flag wins).
 */
@Command(name = "agentwire", mixinStandardHelpOptions = true, version = "agentwire 0.1.0",
    description = "Ordered, isolated, resumable delivery of AI agent events.",
    subcommands = {Main.Serve.class, Main.Demo.class, Main.Token.class})
public final class Main implements Callable<Integer>
{
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    @Override
    public Integer call()
    {
        CommandLine.usage(this, System.out);
        return 2;
    }

    public static void main(final String[] args)
    {
        System.exit(run(args));
    }

    static int run(final String... args)
    {
        return run(System.getenv(), args);
    }

    /**
     * @return the command line: {@code serve} and {@code demo} get one option per {@link ServerSettings} entry, its
     *         flag, type of value, help, environment variable and default from the entry.
     */
    static CommandLine commandLine()
    {
        final CommandLine commandLine = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        for (final String command : new String[]{"serve", "demo"})
        {
            final CommandLine.Model.CommandSpec spec = commandLine.getSubcommands().get(command).getCommandSpec();
            // In the table's order, one section per concern (required first), one line of synopsis.
            spec.usageMessage().sortOptions(false).abbreviateSynopsis(true);
            CommandLine.Model.ArgGroupSpec.Builder section = null;
            int next = 0;
            for (final Setting<?> setting : ServerSettings.SETTINGS)
            {
                if (next < ServerSettings.SECTIONS.length && ServerSettings.SECTIONS[next][0].equals(setting.key))
                {
                    if (section != null)
                    {
                        spec.addArgGroup(section.build());
                    }
                    section = CommandLine.Model.ArgGroupSpec.builder().exclusive(false).validate(false)
                        .multiplicity("0..1").heading("%n" + ServerSettings.SECTIONS[next][1] + ":%n");
                    next++;
                }
                final boolean required = setting == ServerSettings.JWT_SECRET || setting == ServerSettings.PRODUCER_KEY;
                final CommandLine.Model.OptionSpec option = CommandLine.Model.OptionSpec.builder(setting.flag)
                    .type(String.class)
                    .paramLabel("<" + setting.key + ">")
                    // The variable is the flag's name (the header says so): a default is all a line adds.
                    .description((required ? "REQUIRED. " : "") + setting.help.replace("`", "") + " (default " +
                        ServerSettings.defaultText(setting).replace("`", "") + ")")
                    .showDefaultValue(CommandLine.Help.Visibility.NEVER)
                    .build();
                if (section != null)
                {
                    section.addArg(option);
                }
                else
                {
                    spec.addOption(option);
                }
            }
            if (section != null)
            {
                spec.addArgGroup(section.build());
            }
        }
        commandLine.setParameterExceptionHandler(Main::unknownOrBad);
        return commandLine;
    }

    /**
     * Answers a bad command line: the error, for an unknown option the known flag nearest to it (edit distance: a
     * typo as {@code --prot} is meant to be {@code --port}, not one of the flags that share its first letters), and
     * where the full list is.
     */
    private static int unknownOrBad(final CommandLine.ParameterException ex, final String[] args)
    {
        final CommandLine command = ex.getCommandLine();
        final java.io.PrintWriter err = command.getErr();
        err.println(ex.getMessage());
        if (ex instanceof CommandLine.UnmatchedArgumentException)
        {
            for (final String unmatched : ((CommandLine.UnmatchedArgumentException)ex).getUnmatched())
            {
                final String nearest = nearestFlag(command.getCommandSpec(), unmatched);
                if (nearest != null)
                {
                    err.println("Did you mean " + nearest + "?");
                }
            }
        }
        err.println("See '" + command.getCommandSpec().qualifiedName() + " --help' (and README.md's configuration " +
            "table).");
        return command.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** @return the flag within a third of its length in edits of an unknown option, or null. */
    static String nearestFlag(final CommandLine.Model.CommandSpec spec, final String unknown)
    {
        if (!unknown.startsWith("--"))
        {
            return null;
        }
        final String name = unknown.contains("=") ? unknown.substring(0, unknown.indexOf('=')) : unknown;
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (final CommandLine.Model.OptionSpec option : spec.options())
        {
            for (final String flag : option.names())
            {
                final int distance = editDistance(name, flag);
                if (distance < bestDistance)
                {
                    bestDistance = distance;
                    best = flag;
                }
            }
        }
        return best != null && bestDistance <= Math.max(1, best.length() / 3) ? best : null;
    }

    private static int editDistance(final String a, final String b)
    {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++)
            {
                final int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /**
     * @param env  the environment to read AGENTWIRE_* settings from.
     * @param args the command line.
     * @return the exit code: 0, or 2 for bad usage or configuration.
     */
    static int run(final Map<String, String> env, final String... args)
    {
        final CommandLine commandLine = commandLine();
        final Properties file = new Properties();
        final String configFile = configFile(env, args);
        if (configFile != null)
        {
            try (Reader reader = Files.newBufferedReader(Path.of(configFile), StandardCharsets.UTF_8))
            {
                file.load(reader);
            }
            catch (final IOException | RuntimeException ex)
            {
                System.err.println("agentwire: invalid config: config=" + configFile + " could not be read: " +
                    ex.getMessage());
                return 2;
            }
            final Set<String> known = new HashSet<>();
            for (final Setting<?> setting : ServerSettings.SETTINGS)
            {
                known.add(setting.env);
            }
            known.add(SettingsDefaults.keyOf("--demo"));
            for (final String key : file.stringPropertyNames())
            {
                if (!known.contains(key))
                {
                    System.err.println("agentwire: invalid config: " + key + " in " + configFile +
                        " is not a setting (see serve --help)");
                    return 2;
                }
            }
        }
        commandLine.setDefaultValueProvider(new SettingsDefaults(env, file));
        return commandLine.execute(args);
    }

    private static String configFile(final Map<String, String> env, final String... args)
    {
        for (int i = 0; i < args.length; i++)
        {
            if ("--config".equals(args[i]) && i + 1 < args.length)
            {
                return args[i + 1];
            }
            if (args[i].startsWith("--config="))
            {
                return args[i].substring("--config=".length());
            }
        }
        final String fromEnv = env.get("AGENTWIRE_CONFIG");
        return fromEnv == null || fromEnv.isBlank() ? null : fromEnv;
    }

    /** Runs the gateway until SIGTERM / SIGINT, then shuts down gracefully. */
    @Command(name = "serve", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Run the gateway.",
            "Each setting: its flag, else the AGENTWIRE_* environment variable named after it " +
                "(--max-message-bytes: AGENTWIRE_MAX_MESSAGE_BYTES), else the same key in the --config file, " +
                "else the default. Every bad value is named at once, as invalid config: key=value rule."})
    static class Serve implements Callable<Integer>
    {
        @Option(names = "--config", description = "Properties file of AGENTWIRE_* settings (env AGENTWIRE_CONFIG).")
        String config;

        @Option(names = "--demo", description = "Demo mode: generated development secrets, the demo agent, the " +
            "live page at / and the demo-only endpoints.")
        boolean demo;

        /** The demo's secrets when none were given: generated at start. */
        private String jwtSecret;
        private String producerKey;

        /** The command, to read the options {@link Main#commandLine} made from {@link ServerSettings}. */
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException
        {
            final ServerConfig config;
            try
            {
                config = toConfig();
            }
            catch (final IllegalArgumentException ex)
            {
                for (final String line : ex.getMessage().split("\n"))
                {
                    System.err.println("agentwire: " + line);
                }
                return 2;
            }
            // The process is the server's own: pace its collector (an embedding application keeps its own).
            final long softMaxBytes = HeapPolicy.apply();
            if (softMaxBytes > 0)
            {
                LOG.info("heap: ZGC soft max set: softMaxMiB={} (AGENTWIRE_JAVA_OPTS=-XX:SoftMaxHeapSize=... " +
                    "chooses another)", softMaxBytes >> 20);
            }
            final AgentWireServer server = AgentWireServer.start(config, demo);
            if (demo)
            {
                System.out.println(DemoMode.banner(config.host(), server.port(), jwtSecret, producerKey));
            }
            final CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() ->
            {
                server.close();
                stopped.countDown();
            }, "agentwire-shutdown"));
            System.out.println("agentwire serving on http://" + config.host() + ":" + server.port());
            stopped.await();
            return 0;
        }

        /**
         * @return the config the options make.
         * @throws IllegalArgumentException naming every bad setting, one {@code invalid config: key=value rule} a
         *                                  line (a value that does not parse and one that breaks a rule alike).
         */
        ServerConfig toConfig()
        {
            if (spec == null)
            {
                throw new IllegalStateException("toConfig needs the command made by Main.commandLine()");
            }
            final List<String> broken = new ArrayList<>();
            final ServerConfig.Builder builder = ServerConfig.builder();
            final AgentWireConfig.Builder engine = AgentWireConfig.builder();
            for (final Setting<?> setting : ServerSettings.SETTINGS)
            {
                final String text = textOf(setting);
                final Object value;
                try
                {
                    value = setting.parse(text);
                }
                catch (final IllegalArgumentException ex)
                {
                    broken.add(ex.getMessage());
                    continue;
                }
                if (setting.engine)
                {
                    setting.applyTo(engine, value);
                }
                else
                {
                    builder.set(setting, value);
                }
            }
            if (demo)
            {
                // Development only: fresh secrets at every start unless given (flag, environment or config file),
                // printed by the banner so the person can use them.
                if (jwtSecret == null)
                {
                    jwtSecret = Objects.requireNonNullElseGet(given(ServerSettings.JWT_SECRET), DemoMode::randomSecret);
                    producerKey = Objects.requireNonNullElseGet(
                        given(ServerSettings.PRODUCER_KEY), DemoMode::randomSecret);
                }
                builder.jwtSecret(jwtSecret).producerKey(producerKey);
            }
            try
            {
                builder.engine(engine.build());
            }
            catch (final IllegalArgumentException ex)
            {
                broken.add(ex.getMessage().replaceFirst("^invalid config: ", ""));
            }
            try
            {
                final ServerConfig config = builder.build();
                if (broken.isEmpty())
                {
                    return config;
                }
            }
            catch (final IllegalArgumentException ex)
            {
                for (final String line : ex.getMessage().split("\n"))
                {
                    broken.add(line.replaceFirst("^invalid config: ", ""));
                }
            }
            throw new IllegalArgumentException("invalid config: " + String.join("\ninvalid config: ", broken));
        }

        /** @return a setting's text as given (flag, environment or file), or null when none was. */
        private String given(final Setting<?> setting)
        {
            final String text = textOf(setting);
            return text == null || text.isBlank() ? null : text.trim();
        }

        /** @return a setting's text from the flag, else the environment or the config file, else null. */
        private String textOf(final Setting<?> setting)
        {
            final CommandLine.Model.OptionSpec option = spec.findOption(setting.flag);
            final String text = option.getValue();
            if (text != null || spec.defaultValueProvider() == null)
            {
                return text;
            }
            // Picocli leaves the options of a help section (an argument group) that the command line did not name
            // without their defaults: the environment and the config file are asked here.
            try
            {
                return spec.defaultValueProvider().defaultValue(option);
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException("default of setting=" + setting.key, ex);
            }
        }
    }

    /** {@code agentwire demo}: {@code serve --demo}. */
    @Command(name = "demo", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Run the gateway in demo mode (same as serve --demo): nothing to configure.")
    static final class Demo extends Serve
    {
        Demo()
        {
            demo = true;
        }
    }

    /** Mints a development HS256 token for a user, signed with the configured secret. */
    @Command(name = "token", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Print an HS256 user token signed with AGENTWIRE_JWT_SECRET (for development and tests).")
    static final class Token implements Callable<Integer>
    {
        @Option(names = "--user", required = true, description = "The sub claim: the user id.")
        String user;

        @Option(names = "--rooms", split = ",", description = "Rooms the user may join (the rooms claim).")
        String[] rooms;

        @Option(names = "--ttl-seconds", defaultValue = "3600", description = "Lifetime of the token.")
        long ttlSeconds;

        @Option(names = "--jwt-secret", defaultValue = "",
            description = "HS256 secret (env AGENTWIRE_JWT_SECRET).", showDefaultValue = CommandLine.Help.Visibility.NEVER)
        String jwtSecret;

        @Option(names = "--jwt-issuer", defaultValue = "", description = "iss claim.")
        String issuer;

        @Option(names = "--jwt-audience", defaultValue = "", description = "aud claim.")
        String audience;

        @Override
        public Integer call()
        {
            boolean valid = true;
            if (jwtSecret == null || jwtSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32)
            {
                System.err.println("agentwire: invalid config: jwtSecret must be set (AGENTWIRE_JWT_SECRET or " +
                    "--jwt-secret) and at least 32 bytes");
                valid = false;
            }
            if (ttlSeconds <= 0)
            {
                System.err.println("agentwire: invalid config: ttlSeconds=" + ttlSeconds + " must be > 0");
                valid = false;
            }
            if (!valid)
            {
                return 2;
            }
            System.out.println(TokenMinter.hs256(jwtSecret, user, rooms == null ? null : java.util.List.of(rooms),
                ttlSeconds * 1000, issuer, audience));
            return 0;
        }
    }
}
