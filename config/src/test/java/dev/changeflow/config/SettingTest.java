package dev.changeflow.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingTest {

    enum Mode { EMBEDDED, TESTCONTAINERS }

    private static final Setting<Integer> PARTITIONS =
            Setting.integer("changeflow.test.partitions", "Partitions.", 12, 1, 1000);
    private static final Setting<URI> URL =
            Setting.uri("changeflow.test.url", "A server.", "jdbc:postgresql", "postgresql");

    @Test
    void environmentNameIsDerivedFromTheKey() {
        assertThat(Setting.string("changeflow.kafka.bootstrap", "d", null).envName())
                .isEqualTo("CHANGEFLOW_KAFKA_BOOTSTRAP");
        assertThat(Setting.string("changeflow.stack.work-dir", "d", null).envName())
                .isEqualTo("CHANGEFLOW_STACK_WORK_DIR");
    }

    @Test
    void valuesFixedByTheProgramWinOverEveryOtherSource() {
        Settings settings = Settings.of(Map.of("CHANGEFLOW_TEST_PARTITIONS", "7",
                        "changeflow.test.url", "postgresql://db/app"))
                .with(Map.of("changeflow.test.partitions", "48"));

        assertThat(settings.get(PARTITIONS)).isEqualTo(48);
        assertThat(settings.get(URL)).hasToString("postgresql://db/app");
        assertThat(settings.with(Map.of("CHANGEFLOW_TEST_URL", "postgresql://other/app")).get(PARTITIONS))
                .isEqualTo(48);
    }

    @Test
    void aMissingValueFallsBackToTheDefault() {
        assertThat(Settings.of(Map.of()).get(PARTITIONS)).isEqualTo(12);
    }

    @Test
    void aValueIsFoundByKeyOrByEnvironmentName() {
        assertThat(Settings.of(Map.of("changeflow.test.partitions", "48")).get(PARTITIONS)).isEqualTo(48);
        assertThat(Settings.of(Map.of("CHANGEFLOW_TEST_PARTITIONS", "7")).get(PARTITIONS)).isEqualTo(7);
    }

    @Test
    void anInvalidValueNamesTheVariableTheKeyTheValueAndWhatIsAllowed() {
        assertThatThrownBy(() -> Settings.of(Map.of("changeflow.test.partitions", "0")).get(PARTITIONS))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHANGEFLOW_TEST_PARTITIONS=0 (changeflow.test.partitions): invalid value; "
                        + "allowed: an integer from 1 to 1000");
    }

    @Test
    void aRequiredSettingWithoutValueSaysSo() {
        assertThatThrownBy(() -> Settings.of(Map.of()).get(URL))
                .hasMessageContaining("CHANGEFLOW_TEST_URL=<unset>")
                .hasMessageContaining("a value is required");
    }

    @Test
    void credentialsInAUriNeverAppearInAnError() {
        ConfigException e = ConfigException.unusable(URL,
                "postgresql://app:s3cret@db:5432/app?password=s3cret", "cannot connect");
        assertThat(e.getMessage()).doesNotContain("s3cret").contains("postgresql://app:****@db:5432/app");
    }

    @Test
    void aSecretSettingIsMaskedWhenRejected() {
        Setting<String> password = Setting.secret("changeflow.test.password", "d", null)
                .withValidation("at least 8 characters", p -> p.length() >= 8);
        assertThatThrownBy(() -> Settings.of(Map.of("changeflow.test.password", "hunter2")).get(password))
                .hasMessageStartingWith("CHANGEFLOW_TEST_PASSWORD=**** ")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void durationsAcceptShortAndIsoForms() {
        Setting<Duration> d = Setting.duration("changeflow.test.wait", "d", Duration.ofSeconds(1));
        assertThat(d.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(d.parse("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(d.parse("PT5S")).isEqualTo(Duration.ofSeconds(5));
        assertThatThrownBy(() -> d.parse("soon")).hasMessageContaining("allowed: a duration");
    }

    @Test
    void enumsListTheirConstantsAsTheAllowedValues() {
        Setting<Mode> mode = Setting.oneOf("changeflow.test.mode", "d", Mode.class, Mode.EMBEDDED);
        assertThat(mode.parse("Testcontainers")).isEqualTo(Mode.TESTCONTAINERS);
        assertThatThrownBy(() -> mode.parse("docker")).hasMessageEndingWith("allowed: one of embedded, testcontainers");
    }

    @Test
    void uriSchemesAreChecked() {
        assertThat(URL.parse("postgresql://h/db").getHost()).isEqualTo("h");
        assertThatThrownBy(() -> URL.parse("redis://h")).hasMessageContaining("scheme jdbc:postgresql or postgresql");
    }
}
