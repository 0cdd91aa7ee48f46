package dev.changeflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.cli.internal.demo.DemoSettings;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.router.service.OpsSettings;
import dev.changeflow.config.Mode;
import dev.changeflow.config.Settings;
import dev.changeflow.config.SettingsDoc;
import dev.changeflow.indexer.IndexerSettings;
import dev.changeflow.invalidator.InvalidatorSettings;
import dev.changeflow.router.RouterSettings;
import dev.changeflow.router.topics.TopicSettings;
import dev.changeflow.router.subscription.SubscriptionSettings;
import dev.changeflow.stack.StackSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's configuration reference (between its BEGIN and END markers) is generated from the setting
 * declarations. This test fails when they drift apart; run it with {@code -Dchangeflow.docs.write=true} to regenerate
 * it.
 */
class ConfigurationReferenceTest {
    private static final Path README = Path.of("..", "README.md");
    private static final String BEGIN = "<!-- BEGIN generated configuration reference -->\n";
    private static final String END = "<!-- END generated configuration reference -->";

    static String render() {
        return section("Servers", ConnectionSettings.ALL)
                + section("Every process", List.of(Mode.SETTING, Settings.CONFIG_FILE))
                + section("Operations endpoint and admin API of every process", OpsSettings.ALL)
                + section("Routing (change-router)", RouterSettings.SETTINGS)
                + section("Subscriptions: every consumer (change-router)", SubscriptionSettings.SETTINGS)
                + section("Topics: what capture, `topics create` and `POST /topic` create", TopicSettings.ALL)
                + section("Capture (cdc-capture)", CaptureSettings.ALL)
                + section("Cache invalidator (cache-invalidator)", InvalidatorSettings.SETTINGS)
                + section("Search indexer (search-indexer)", IndexerSettings.SETTINGS)
                + section("The demo (changeflow demo)", DemoSettings.ALL)
                + section("Servers started for tests (embedded-stack)", StackSettings.ALL);
    }

    private static String section(String title, List<? extends dev.changeflow.config.Setting<?>> settings) {
        return "### " + title + "\n\n" + SettingsDoc.markdownTable(List.copyOf(settings)) + "\n";
    }

    @Test
    void theReadmesConfigurationReferenceMatchesTheDeclarations() throws Exception {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int begin = readme.indexOf(BEGIN);
        int end = readme.indexOf(END);
        assertThat(begin).as("README has the BEGIN marker").isNotNegative();
        assertThat(end).as("README has the END marker after it").isGreaterThan(begin);
        String expected = readme.substring(0, begin + BEGIN.length()) + render() + readme.substring(end);
        if (Boolean.getBoolean("changeflow.docs.write")) {
            Files.writeString(README, expected, StandardCharsets.UTF_8);
            readme = expected;
        }
        assertThat(readme).as("README's configuration reference is up to date (see this test's Javadoc)")
                .isEqualTo(expected);
    }
}
