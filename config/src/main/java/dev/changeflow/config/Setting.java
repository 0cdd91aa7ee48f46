package dev.changeflow.config;

import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One setting, declared once: its key, its description, its default and how a raw value is parsed and validated.
 * Documentation and startup checks are generated from these declarations, so text and behaviour cannot disagree.
 *
 * <p>A key such as {@code changeflow.postgres.url} is also read from the environment variable derived from it
 * ({@code CHANGEFLOW_POSTGRES_URL}). Instances are immutable and thread-safe.
 *
 * @param <T> the parsed type
 */
public final class Setting<T> {

    private final String key;
    private final String description;
    private final T defaultValue;
    private final String allowed;
    private final Function<String, T> parser;
    private final boolean secret;

    private Setting(String key, String description, T defaultValue, String allowed, Function<String, T> parser,
            boolean secret) {
        this.key = Objects.requireNonNull(key, "key");
        this.description = Objects.requireNonNull(description, "description");
        this.defaultValue = defaultValue;
        this.allowed = Objects.requireNonNull(allowed, "allowed");
        this.parser = Objects.requireNonNull(parser, "parser");
        this.secret = secret;
        if (!key.matches("[a-z][a-z0-9]*(\\.[a-z][a-z0-9-]*)+")) {
            throw new IllegalArgumentException("Setting keys are dotted lower-case words: " + key);
        }
    }

    /** A free-form string; an empty value counts as absent. */
    public static Setting<String> string(String key, String description, String defaultValue) {
        return new Setting<>(key, description, defaultValue, "any text", s -> s, false);
    }

    /** A string that must not appear in logs or error messages, such as a password. */
    public static Setting<String> secret(String key, String description, String defaultValue) {
        return new Setting<>(key, description, defaultValue, "any text", s -> s, true);
    }

    /** An integer between {@code min} and {@code max}, inclusive. */
    public static Setting<Integer> integer(String key, String description, Integer defaultValue, int min, int max) {
        String allowed = "an integer from " + min + " to " + max;
        return new Setting<>(key, description, defaultValue, allowed, raw -> {
            int value;
            try {
                value = Integer.parseInt(raw.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an integer");
            }
            if (value < min || value > max) {
                throw new IllegalArgumentException("out of range");
            }
            return value;
        }, false);
    }

    /** {@code true} or {@code false}. */
    public static Setting<Boolean> bool(String key, String description, Boolean defaultValue) {
        return new Setting<>(key, description, defaultValue, "true or false", raw -> {
            switch (raw.trim().toLowerCase(Locale.ROOT)) {
                case "true":
                    return true;
                case "false":
                    return false;
                default:
                    throw new IllegalArgumentException("not a boolean");
            }
        }, false);
    }

    /** A duration in ISO-8601 ({@code PT5S}) or short form ({@code 500ms}, {@code 5s}, {@code 2m}). */
    public static Setting<Duration> duration(String key, String description, Duration defaultValue) {
        return new Setting<>(key, description, defaultValue, "a duration such as 500ms, 5s, 2m or PT5S",
                Setting::parseDuration, false);
    }

    /** One of the constants of {@code type}, matched case-insensitively. */
    public static <E extends Enum<E>> Setting<E> oneOf(String key, String description, Class<E> type, E defaultValue) {
        String allowed = "one of " + Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
        return new Setting<>(key, description, defaultValue, allowed,
                raw -> Enum.valueOf(type, raw.trim().toUpperCase(Locale.ROOT).replace('-', '_')), false);
    }

    /**
     * A URI whose scheme is one of {@code schemes}. Credentials in it are masked when the value is shown.
     */
    public static Setting<URI> uri(String key, String description, String... schemes) {
        String allowed = "a URI with a host and scheme " + String.join(" or ", schemes);
        return new Setting<>(key, description, null, allowed, raw -> {
            String text = raw.trim();
            // A JDBC URL is "jdbc:" followed by a hierarchical URI: check the scheme of the inner one.
            boolean jdbc = text.regionMatches(true, 0, "jdbc:", 0, 5);
            URI inner;
            try {
                inner = URI.create(jdbc ? text.substring(5) : text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a URI");
            }
            String scheme = inner.getScheme() == null ? null : (jdbc ? "jdbc:" : "") + inner.getScheme();
            if (scheme == null || inner.getHost() == null
                    || Arrays.stream(schemes).noneMatch(scheme::equalsIgnoreCase)) {
                throw new IllegalArgumentException("wrong scheme");
            }
            return URI.create(text);
        }, false);
    }

    /** Returns a copy that checks parsed values with {@code rule}, described to users as {@code allowed}. */
    public Setting<T> withValidation(String allowed, Function<T, Boolean> rule) {
        Function<String, T> base = parser;
        return new Setting<>(key, description, defaultValue, allowed, raw -> {
            T value = base.apply(raw);
            if (!rule.apply(value)) {
                throw new IllegalArgumentException("rejected");
            }
            return value;
        }, secret);
    }

    /** The dotted key, for example {@code changeflow.kafka.bootstrap}. */
    public String key() {
        return key;
    }

    /** The environment variable that sets this key, for example {@code CHANGEFLOW_KAFKA_BOOTSTRAP}. */
    public String envName() {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** What the setting does, one or two sentences. */
    public String description() {
        return description;
    }

    /** The value used when none is given; empty when the setting is optional or required. */
    public Optional<T> defaultValue() {
        return Optional.ofNullable(defaultValue);
    }

    /** Human-readable description of the values accepted. */
    public String allowed() {
        return allowed;
    }

    /** Whether values are masked wherever they are shown. */
    public boolean isSecret() {
        return secret;
    }

    /**
     * Parses and validates a raw value.
     *
     * @throws ConfigException naming the key, the value and what is allowed
     */
    public T parse(String raw) {
        try {
            return parser.apply(raw);
        } catch (RuntimeException e) {
            throw new ConfigException(this, display(raw), "invalid value; allowed: " + allowed);
        }
    }

    /** The value as it may be shown in logs and errors: masked when secret, credentials removed from URIs. */
    String display(String raw) {
        if (raw == null) {
            return "<unset>";
        }
        if (secret) {
            return "****";
        }
        return Redaction.maskCredentials(raw);
    }

    private static Duration parseDuration(String raw) {
        String s = raw.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.startsWith("pt") || s.startsWith("p")) {
                return Duration.parse(s.toUpperCase(Locale.ROOT));
            }
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a duration");
        }
        String[][] units = {{"ms", "1"}, {"s", "1000"}, {"m", "60000"}, {"h", "3600000"}};
        for (String[] unit : units) {
            if (s.endsWith(unit[0])) {
                String number = s.substring(0, s.length() - unit[0].length()).trim();
                try {
                    return Duration.ofMillis(Math.multiplyExact(Long.parseLong(number), Long.parseLong(unit[1])));
                } catch (NumberFormatException | ArithmeticException e) {
                    throw new IllegalArgumentException("not a duration");
                }
            }
        }
        throw new IllegalArgumentException("not a duration");
    }

    @Override
    public String toString() {
        return key;
    }
}
