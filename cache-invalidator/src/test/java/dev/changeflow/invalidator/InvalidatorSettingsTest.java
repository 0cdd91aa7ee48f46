package dev.changeflow.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InvalidatorSettingsTest {

    private static Settings settings(String... keysAndValues) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            values.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return Settings.of(values);
    }

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        Settings none = settings();

        assertThat(none.find(InvalidatorSettings.RULES_FILE)).isEmpty();
        assertThat(none.get(InvalidatorSettings.GROUP)).isEqualTo("cache-invalidator");
        assertThat(none.find(InvalidatorSettings.TOPICS)).isEmpty();
        assertThat(none.get(InvalidatorSettings.UNLINK_CHUNK_SIZE)).isEqualTo(500);
        assertThat(none.get(InvalidatorSettings.REDIS_COMMAND_TIMEOUT)).isEqualTo(Duration.ofSeconds(5));
        assertThat(none.get(InvalidatorSettings.REDIS_RECONNECT_MAX_DELAY)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void everySettingIsListedOnceUnderTheInvalidatorPrefixWithADescription() {
        assertThat(InvalidatorSettings.SETTINGS).doesNotHaveDuplicates().allSatisfy(s -> {
            assertThat(s.key()).startsWith("changeflow.invalidator.");
            assertThat(s.envName()).startsWith("CHANGEFLOW_INVALIDATOR_");
            assertThat(s.description()).isNotBlank();
        });
    }

    @Test
    void aChunkSizeOutOfRangeIsRejectedNamingTheVariableTheValueAndWhatIsAllowed() {
        assertThatThrownBy(() -> settings("CHANGEFLOW_INVALIDATOR_UNLINK_CHUNK_SIZE", "0")
                .get(InvalidatorSettings.UNLINK_CHUNK_SIZE))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHANGEFLOW_INVALIDATOR_UNLINK_CHUNK_SIZE=0 (changeflow.invalidator.unlink-chunk-size): "
                        + "invalid value; allowed: an integer from 1 to 100000");
    }

    @Test
    void aCommandTimeoutMustBePositiveAndBounded() {
        assertThatThrownBy(() -> settings("changeflow.invalidator.redis-command-timeout", "0s")
                .get(InvalidatorSettings.REDIS_COMMAND_TIMEOUT))
                .hasMessageContaining("allowed: a duration from 10ms to 5m");
        assertThatThrownBy(() -> settings("changeflow.invalidator.redis-command-timeout", "1h")
                .get(InvalidatorSettings.REDIS_COMMAND_TIMEOUT))
                .hasMessageContaining("allowed: a duration from 10ms to 5m");
        assertThat(settings("changeflow.invalidator.redis-command-timeout", "250ms")
                .get(InvalidatorSettings.REDIS_COMMAND_TIMEOUT)).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void aGroupOrTopicWithCharactersKafkaRejectsIsRefused() {
        assertThatThrownBy(() -> settings("changeflow.invalidator.group", "cache invalidator")
                .get(InvalidatorSettings.GROUP))
                .hasMessageContaining("CHANGEFLOW_INVALIDATOR_GROUP");
        assertThatThrownBy(() -> settings("changeflow.invalidator.topics", "cdc.tasks-changes,cdc/projects")
                .get(InvalidatorSettings.TOPICS))
                .hasMessageContaining("CHANGEFLOW_INVALIDATOR_TOPICS");
        assertThat(settings("changeflow.invalidator.topics", "cdc.tasks-changes, cdc.projects-changes")
                .get(InvalidatorSettings.TOPICS)).isEqualTo("cdc.tasks-changes, cdc.projects-changes");
    }

    @Test
    void theServiceRejectsABadSettingBeforeConnectingToAnything() {
        // Nothing listens on these ports: the service must fail on the setting, not on a connection.
        Settings bad = settings(
                "CHANGEFLOW_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:1/app",
                "CHANGEFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:1",
                "CHANGEFLOW_REDIS_URL", "redis://127.0.0.1:1",
                "CHANGEFLOW_INVALIDATOR_UNLINK_CHUNK_SIZE", "many");

        assertThatThrownBy(() -> InvalidatorService.create(bad, new SimpleMeterRegistry()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_INVALIDATOR_UNLINK_CHUNK_SIZE=many");
    }

    @Test
    void theServiceNeedsTheRedisUrl() {
        Settings noRedis = settings(
                "CHANGEFLOW_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:1/app",
                "CHANGEFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:1");

        assertThatThrownBy(() -> InvalidatorService.create(noRedis, new SimpleMeterRegistry()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_REDIS_URL=<unset> (changeflow.redis.url): a value is required");
    }
}
