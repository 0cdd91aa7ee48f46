package dev.changeflow.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.changeflow.capture.snapshot.BackfillAdminRoutes;
import dev.changeflow.capture.snapshot.BackfillRefusedException;
import dev.changeflow.capture.snapshot.BackfillStatus;
import dev.changeflow.capture.snapshot.Backfills;
import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.config.ConfigException;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.router.ops.Progress;
import dev.changeflow.router.service.AdminApi;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code changeflow snapshot start|status|stop}: backfills while streaming, that is incremental snapshots of one
 * captured table (or of the rows a WHERE condition selects), read by capture in chunks between streamed changes (see
 * {@link Backfills}). A request goes through the replication slot, so it waits for a capture that is down.
 *
 * <p>Exit codes: 0 done ({@code start --wait}: the backfill is done); 1 Postgres or Kafka failed, or the backfill
 * {@code start --wait} follows was stopped; 2 a bad setting or option, or a request {@link Backfills} refuses (an
 * unknown or uncaptured table, a WHERE condition that does not parse or names a missing column, a chunk size outside
 * 1..1000000, a second backfill of a table while one is pending or running, a stop with nothing to stop). A refusal
 * prints one line on stderr, {@code changeflow snapshot <subcommand>: <why>}, and changes nothing.
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = "Backfill a captured table (incremental snapshot) while streaming goes on: start, follow, stop.",
        subcommands = {SnapshotCommand.Start.class, SnapshotCommand.Status.class, SnapshotCommand.Stop.class})
public final class SnapshotCommand {
    /** Bounds of {@code --chunk-size}, as capture's CHANGEFLOW_CAPTURE_SNAPSHOT_CHUNK_SIZE allows. */
    static final int MIN_CHUNK_SIZE = 1;
    static final int MAX_CHUNK_SIZE = 1_000_000;
    /** How often {@code start --wait} asks where the backfill stands. */
    static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

    /** Options every snapshot subcommand takes. */
    static class Common {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
        Path config;

        @Spec
        CommandSpec spec;

        Optional<OpsCommandSupport> support(String name) {
            return CliSettings.opsSupport("snapshot " + name, config, spec);
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = {"Requests a backfill of a captured table, or of the rows --where selects: capture reads "
                    + "them in chunks between streamed changes and publishes them as read events; streaming goes on.",
                    "Prints the request's id and the rows it matches; with --wait, shows progress until it is done."})
    static final class Start extends Common implements Callable<Integer> {
        @Option(names = "--table", paramLabel = "TABLE", required = true,
                description = "The captured table, bare (tasks) or schema-qualified (app.tasks).")
        String table;

        @Option(names = "--where", paramLabel = "CONDITION",
                description = "Only the rows matching this SQL condition, e.g. \"project_id = '...'\" (default: all).")
        String where;

        @Option(names = "--chunk-size", paramLabel = "N", description = "Rows per chunk, " + MIN_CHUNK_SIZE + " to "
                + MAX_CHUNK_SIZE + " (default: CHANGEFLOW_CAPTURE_SNAPSHOT_CHUNK_SIZE).")
        Integer chunkSize;

        @Option(names = "--wait", description = "Show progress until the backfill is done (exit 0) or stopped (1).")
        boolean await;

        @Override
        public Integer call() {
            Optional<OpsCommandSupport> loaded = support("start");
            if (loaded.isEmpty()) {
                return OpsCommandSupport.BAD_USAGE;
            }
            OpsCommandSupport ops = loaded.get();
            if (chunkSize != null && (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE)) {
                return ops.fail(OpsCommandSupport.BAD_USAGE, "--chunk-size " + chunkSize + " is not allowed: from "
                        + MIN_CHUNK_SIZE + " to " + MAX_CHUNK_SIZE);
            }
            return guarded(ops, () -> {
                Backfills backfills = Backfills.from(ops.settings());
                BackfillStatus started = backfills.start(table, Optional.ofNullable(where),
                        chunkSize == null ? OptionalInt.empty() : OptionalInt.of(chunkSize));
                String bare = started.table().substring(started.table().indexOf('.') + 1);
                ops.out().println("changeflow snapshot start: requested backfill " + started.id() + " of "
                        + started.table() + ": " + started.rowsEstimate() + " rows" + (started.condition() == null
                        ? "" : " where " + started.condition()) + ", in chunks of " + started.chunkSize()
                        + (await ? "" : "; follow it with `changeflow snapshot status`, stop it with "
                        + "`changeflow snapshot stop --table " + bare + "`"));
                ops.out().flush();
                return await ? follow(ops, backfills, started) : OpsCommandSupport.OK;
            });
        }

        /** Polls {@code started} until it is done (0) or stopped (1), showing its rows as progress on stderr. */
        private static int follow(OpsCommandSupport ops, Backfills backfills, BackfillStatus started)
                throws SQLException, InterruptedException {
            PrintWriter err = ops.err();
            BackfillStatus now = started;
            try (Progress progress = Progress.start("backfill " + started.table(), started.rowsEstimate(), "rows",
                    line -> {
                        err.println(line);
                        err.flush();
                    })) {
                while (true) {
                    progress.doneSoFar(now.rowsDone());
                    progress.note(" " + now.state().name().toLowerCase(Locale.ROOT));
                    if (!now.state().active()) {
                        break;
                    }
                    TimeUnit.MILLISECONDS.sleep(POLL_INTERVAL.toMillis());
                    String id = started.id();
                    Optional<BackfillStatus> latest = backfills.status().stream()
                            .filter(b -> b.id().equals(id)).findFirst();
                    if (latest.isEmpty()) {
                        return ops.fail(OpsCommandSupport.FAILED, "backfill " + id + " is no longer recorded in "
                                + "the backfill table (CHANGEFLOW_CAPTURE_BACKFILL_TABLE)");
                    }
                    now = latest.get();
                }
            }
            if (now.state() == BackfillStatus.State.STOPPED) {
                return ops.fail(OpsCommandSupport.FAILED, "backfill " + now.id() + " of " + now.table()
                        + " was stopped before it was done (`changeflow snapshot stop`)");
            }
            ops.out().println("changeflow snapshot start: backfill " + now.id() + " of " + now.table() + " done: "
                    + now.rowsDone() + " rows");
            ops.out().flush();
            return OpsCommandSupport.OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows the backfills recorded, newest first: state (pending, queued, running, done, "
                    + "stopped), rows done of those matched, chunks, time left, when requested and the condition.")
    static final class Status extends Common implements Callable<Integer> {
        @Option(names = "--json", description = "Print them as JSON, as the admin API's GET /snapshots does.")
        boolean json;

        @Override
        public Integer call() {
            Optional<OpsCommandSupport> loaded = support("status");
            if (loaded.isEmpty()) {
                return OpsCommandSupport.BAD_USAGE;
            }
            OpsCommandSupport ops = loaded.get();
            return guarded(ops, () -> {
                List<BackfillStatus> backfills = Backfills.from(ops.settings()).status();
                PrintWriter out = ops.out();
                if (json) {
                    out.println(AdminApi.json().writerWithDefaultPrettyPrinter().writeValueAsString(
                            backfills.stream().map(BackfillAdminRoutes::json).toList()));
                } else if (backfills.isEmpty()) {
                    out.println("no backfills recorded; request one with `changeflow snapshot start --table TABLE`");
                } else {
                    String format = "%-8s  %-16s  %-8s  %-22s  %8s  %8s  %-20s  %s%n";
                    out.printf(format, "ID", "TABLE", "STATE", "ROWS", "CHUNKS", "ETA", "REQUESTED", "WHERE");
                    for (BackfillStatus b : backfills) {
                        out.printf(format, shortId(b.id()), b.table(), b.state().name(), rows(b), b.chunksDone(),
                                eta(b.eta()), b.requestedAt().truncatedTo(ChronoUnit.SECONDS),
                                b.condition() == null ? "(all rows)" : b.condition());
                    }
                }
                out.flush();
                return OpsCommandSupport.OK;
            });
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stops the pending or running backfill of a table: capture finishes the chunk in hand and "
                    + "reads no more; what was published stays published.")
    static final class Stop extends Common implements Callable<Integer> {
        @Option(names = "--table", paramLabel = "TABLE", required = true,
                description = "The captured table, bare (tasks) or schema-qualified (app.tasks).")
        String table;

        @Override
        public Integer call() {
            Optional<OpsCommandSupport> loaded = support("stop");
            if (loaded.isEmpty()) {
                return OpsCommandSupport.BAD_USAGE;
            }
            OpsCommandSupport ops = loaded.get();
            return guarded(ops, () -> {
                for (BackfillStatus b : Backfills.from(ops.settings()).stop(table)) {
                    ops.out().println("changeflow snapshot stop: stopped backfill " + b.id() + " of " + b.table()
                            + " (it was " + b.state().name().toLowerCase(Locale.ROOT) + ", " + rows(b)
                            + "); capture finishes the chunk in hand");
                }
                ops.out().flush();
                return OpsCommandSupport.OK;
            });
        }
    }

    private interface Action {
        int run() throws SQLException, InterruptedException, JsonProcessingException;
    }

    /** Runs {@code action}, turning what it throws into one line on stderr and its exit code. */
    private static int guarded(OpsCommandSupport ops, Action action) {
        try {
            return action.run();
        } catch (ConfigException e) {
            return ops.badSetting(e);
        } catch (BackfillRefusedException e) {
            return ops.fail(OpsCommandSupport.BAD_USAGE, e.getMessage());
        } catch (SQLException e) {
            return ops.fail(OpsCommandSupport.FAILED, PostgresEndpoint.from(ops.settings()).describe(e));
        } catch (KafkaException e) {
            return ops.fail(OpsCommandSupport.FAILED, "Kafka " + ops.bootstrap() + ": " + e.getMessage());
        } catch (IllegalStateException | JsonProcessingException e) {
            // Capture's offsets could not be read from Kafka (or were not what Debezium writes).
            return ops.fail(OpsCommandSupport.FAILED, e.getMessage());
        } catch (InterruptedException e) {
            return ops.interrupted();
        }
    }

    /** The first 8 characters of a request id (a UUID), enough to tell backfills apart in a table. */
    static String shortId(String id) {
        return id.length() <= 8 ? id : id.substring(0, 8);
    }

    /** {@code done/estimate (percent%)}; a done backfill of no rows is 100%. */
    static String rows(BackfillStatus b) {
        long percent = b.rowsEstimate() > 0 ? Math.min(100, b.rowsDone() * 100 / b.rowsEstimate())
                : b.state() == BackfillStatus.State.DONE ? 100 : 0;
        return b.rowsDone() + "/" + b.rowsEstimate() + " (" + percent + "%)";
    }

    /** {@code 1h02m}, {@code 4m05s}, {@code 12s}, or {@code -} when unknown. */
    static String eta(Duration eta) {
        if (eta == null) {
            return "-";
        }
        long s = eta.toSeconds();
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60)
                : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
