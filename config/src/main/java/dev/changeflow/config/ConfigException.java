package dev.changeflow.config;

/**
 * A setting has a value Changeflow cannot use. The message is one line that names the setting (its environment
 * variable and its key), the value given (masked when the setting is secret) and what is allowed, so that an operator
 * can fix it without reading code.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    ConfigException(Setting<?> setting, String shownValue, String problem) {
        super(setting.envName() + "=" + shownValue + " (" + setting.key() + "): " + problem);
        this.key = setting.key();
    }

    /** The key of the setting at fault, for example {@code changeflow.postgres.url}. Never null. */
    public String key() {
        return key;
    }

    /**
     * Reports that a setting's value was well-formed but did not work, for example a URL that nothing answers.
     *
     * @param setting the setting whose value failed
     * @param rawValue the value as given; it is masked if the setting is secret
     * @param problem what went wrong and what to do, in one sentence
     */
    public static ConfigException unusable(Setting<?> setting, String rawValue, String problem) {
        return new ConfigException(setting, setting.display(rawValue), problem);
    }
}
