package dev.changeflow.cli;

import static dev.changeflow.cli.Run.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code changeflow offsets reset} run in this JVM against the shared broker. */
class OffsetsCommandIT {
    @TempDir
    Path dir;

    private static Run reset(OffsetsCommandWorld w, String... args) {
        String[] all = new String[args.length + 7];
        all[0] = "reset";
        all[1] = "--config";
        all[2] = w.config.toString();
        all[3] = "--group";
        all[4] = w.group;
        all[5] = "--topic";
        all[6] = w.topic;
        System.arraycopy(args, 0, all, 7, args.length);
        return run(new OffsetsCommand(), all);
    }

    @Test
    void aDryRunShowsEachPartitionsOffsetBeforeAndAfterExitsWith0AndChangesNothing() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 2)) {
            w.send(0, 10);
            w.send(1, 4);
            w.commit(0, 6, 1, 4);

            Run run = reset(w, "--shift-by", "-3");

            assertThat(run.status()).as(run.err()).isZero();
            assertThat(run.out()).startsWith("dry run: consumer group " + w.group + " (EMPTY, 0 members), topic "
                    + w.topic + ", shift-by -3\n");
            assertThat(run.out().lines().map(l -> l.trim().replaceAll("\\s+", " ")))
                    .containsSubsequence("PARTITION CURRENT TARGET CHANGE", "0 6 3 -3", "1 4 1 -3", "total 10 4 -6",
                            "Nothing was changed; add --execute to apply.");
            assertThat(run.err()).isEmpty();
            assertThat(w.committed()).isEqualTo(Map.of(0, 6L, 1, 4L));
        }
    }

    @Test
    void executeAppliesTheResetAndPrintsTheSameTableAsApplied() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 2)) {
            w.send(0, 5);
            w.send(1, 3);
            w.commit(0, 5, 1, 3);

            Run run = reset(w, "--to-earliest", "--execute");

            assertThat(run.status()).as(run.err()).isZero();
            assertThat(run.out()).startsWith("applied: consumer group " + w.group);
            assertThat(run.out().lines().map(l -> l.trim().replaceAll("\\s+", " ")))
                    .containsSubsequence("0 5 0 -5", "1 3 0 -3", "total 8 0 -8");
            assertThat(w.committed()).isEqualTo(Map.of(0, 0L, 1, 0L));
        }
    }

    @Test
    void executeOnAGroupWithARunningConsumerExitsWith3AndOneLineSayingToStopItFirst() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 1)) {
            w.send(0, 3);
            w.startConsumer();

            Run execute = reset(w, "--to-earliest", "--execute");
            Run dryRun = reset(w, "--to-earliest");

            assertThat(execute.status()).isEqualTo(3);
            assertThat(execute.err()).matches("changeflow offsets reset: consumer group " + w.group
                    + " is active \\(state [A-Z_]+, 1 member\\); stop its consumers first, then reset its offsets\n");
            assertThat(execute.out()).isEmpty();
            assertThat(dryRun.status()).isEqualTo(3);
            assertThat(dryRun.out()).startsWith("dry run: consumer group " + w.group).contains("1 member");
            assertThat(dryRun.err()).startsWith("changeflow offsets reset: --execute would be refused: consumer group "
                    + w.group + " is active");
            assertThat(w.committed().get(0)).as("not reset to 0").isNotEqualTo(0L);
        }
    }

    @Test
    void aDatetimeWithAnOffsetIsAcceptedAndShownInUtc() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 1)) {
            w.send(0, 2);
            w.commit(0, 2);

            Run run = reset(w, "--to-datetime", "2020-01-01T10:00:00+01:00");

            assertThat(run.status()).as(run.err()).isZero();
            assertThat(run.out()).contains("to-datetime 2020-01-01T09:00:00Z");
            assertThat(run.out().lines().map(l -> l.trim().replaceAll("\\s+", " ")))
                    .as("every record is after 2020: back to the first").contains("0 2 0 -2");
        }
    }

    @Test
    void aBadDatetimeExitsWith2NamingTheOptionAndTheAcceptedForms() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 1)) {
            Run run = reset(w, "--to-datetime", "2026-11-21 09:00");

            assertThat(run.status()).isEqualTo(2);
            assertThat(run.err()).isEqualTo("changeflow offsets reset: --to-datetime=2026-11-21 09:00: not a date "
                    + "and time; give an ISO-8601 instant such as 2026-11-21T09:00:00Z, or with an offset such as "
                    + "2026-11-21T10:00:00+01:00\n");
            assertThat(w.committed()).isEmpty();
        }
    }

    @Test
    void twoTargetsOrNoneAreAUsageError() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 1)) {
            Run two = reset(w, "--to-earliest", "--shift-by", "-1");
            Run none = reset(w);

            assertThat(two.status()).isEqualTo(2);
            assertThat(two.err()).contains("mutually exclusive");
            assertThat(none.status()).isEqualTo(2);
            assertThat(none.err()).contains("--to-earliest", "--to-datetime", "--shift-by");
        }
    }

    @Test
    void anUnknownTopicExitsWith2NamingIt() throws Exception {
        try (OffsetsCommandWorld w = new OffsetsCommandWorld(dir, 1)) {
            Run run = run(new OffsetsCommand(), "reset", "--config", w.config.toString(), "--group", w.group,
                    "--topic", w.id + ".missing", "--to-earliest");

            assertThat(run.status()).isEqualTo(2);
            assertThat(run.err()).isEqualTo("changeflow offsets reset: --topic " + w.id + ".missing: topic " + w.id
                    + ".missing does not exist\n");
        }
    }
}
