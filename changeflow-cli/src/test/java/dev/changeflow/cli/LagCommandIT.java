package dev.changeflow.cli;

import static dev.changeflow.cli.Run.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code changeflow lag} run in this JVM against the shared broker, for one group of its own. */
class LagCommandIT {
    @TempDir
    Path dir;

    private static List<String> lines(String text) {
        return text.lines().map(l -> l.trim().replaceAll("\\s+", " ")).toList();
    }

    @Test
    void aLagAboveTheThresholdExitsWith4NamingTheGroupAndBelowItWith0() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 2)) {
            w.send(0, 30);
            w.send(1, 20);
            w.commit(0, 10, 1, 15); // lag 20 + 5

            Run over = run(new LagCommand(), "--config", w.config.toString(), "--group", w.group, "--threshold", "24");
            Run under = run(new LagCommand(), "--config", w.config.toString(), "--group", w.group, "--threshold",
                    "25");

            assertThat(over.status()).isEqualTo(4);
            assertThat(over.err()).isEqualTo("changeflow lag: lag above the threshold of 24: group " + w.group
                    + " 25\n");
            assertThat(under.status()).as(under.err()).isZero();
            assertThat(under.err()).isEmpty();
            assertThat(lines(under.out())).containsExactly("GROUP TOPIC PARTITION COMMITTED END LAG",
                    w.group + " " + w.topic + " 25",
                    w.group + " (total of the group) 25",
                    "(total) 25");
        }
    }

    @Test
    void theDefaultThresholdIs1000() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 1)) {
            w.send(0, 3);
            w.commit(0, 0);

            Run run = run(new LagCommand(), "--config", w.config.toString(), "--group", w.group);

            assertThat(run.status()).as(run.err()).isZero();
            assertThat(lines(run.out())).contains("(total) 3");
        }
    }

    @Test
    void perPartitionShowsEachPartitionsCommittedOffsetEndAndLag() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 2)) {
            w.send(0, 7);
            w.send(1, 2);
            w.commit(0, 4);

            Run run = run(new LagCommand(), "--config", w.config.toString(), "--group", w.group, "--per-partition");

            assertThat(run.status()).as(run.err()).isZero();
            assertThat(lines(run.out())).containsExactly("GROUP TOPIC PARTITION COMMITTED END LAG",
                    w.group + " " + w.topic + " all 5",
                    w.group + " " + w.topic + " 0 4 7 3",
                    w.group + " " + w.topic + " 1 - 2 2",
                    w.group + " (total of the group) 5",
                    "(total) 5");
        }
    }

    @Test
    void aGroupWithoutCommittedOffsetsExitsWith2NamingIt() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 1)) {
            Run run = run(new LagCommand(), "--config", w.config.toString(), "--group", w.group);

            assertThat(run.status()).isEqualTo(2);
            assertThat(run.err()).startsWith("changeflow lag: --group " + w.group + ": no committed offsets");
        }
    }

    @Test
    void aNegativeThresholdExitsWith2() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 1)) {
            Run run = run(new LagCommand(), "--config", w.config.toString(), "--threshold", "-1");

            assertThat(run.status()).isEqualTo(2);
            assertThat(run.err()).isEqualTo("changeflow lag: --threshold=-1: must be 0 or more\n");
        }
    }
}
