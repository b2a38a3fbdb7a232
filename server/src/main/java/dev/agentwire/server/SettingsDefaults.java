package dev.agentwire.server;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Where a setting comes from when its flag is not given: the environment variable, then the config file, then
 * the built-in default. The variable and the file key share one name, derived from the flag:
 * {@code --max-message-bytes} is {@code AGENTWIRE_MAX_MESSAGE_BYTES}.
 */
final class SettingsDefaults implements CommandLine.IDefaultValueProvider
{
    private final Map<String, String> env;
    private final Properties file;

    SettingsDefaults(final Map<String, String> env, final Properties file)
    {
        this.env = env;
        this.file = file;
    }

    /** @return the variable (and file key) of a flag: the setting's own, or one derived the same way. */
    static String keyOf(final String longOption)
    {
        final Setting<?> setting = ServerSettings.find(longOption);
        return setting != null ? setting.env :
            "AGENTWIRE_" + longOption.substring(2).replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(final ArgSpec arg)
    {
        if (!arg.isOption())
        {
            return null;
        }
        final String name = ((OptionSpec)arg).longestName();
        if (!name.startsWith("--") || "--config".equals(name) || "--help".equals(name) || "--version".equals(name))
        {
            return null;
        }
        final String key = keyOf(name);
        final String fromEnv = env.get(key);
        if (fromEnv != null)
        {
            return fromEnv;
        }
        final String fromFile = file.getProperty(key);
        return fromFile == null ? null : fromFile.trim();
    }
}
