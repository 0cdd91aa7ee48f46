package dev.changeflow.cli;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.capture.slot.ReplicationSlots;
import dev.changeflow.capture.slot.SlotRefusedException;
import dev.changeflow.capture.slot.SlotStatus;
import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code changeflow slot status|reset|drop}: capture's replication slot, operated safely (see
 * {@link ReplicationSlots}). Exit codes: 0 done, 1 Postgres or Kafka failed, 2 bad setting or option, 3 refused
 * (capture holds the slot, or {@code --from-now} without {@code --accept-gap}); nothing is changed when refused.
 */
@Command(name = "slot", mixinStandardHelpOptions = true,
        description = "Inspect, reset or drop capture's logical replication slot.",
        subcommands = {SlotCommand.Status.class, SlotCommand.Reset.class, SlotCommand.Drop.class})
public final class SlotCommand {

    /** Options every slot subcommand takes. */
    static class Common {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
        Path config;

        @Option(names = "--slot", paramLabel = "NAME",
                description = "The slot (default: CHANGEFLOW_CAPTURE_SLOT, changeflow).")
        String slot;

        @Spec
        CommandSpec spec;

        java.util.Optional<OpsCommandSupport> support(String name) {
            return CliSettings.opsSupport("slot " + name, config, spec);
        }

        String slot(Settings settings) {
            return slot != null ? slot : settings.get(CaptureSettings.SLOT);
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows every logical slot of the database: active (pid), restart_lsn, confirmed_flush_lsn, "
                    + "retained WAL, wal_status, safe_wal_size and who holds the capture lease; warns when a slot "
                    + "retains more WAL than CHANGEFLOW_CAPTURE_RETAINED_WAL_WARNING_MB.")
    static final class Status extends Common implements Callable<Integer> {
        @Override
        public Integer call() {
            java.util.Optional<OpsCommandSupport> loaded = support("status");
            if (loaded.isEmpty()) {
                return OpsCommandSupport.BAD_USAGE;
            }
            OpsCommandSupport ops = loaded.get();
            try {
                List<SlotStatus> slots = ReplicationSlots.from(ops.settings()).status();
                long warning = (long) ops.settings().get(CaptureSettings.RETAINED_WAL_WARNING_MB) << 20;
                PrintWriter out = ops.out();
                String configured = slot(ops.settings());
                out.printf("%-24s %-7s %-8s %-14s %-14s %12s %-10s %12s  %s%n", "SLOT", "ACTIVE", "PID", "RESTART_LSN",
                        "CONFIRMED_LSN", "RETAINED", "WAL_STATUS", "SAFE_WAL", "LEASE");
                for (SlotStatus s : slots) {
                    out.printf("%-24s %-7s %-8s %-14s %-14s %12s %-10s %12s  %s%n",
                            s.name() + (s.name().equals(configured) ? " *" : ""), s.active() ? "yes" : "no",
                            s.activePid() == null ? "-" : s.activePid(), s.restartLsn(), s.confirmedFlushLsn(),
                            ReplicationSlots.mb(s.retainedBytes()), s.walStatus(),
                            s.safeWalSize() == null ? "unlimited" : ReplicationSlots.mb(s.safeWalSize()),
                            s.leaseHolder() == null ? "-" : s.leaseHolder());
                }
                if (slots.stream().noneMatch(s -> s.name().equals(configured))) {
                    out.println("(slot " + configured + " does not exist: capture creates it on its next start)");
                } else {
                    out.println("* the configured slot (CHANGEFLOW_CAPTURE_SLOT)");
                }
                out.flush();
                for (SlotStatus s : slots) {
                    if (s.retainsMoreThan(warning)) {
                        ops.err().println("WARNING: slot " + s.name() + " retains " + ReplicationSlots.mb(
                                s.retainedBytes()) + " of WAL, above " + ReplicationSlots.mb(warning)
                                + " (CHANGEFLOW_CAPTURE_RETAINED_WAL_WARNING_MB): is its capture running and keeping "
                                + "up? Postgres keeps this WAL on disk until the slot advances.");
                    }
                    if ("lost".equals(s.walStatus())) {
                        ops.err().println("WARNING: slot " + s.name() + " lost WAL it needed: capture cannot resume "
                                + "from it; run `changeflow slot reset` (resnapshot) to recover without losing rows.");
                    }
                }
                ops.err().flush();
                return OpsCommandSupport.OK;
            } catch (ConfigException e) {
                return ops.badSetting(e);
            } catch (SQLException e) {
                return ops.fail(OpsCommandSupport.FAILED, PostgresEndpoint.from(ops.settings()).describe(e));
            }
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true,
            description = {"Resets the slot safely: drops it, clears capture's offsets, recreates it; capture then "
                    + "snapshots every row and streams on, so no change is lost.",
                    "Refuses while capture holds the slot unless --stop-capture: capture then stops, waits while the "
                            + "reset runs, and resumes by itself."})
    static final class Reset extends Common implements Callable<Integer> {
        @Option(names = "--from-now", description = "Skip the snapshot: capture resumes from the new slot's position. "
                + "Changes not yet published are lost; needs --accept-gap.")
        boolean fromNow;

        @Option(names = "--accept-gap", description = "Accept the changes --from-now skips (printed when refused).")
        boolean acceptGap;

        @Option(names = "--stop-capture", description = "Stop a capture holding the slot for the reset; it resumes "
                + "after.")
        boolean stopCapture;

        @Override
        public Integer call() {
            return runLeased("reset", this, (slots, slot, ops) -> slots.reset(slot, fromNow
                    ? ReplicationSlots.Reset.FROM_NOW : ReplicationSlots.Reset.RESNAPSHOT, acceptGap, stopCapture,
                    line -> progress(ops, line)));
        }
    }

    @Command(name = "drop", mixinStandardHelpOptions = true,
            description = {"Drops the slot and clears capture's offsets (so that a later capture snapshots instead of "
                    + "silently resuming from offsets no slot serves). Use it to decommission capture or free WAL.",
                    "Refuses while capture holds the slot unless --stop-capture (capture then recreates the slot and "
                            + "snapshots when it resumes)."})
    static final class Drop extends Common implements Callable<Integer> {
        @Option(names = "--stop-capture", description = "Stop a capture holding the slot for the drop.")
        boolean stopCapture;

        @Override
        public Integer call() {
            return runLeased("drop", this, (slots, slot, ops) -> slots.drop(slot, stopCapture,
                    line -> progress(ops, line)));
        }
    }

    private interface SlotOperation {
        ReplicationSlots.Outcome run(ReplicationSlots slots, String slot, OpsCommandSupport ops) throws SQLException;
    }

    private static void progress(OpsCommandSupport ops, String line) {
        ops.out().println("  " + line);
        ops.out().flush();
    }

    private static int runLeased(String name, Common options, SlotOperation operation) {
        java.util.Optional<OpsCommandSupport> loaded = options.support(name);
        if (loaded.isEmpty()) {
            return OpsCommandSupport.BAD_USAGE;
        }
        OpsCommandSupport ops = loaded.get();
        try {
            String slot = options.slot(ops.settings());
            ops.out().println("changeflow slot " + name + ": slot " + slot);
            ReplicationSlots.Outcome outcome = operation.run(ReplicationSlots.from(ops.settings()), slot, ops);
            ops.out().println("changeflow slot " + name + ": done" + (outcome.stoppedCapture()
                    ? "; capture resumes now" : "; capture resumes when it starts")
                    + (outcome.newSlotLsn() != null ? "" : " (it recreates the slot)"));
            ops.out().flush();
            return OpsCommandSupport.OK;
        } catch (ConfigException e) {
            return ops.badSetting(e);
        } catch (SlotRefusedException e) {
            return ops.fail(OpsCommandSupport.REFUSED, "refused: " + e.getMessage());
        } catch (SQLException e) {
            return ops.fail(OpsCommandSupport.FAILED, PostgresEndpoint.from(ops.settings()).describe(e));
        } catch (IllegalStateException e) {
            return ops.fail(OpsCommandSupport.FAILED, e.getMessage());
        }
    }
}
