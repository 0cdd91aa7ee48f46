package dev.changeflow.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * Where settings come from, in this order of precedence: values fixed by the program itself ({@link #with}), JVM
 * system properties (by key), environment variables (by {@link Setting#envName()}), then an optional properties file
 * (by key or by environment name). Immutable.
 */
public final class Settings {
    private final Map<String, String> fixed;
    private final Map<String, String> systemProperties;
    private final Map<String, String> environment;
    private final Map<String, String> file;

    private Settings(Map<String, String> fixed, Map<String, String> systemProperties, Map<String, String> environment,
            Map<String, String> file) {
        this.fixed = Map.copyOf(fixed);
        this.systemProperties = Map.copyOf(systemProperties);
        this.environment = Map.copyOf(environment);
        this.file = Map.copyOf(file);
    }

    private Settings(Map<String, String> systemProperties, Map<String, String> environment, Map<String, String> file) {
        this(Map.of(), systemProperties, environment, file);
    }

    /**
     * Returns a copy in which {@code values} (keyed by key or environment name) win over every other source: for a
     * program that decides some settings itself, such as the demo pointing every service at the servers it started.
     */
    public Settings with(Map<String, String> values) {
        Map<String, String> merged = new HashMap<>(fixed);
        merged.putAll(values);
        return new Settings(merged, systemProperties, environment, file);
    }

    /** Settings from this process's system properties and environment. */
    public static Settings fromEnvironment() {
        Map<String, String> props = new HashMap<>();
        System.getProperties().forEach((k, v) -> props.put(String.valueOf(k), String.valueOf(v)));
        return new Settings(props, System.getenv(), Map.of());
    }

    /** A properties file whose values fill in settings not given as system properties or environment variables. */
    public static final Setting<String> CONFIG_FILE = Setting.string("changeflow.config.file",
            "Path of a properties file with further settings (keys or environment names as property names).", null);

    /**
     * Settings from system properties and the environment, falling back to the file named by {@link #CONFIG_FILE}
     * if one is given. This is how every Changeflow process reads its configuration.
     *
     * @throws ConfigException naming {@code CHANGEFLOW_CONFIG_FILE} if that file cannot be read
     */
    public static Settings load() {
        Settings settings = fromEnvironment();
        Optional<String> file = settings.raw(CONFIG_FILE);
        if (file.isEmpty()) {
            return settings;
        }
        try {
            return settings.withFile(Path.of(file.get()));
        } catch (IllegalArgumentException e) {
            throw ConfigException.unusable(CONFIG_FILE, file.get(), e.getMessage());
        }
    }

    /** Settings from the given map only, keyed by key or environment name. Useful in tests and embedding. */
    public static Settings of(Map<String, String> values) {
        return new Settings(Map.of(), Map.of(), values);
    }

    /**
     * Returns a copy that falls back to the properties file at {@code path} for settings not given otherwise.
     *
     * @throws IllegalArgumentException if the file cannot be read
     */
    public Settings withFile(Path path) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(path)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read settings file " + path + ": " + e.getMessage(), e);
        }
        Map<String, String> values = new HashMap<>();
        properties.forEach((k, v) -> values.put(String.valueOf(k), String.valueOf(v)));
        return new Settings(fixed, systemProperties, environment, values);
    }

    /** The raw value given for {@code setting}, if any; blank values count as absent. */
    public Optional<String> raw(Setting<?> setting) {
        Objects.requireNonNull(setting, "setting");
        for (String candidate : new String[] {
            fixed.get(setting.key()),
            fixed.get(setting.envName()),
            systemProperties.get(setting.key()),
            environment.get(setting.envName()),
            file.get(setting.key()),
            file.get(setting.envName())}) {
            if (candidate != null && !candidate.isBlank()) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * The parsed value of {@code setting}, or its default.
     *
     * @throws ConfigException if the given value is invalid, or if there is neither a value nor a default
     */
    public <T> T get(Setting<T> setting) {
        return find(setting).orElseThrow(() -> new ConfigException(setting, "<unset>",
                "a value is required; allowed: " + setting.allowed()));
    }

    /**
     * The parsed value of {@code setting}, or its default, or empty if it has neither.
     *
     * @throws ConfigException if the given value is invalid
     */
    public <T> Optional<T> find(Setting<T> setting) {
        Optional<String> raw = raw(setting);
        if (raw.isPresent()) {
            return Optional.of(setting.parse(raw.get()));
        }
        return setting.defaultValue();
    }
}
