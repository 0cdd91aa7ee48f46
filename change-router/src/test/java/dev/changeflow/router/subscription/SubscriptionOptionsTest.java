package dev.changeflow.router.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SubscriptionOptionsTest {

    @Test
    void theDefaultsMatchTheDesign() {
        SubscriptionOptions options = SubscriptionOptions.defaults();

        assertThat(options.retries()).isEqualTo(3);
        assertThat(options.maxInFlight()).isEqualTo(2048);
        assertThat(options.autoOffsetReset()).isEqualTo(SubscriptionSettings.OffsetReset.EARLIEST);
        assertThat(options.validateSchema()).isTrue();
        assertThat(options.pollRecords()).isEqualTo(128);
        assertThat(options.queueCapacity()).isPositive();
    }

    @Test
    void anInFlightBoundTooSmallForTheConcurrencyAndBatchSizeFailsNamingTheSettings() {
        Settings settings = Settings.of(Map.of("CHANGEFLOW_SUBSCRIPTION_MAX_IN_FLIGHT", "100",
                "CHANGEFLOW_SUBSCRIPTION_CONCURRENCY", "8"));

        assertThatThrownBy(() -> SubscriptionOptions.from(settings))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_SUBSCRIPTION_MAX_IN_FLIGHT=100 (changeflow.subscription.max-in-flight)")
                .hasMessageContaining("changeflow.subscription.concurrency=8")
                .hasMessageContaining("changeflow.subscription.batch-size=128");
    }

    @Test
    void aValueOutOfRangeFailsNamingItsKeyAndWhatIsAllowed() {
        Settings settings = Settings.of(Map.of("CHANGEFLOW_SUBSCRIPTION_RETRIES", "-1"));

        assertThatThrownBy(() -> SubscriptionOptions.from(settings))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHANGEFLOW_SUBSCRIPTION_RETRIES=-1");
    }

    @Test
    void settingsAreReadFromTheirKeys() {
        SubscriptionOptions options = SubscriptionOptions.from(Settings.of(Map.of(
                "changeflow.subscription.retry-backoff", "50ms",
                "changeflow.subscription.auto-offset-reset", "latest")));

        assertThat(options.retryBackoff()).isEqualTo(Duration.ofMillis(50));
        assertThat(options.autoOffsetReset()).isEqualTo(SubscriptionSettings.OffsetReset.LATEST);
    }
}
