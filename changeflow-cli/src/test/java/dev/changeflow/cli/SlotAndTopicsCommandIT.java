package dev.changeflow.cli;

import static dev.changeflow.cli.Run.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.testing.CapturedDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code changeflow slot} and {@code changeflow topics} as an operator runs them, in this JVM, against a real Postgres
 * and Kafka with capture running.
 */
class SlotAndTopicsCommandIT {
    @TempDir
    Path dir;

    private Path config(Map<String, String> settings) throws Exception {
        Path file = dir.resolve("changeflow-" + System.nanoTime() + ".properties");
        Files.writeString(file, settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n")));
        return file;
    }

    @Test
    void slotStatusShowsTheSlotAndResetRefusesWhileCaptureHoldsItUnlessToldToStopIt() throws Exception {
        try (CapturedDatabase world = new CapturedDatabase("c")) {
            world.startCapture();
            String config = config(world.captureSettings()).toString();

            // Debezium closes and reopens its replication connection while it starts: wait for the stream.
            Run status = await("slot status shows the slot active").atMost(Duration.ofSeconds(60))
                    .until(() -> run(new SlotCommand(), "status", "--config", config),
                            r -> r.out().matches("(?s).*" + world.id + " \\*\\s+yes.*"));
            assertThat(status.status()).as(status.err()).isZero();
            assertThat(status.out()).containsPattern(world.id + " \\*\\s+yes").contains("changeflow-capture " + world.id);

            Run refused = run(new SlotCommand(), "reset", "--config", config);
            assertThat(refused.status()).isEqualTo(3);
            assertThat(refused.err()).startsWith("changeflow slot reset: refused: capture holds slot " + world.id)
                    .contains("--stop-capture");

            Run gap = run(new SlotCommand(), "reset", "--from-now", "--stop-capture", "--config", config);
            assertThat(gap.status()).isEqualTo(3);
            assertThat(gap.err()).contains("loses data").contains("--accept-gap").contains("MB of WAL");

            Run reset = run(new SlotCommand(), "reset", "--stop-capture", "--config", config);
            assertThat(reset.status()).as(reset.err()).isZero();
            assertThat(reset.out()).contains("stopping capture", "dropped slot " + world.id, "cleared",
                    "created slot " + world.id, "capture resumes now");
            world.awaitSlotActive();
        }
    }

    @Test
    void aBadSettingIsNamedWithExitCode2() throws Exception {
        try (CapturedDatabase world = new CapturedDatabase("b")) {
            Map<String, String> settings = new java.util.HashMap<>(world.captureSettings());
            settings.put("CHANGEFLOW_CAPTURE_RETAINED_WAL_WARNING_MB", "0");
            Run run = run(new SlotCommand(), "status", "--config", config(settings).toString());
            assertThat(run.status()).isEqualTo(2);
            assertThat(run.err()).startsWith("changeflow slot status: CHANGEFLOW_CAPTURE_RETAINED_WAL_WARNING_MB=0");
        }
    }

    @Test
    void topicsCreateMakesWhatIsMissingAsDesignedAndDescribeShowsIt() throws Exception {
        try (CapturedDatabase world = new CapturedDatabase("p")) {
            String config = config(world.captureSettings()).toString();
            String tasks = world.topic("tasks");

            Run before = run(new TopicsCommand(), "describe", "--config", config);
            assertThat(before.status()).as(before.err()).isZero();
            assertThat(before.out()).contains(tasks + "  DIFFERS: missing");

            Run create = run(new TopicsCommand(), "create", "--config", config);
            assertThat(create.status()).as(create.err()).isZero();
            assertThat(create.out()).containsPattern(java.util.regex.Pattern.quote(tasks)
                    + "\\s+created \\(8 partitions, replication factor 1\\)");
            assertThat(create.out()).containsPattern(java.util.regex.Pattern.quote(tasks + ".dlt") + "\\s+created");

            Run after = run(new TopicsCommand(), "describe", "--config", config);
            assertThat(after.out()).contains(tasks + "  (as designed)", tasks + ".dlt  (as designed)",
                    world.id + ".offsets  (as designed)").doesNotContain("DIFFERS");
            assertThat(after.out()).contains("compression.type         lz4", "retention.ms             604800000",
                    "segment.ms               3600000", "cleanup.policy           compact");

            Run again = run(new TopicsCommand(), "create", "--config", config);
            assertThat(again.out()).containsPattern(java.util.regex.Pattern.quote(tasks) + "\\s+exists");
        }
    }
}
