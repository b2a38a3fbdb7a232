package dev.agentwire.server;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;

/**
 * One setting of the server, stated once: its key (as {@link ServerConfig} names it and as error messages do), its
 * flag, environment variable and config-file key (one name, derived from the flag), its default, its rule and its
 * help text. {@link ServerSettings} lists them all; the CLI's options, the environment and file reading, the
 * validation and the README's configuration table all come from that list.
 *
 * @param <T> the value's type: {@link Integer}, {@link Long}, {@link String}, {@link Path}, a set of strings, or an
 *            enum of the engine.
 */
final class Setting<T>
{
    /**
     * How a setting's value reads from text (flag, environment, file) and shows in help and errors. A {@code URL}
     * is text that may hold a password ({@code redis://:password@host}): errors show its scheme only.
     */
    enum Kind
    {
        INT, LONG, STRING, SECRET, URL, PATH, LIST, LIFECYCLE
    }

    final int index;
    /** The key in {@link ServerConfig} and in {@code invalid config: key=value rule}. */
    final String key;
    final String flag;
    /** The environment variable, also the config file's key. */
    final String env;
    final Kind kind;
    /** The value when none is given (null: unset). */
    final T defaultValue;
    /** The default as help and the README show it (for a default that depends on the machine). */
    final String defaultText;
    final String help;
    /** For the engine's own settings: how a value reaches its builder (null for the server's own settings). */
    final java.util.function.BiConsumer<dev.agentwire.core.AgentWireConfig.Builder, T> toEngine;
    /** True for the engine's own settings: validated by {@code AgentWireConfig}, applied by {@link #toEngine}. */
    final boolean engine;
    private final Predicate<T> rule;
    private final String ruleText;

    /**
     * @param key the key; written {@code key/flag-name} when the flag is not the key's words (a rate's flag drops
     *            its unit: {@code inboundRatePerSec/inbound-rate}).
     */
    Setting(final int index, final String key, final Kind kind, final T defaultValue, final String defaultText,
        final Predicate<T> rule, final String ruleText,
        final java.util.function.BiConsumer<dev.agentwire.core.AgentWireConfig.Builder, T> toEngine,
        final String help)
    {
        final int slash = key.indexOf('/');
        this.index = index;
        this.key = slash < 0 ? key : key.substring(0, slash);
        this.flag = "--" + (slash < 0 ? key.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT) :
            key.substring(slash + 1));
        this.env = "AGENTWIRE_" + flag.substring(2).replace('-', '_').toUpperCase(Locale.ROOT);
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.defaultText = defaultText;
        this.rule = rule;
        this.ruleText = ruleText;
        this.toEngine = toEngine;
        this.engine = toEngine != null;
        this.help = help;
    }

    /** @return null when the value keeps the rule, else {@code key=value rule} (a secret's value never shown). */
    String check(final Object value)
    {
        @SuppressWarnings("unchecked")
        final T typed = (T)value;
        return rule == null || rule.test(typed) ? null : key + "=" + shown(value) + " " + ruleText;
    }

    /**
     * @return the value as errors show it: a secret as {@code <hidden>} or {@code <unset>}, a URL as its scheme
     *     ({@code rediss-sentinel://<hidden>}).
     */
    String shown(final Object value)
    {
        if (kind == Kind.SECRET || kind == Kind.URL && value == null)
        {
            return value == null ? "<unset>" : "<hidden>";
        }
        if (kind == Kind.URL)
        {
            final String text = value.toString();
            final int scheme = text.indexOf("://");
            return scheme < 0 ? "<hidden>" : text.substring(0, scheme + 3) + "<hidden>";
        }
        return String.valueOf(value);
    }

    /** @return whether the value is never shown whole (a secret, or a URL that may hold one). */
    boolean hidesValue()
    {
        return kind == Kind.SECRET || kind == Kind.URL;
    }

    /**
     * Reads a value given as text.
     *
     * @return the value (the default for no text or blank text).
     * @throws IllegalArgumentException as {@code key=text must be …} when the text is not of the setting's kind.
     */
    Object parse(final String text)
    {
        final String trimmed = text == null ? "" : text.trim();
        if (trimmed.isEmpty())
        {
            return defaultValue;
        }
        try
        {
            switch (kind)
            {
                case INT:
                    return Integer.valueOf(trimmed);
                case LONG:
                    return Long.valueOf(trimmed);
                case PATH:
                    return Path.of(trimmed);
                case LIST:
                    final Set<String> items = new LinkedHashSet<>();
                    for (final String item : trimmed.split(","))
                    {
                        if (!item.isBlank())
                        {
                            items.add(item.trim());
                        }
                    }
                    return Collections.unmodifiableSet(items);
                case LIFECYCLE:
                    return dev.agentwire.core.AgentWireConfig.LifecycleMode.valueOf(trimmed.toUpperCase(Locale.ROOT));
                default:
                    return trimmed;
            }
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(key + "=" + (hidesValue() ? shown(trimmed) : trimmed) + " " +
                expected());
        }
    }

    private String expected()
    {
        switch (kind)
        {
            case INT:
            case LONG:
                return "must be an integer";
            case LIFECYCLE:
                return "must be one of " + java.util.Arrays.toString(
                    dev.agentwire.core.AgentWireConfig.LifecycleMode.values());
            default:
                return "is not valid";
        }
    }

    /** Hands an engine setting's value to the engine's builder. */
    void applyTo(final dev.agentwire.core.AgentWireConfig.Builder engineBuilder, final Object value)
    {
        @SuppressWarnings("unchecked")
        final T typed = (T)value;
        toEngine.accept(engineBuilder, typed);
    }

    @Override
    public String toString()
    {
        return key;
    }
}
