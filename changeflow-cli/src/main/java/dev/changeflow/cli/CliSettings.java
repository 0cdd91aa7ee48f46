package dev.changeflow.cli;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import java.nio.file.Path;

/** How every command reads its settings. */
final class CliSettings {
    private CliSettings() {
    }

    /**
     * System properties and environment, then {@code file} if given (else the file of {@code CHANGEFLOW_CONFIG_FILE}).
     *
     * @throws ConfigException naming the file setting if the file cannot be read
     */
    static Settings load(Path file) {
        if (file == null) {
            return Settings.load();
        }
        try {
            return Settings.fromEnvironment().withFile(file);
        } catch (IllegalArgumentException e) {
            throw ConfigException.unusable(Settings.CONFIG_FILE, file.toString(), e.getMessage());
        }
    }
}
