package dev.changeflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Mode;
import dev.changeflow.config.Settings;
import dev.changeflow.config.SettingsDoc;
import dev.changeflow.indexer.IndexerSettings;
import dev.changeflow.invalidator.InvalidatorSettings;
import dev.changeflow.router.RouterSettings;
import dev.changeflow.router.subscription.SubscriptionSettings;
import dev.changeflow.stack.StackSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md is generated from the setting declarations. This test fails when they drift apart; run it
 * with {@code -Dchangeflow.docs.write=true} to regenerate the file.
 */
class ConfigurationReferenceTest {
    private static final Path DOC = Path.of("..", "docs", "configuration.md");

    static String render() {
        return "# Configuration reference\n\n"
                + "Generated from the setting declarations by `ConfigurationReferenceTest` "
                + "(`./mvnw -pl changeflow-cli -am test -Dtest=ConfigurationReferenceTest -Dsurefire.failIfNoSpecifiedTests=false "
                + "-Dchangeflow.docs.write=true`). Every setting can be given as an environment variable, as a JVM "
                + "system property named by its key, or in the properties file named by `CHANGEFLOW_CONFIG_FILE`. "
                + "A bad value stops startup with one line naming the variable, the key, the value and what is "
                + "allowed; secrets are never shown.\n\n"
                + section("Servers", ConnectionSettings.ALL)
                + section("Every process", List.of(Mode.SETTING, Settings.CONFIG_FILE))
                + section("Routing (change-router)", RouterSettings.SETTINGS)
                + section("Subscriptions: every consumer (change-router)", SubscriptionSettings.SETTINGS)
                + section("Capture (cdc-capture)", CaptureSettings.ALL)
                + section("Cache invalidator (cache-invalidator)", InvalidatorSettings.SETTINGS)
                + section("Search indexer (search-indexer)", IndexerSettings.SETTINGS)
                + section("Servers started for tests and the demo (embedded-stack)", StackSettings.ALL);
    }

    private static String section(String title, List<? extends dev.changeflow.config.Setting<?>> settings) {
        return "## " + title + "\n\n" + SettingsDoc.markdownTable(List.copyOf(settings)) + "\n";
    }

    @Test
    void theConfigurationReferenceMatchesTheDeclarations() throws Exception {
        String expected = render();
        if (Boolean.getBoolean("changeflow.docs.write")) {
            Files.writeString(DOC, expected, StandardCharsets.UTF_8);
        }
        assertThat(Files.readString(DOC, StandardCharsets.UTF_8)).as("docs/configuration.md is up to date")
                .isEqualTo(expected);
    }
}
