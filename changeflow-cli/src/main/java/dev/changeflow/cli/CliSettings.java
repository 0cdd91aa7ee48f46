package dev.changeflow.cli;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;

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

    /**
     * The settings and picocli's writers for operator command {@code command}; empty after a bad or missing setting
     * was reported as one line on stderr (then return {@link OpsCommandSupport#BAD_USAGE}).
     */
    static Optional<OpsCommandSupport> opsSupport(String command, Path file, CommandSpec spec) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            return Optional.of(new OpsCommandSupport(command, load(file), out, err));
        } catch (ConfigException e) {
            new OpsCommandSupport(command, null, out, err).badSetting(e);
            return Optional.empty();
        }
    }
}
