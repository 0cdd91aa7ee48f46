package dev.changeflow.capture.slot;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.capture.snapshot.Backfills;
import dev.changeflow.capture.internal.CaptureLease;
import dev.changeflow.capture.internal.CaptureOffsets;
import dev.changeflow.capture.internal.DebeziumProperties;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Status, drop and reset of capture's logical replication slots, safe by construction.
 *
 * <p>The documented way to reset a Debezium slot (drop it, let the connector create a new one) silently loses every
 * change between the old slot's position and the new one, because the connector's stored offsets still say the
 * snapshot is done. {@link #reset} instead, while holding the slot's capture lease (so that no capture streams or
 * writes offsets meanwhile): drops the slot, clears the capture offsets, recreates the slot, and leaves the next
 * capture to take a new snapshot; changes made during the reset are in the new slot, rows changed before it are in the
 * snapshot, so nothing is lost. {@link Reset#FROM_NOW} moves the offsets to the new slot's position and skips the
 * snapshot: changes not yet published are lost, so it is refused unless the gap is accepted explicitly.
 *
 * <p>A capture holding the lease makes every mutating operation refuse, unless asked to stop it: then the lease's
 * session is ended, the capture stops its engine (committing what Kafka acknowledged) and waits for the lease again,
 * which proves it stopped; the operation proceeds, then releases the lease and the capture resumes by itself.
 * Blocking; not thread-safe (one operation at a time per instance; the lease serialises instances).
 */
public final class ReplicationSlots {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationSlots.class);
    private static final Duration POLL = Duration.ofMillis(100);

    /** How a reset resumes capture. */
    public enum Reset {
        /** Clear the offsets; the next capture snapshots every row, then streams. No change is lost. */
        RESNAPSHOT,
        /** Move the offsets to the new slot; the next capture streams from its position without a snapshot. */
        FROM_NOW
    }

    /**
     * What a drop or reset did.
     *
     * @param before the slot before, or null if it did not exist
     * @param stoppedCapture whether a running capture was stopped for it (it resumes by itself)
     * @param offsetsCleared how many capture offset keys were removed
     * @param newSlotLsn the recreated slot's consistent point, or null after a drop
     */
    public record Outcome(String slot, SlotStatus before, boolean stoppedCapture, int offsetsCleared,
            String newSlotLsn) {
    }

    private final PostgresEndpoint endpoint;
    private final String bootstrap;
    private final String offsetsTopic;
    private final Duration stopTimeout;
    private final Function<String, String> transactionalIdOf;
    private final String signalTable;

    /**
     * @param transactionalIdOf the transactional id of the capture of a slot, taken over to fence that capture when
     *     its offsets are cleared or moved
     * @param signalTable capture's signalling table, where its first incremental snapshot is requested
     */
    public ReplicationSlots(PostgresEndpoint endpoint, String bootstrap, String offsetsTopic, Duration stopTimeout,
            Function<String, String> transactionalIdOf, String signalTable) {
        this.signalTable = signalTable;
        this.endpoint = endpoint;
        this.bootstrap = bootstrap;
        this.offsetsTopic = offsetsTopic;
        this.stopTimeout = stopTimeout;
        this.transactionalIdOf = transactionalIdOf;
    }

    /**
     * From capture's settings: Postgres, Kafka and the offsets topic.
     *
     * @throws dev.changeflow.config.ConfigException naming the first missing or bad setting
     */
    public static ReplicationSlots from(Settings settings) {
        String configuredSlot = settings.get(CaptureSettings.SLOT);
        String configuredId = CaptureSettings.transactionalId(settings);
        return new ReplicationSlots(PostgresEndpoint.from(settings),
                settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim(), settings.get(CaptureSettings.OFFSETS_TOPIC),
                Duration.ofSeconds(60), slot -> slot.equals(configuredSlot) ? configuredId
                        : CaptureSettings.defaultTransactionalId(slot), settings.get(CaptureSettings.SIGNAL_TABLE));
    }

    /** Every logical replication slot of the database, by name. */
    public List<SlotStatus> status() throws SQLException {
        try (Connection c = endpoint.connect()) {
            return read(c, null);
        }
    }

    /** One slot, if it exists. */
    public Optional<SlotStatus> status(String slot) throws SQLException {
        try (Connection c = endpoint.connect()) {
            return read(c, slot).stream().findFirst();
        }
    }

    /**
     * What resuming {@code slot} from now would skip: the WAL between its confirmed position and now. Changes nothing.
     */
    public String gap(String slot) throws SQLException {
        try (Connection c = endpoint.connect(); PreparedStatement s = c.prepareStatement("SELECT confirmed_flush_lsn, "
                + "pg_current_wal_lsn(), pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                + "FROM pg_replication_slots WHERE slot_name = ?")) {
            s.setString(1, slot);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return "slot " + slot + " does not exist: every change since capture last ran with it is "
                            + "skipped, and no snapshot is taken";
                }
                return "changes committed after LSN " + rs.getString(1) + " up to now (LSN " + rs.getString(2)
                        + ", " + mb(rs.getLong(3)) + " of WAL) that capture has not published yet are skipped, "
                        + "and so is every change made before capture resumes; no snapshot is taken to make up "
                        + "for them";
            }
        }
    }

    /**
     * Drops {@code slot} and clears its capture offsets (so that the next capture snapshots instead of resuming from
     * offsets no slot can serve).
     *
     * @param stopCapture stop a capture holding the slot (it waits as a standby and recreates the slot when it
     *     resumes); otherwise such a capture makes this refuse
     * @throws SlotRefusedException if capture or another process holds the slot and was not to be stopped, or did not
     *     stop in time; nothing changed
     */
    public Outcome drop(String slot, boolean stopCapture, Consumer<String> log) throws SQLException {
        return underLease(slot, stopCapture, log, (c, before, stopped) -> {
            if (before != null) {
                dropSlot(c, slot);
                log.accept("dropped slot " + slot);
            }
            int cleared = clearOffsets(slot, log);
            return new Outcome(slot, before, stopped, cleared, null);
        });
    }

    /**
     * Resets {@code slot}: drops it, clears the capture offsets ({@link Reset#RESNAPSHOT} only), recreates it with
     * pgoutput. The next capture of the slot snapshots ({@code RESNAPSHOT}) or streams from the new position.
     *
     * @param acceptGap required for {@link Reset#FROM_NOW}, which skips changes; without it that mode refuses
     * @param stopCapture see {@link #drop}
     * @throws SlotRefusedException see {@link #drop}; also for {@code FROM_NOW} without {@code acceptGap}, the
     *     message then saying what would be skipped
     */
    public Outcome reset(String slot, Reset mode, boolean acceptGap, boolean stopCapture, Consumer<String> log)
            throws SQLException {
        if (mode == Reset.FROM_NOW && !acceptGap) {
            throw new SlotRefusedException("resetting slot " + slot + " from now loses data: " + gap(slot)
                    + ". Pass --accept-gap to do it anyway, or reset without --from-now to resnapshot (no loss)");
        }
        return underLease(slot, stopCapture, log, (c, before, stopped) -> {
            if (mode == Reset.FROM_NOW) {
                log.accept("skipping: " + gap(slot));
            }
            if (before != null) {
                dropSlot(c, slot);
                log.accept("dropped slot " + slot + " (was at restart_lsn " + before.restartLsn()
                        + ", confirmed_flush_lsn " + before.confirmedFlushLsn() + ")");
            }
            int cleared = mode == Reset.RESNAPSHOT ? clearOffsets(slot, log) : 0;
            String lsn;
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT lsn FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
                s.setString(1, slot);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    lsn = rs.getString(1);
                }
            }
            if (mode == Reset.FROM_NOW) {
                int moved = CaptureOffsets.moveTo(bootstrap, offsetsTopic, DebeziumProperties.engineName(slot),
                        transactionalIdOf.apply(slot), CaptureOffsets.parseLsn(lsn));
                log.accept("moved " + moved + " capture offset key(s) of slot " + slot + " to LSN " + lsn);
            }
            log.accept("created slot " + slot + " at LSN " + lsn + (mode == Reset.RESNAPSHOT
                    ? "; capture snapshots every row when it resumes, then streams from there"
                    : "; capture streams from there when it resumes, without a snapshot"));
            return new Outcome(slot, before, stopped, cleared, lsn);
        });
    }

    private interface LeasedAction {
        Outcome run(Connection c, SlotStatus before, boolean stoppedCapture) throws SQLException;
    }

    /**
     * Runs {@code action} holding {@code slot}'s lease, with the slot inactive. The lease is released when the
     * tool's session closes, also when the action fails.
     */
    private Outcome underLease(String slot, boolean stopCapture, Consumer<String> log, LeasedAction action)
            throws SQLException {
        try (Connection c = endpoint.connect()) {
            CaptureLease.prepare(c, CaptureLease.toolName(slot));
            boolean stopped = takeLease(c, slot, stopCapture, log);
            awaitInactive(c, slot, stopCapture, log);
            SlotStatus before = read(c, slot).stream().findFirst().orElse(null);
            Outcome outcome = action.run(c, before, stopped);
            LOG.info("Slot {}: {}", slot, outcome);
            return outcome;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SlotRefusedException("interrupted while waiting for slot " + slot + "; nothing was changed");
        }
    }

    /** Takes the lease, stopping its capture holder if allowed; true if a capture was stopped. */
    private boolean takeLease(Connection c, String slot, boolean stopCapture, Consumer<String> log)
            throws SQLException, InterruptedException {
        Optional<CaptureLease.Holder> holder = CaptureLease.holder(c, slot);
        if (holder.isPresent() && !holder.get().isCapture()) {
            throw new SlotRefusedException("another slot operation holds slot " + slot + ": " + holder.get()
                    + "; wait for it to finish");
        }
        if (holder.isPresent() && !stopCapture) {
            throw new SlotRefusedException("capture holds slot " + slot + ": " + holder.get()
                    + ". Stop capture first, or pass --stop-capture to have it stop and resume after the operation");
        }
        Set<Integer> standbysBefore = standbyPids(c, slot);
        if (holder.isPresent()) {
            log.accept("stopping capture " + holder.get());
            CaptureLease.terminate(c, holder.get().pid());
        }
        long deadline = System.nanoTime() + stopTimeout.toNanos();
        while (!CaptureLease.tryAcquire(c, slot)) {
            Optional<CaptureLease.Holder> now = CaptureLease.holder(c, slot);
            if (now.isPresent() && !stopCapture) {
                throw new SlotRefusedException("capture took slot " + slot + " meanwhile: " + now.get()
                        + ". Stop capture first, or pass --stop-capture");
            }
            if (now.isPresent() && now.get().isCapture()) {
                CaptureLease.terminate(c, now.get().pid());
            }
            if (System.nanoTime() > deadline) {
                throw new SlotRefusedException("could not take the lease of slot " + slot + " within "
                        + stopTimeout.toSeconds() + " s; nothing was changed");
            }
            TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
        }
        if (holder.isEmpty()) {
            return false;
        }
        // The capture opens a standby session only once its engine stopped and committed its offsets.
        while (standbyPids(c, slot).stream().noneMatch(pid -> !standbysBefore.contains(pid))) {
            if (System.nanoTime() > deadline) {
                throw new SlotRefusedException("capture of slot " + slot + " did not confirm within "
                        + stopTimeout.toSeconds() + " s that it stopped; nothing was changed. If its process is "
                        + "gone, run the operation again without --stop-capture");
            }
            TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
        }
        log.accept("capture stopped and waits as a standby; it resumes when this operation ends");
        return true;
    }

    /** Waits until nobody streams from {@code slot}; a streamer without the lease is ended only if allowed. */
    private void awaitInactive(Connection c, String slot, boolean stopCapture, Consumer<String> log)
            throws SQLException, InterruptedException {
        Optional<SlotStatus> status = read(c, slot).stream().findFirst();
        if (status.isEmpty() || !status.get().active()) {
            return;
        }
        if (!stopCapture) {
            throw new SlotRefusedException("slot " + slot + " is in use by process " + status.get().activePid()
                    + " (not a capture holding the lease); stop it first, or pass --stop-capture to end its session");
        }
        log.accept("ending the session of process " + status.get().activePid() + ", which streams from slot " + slot);
        try {
            CaptureLease.endStreamer(c, slot, stopTimeout);
        } catch (java.sql.SQLTimeoutException e) {
            throw new SlotRefusedException(e.getMessage() + "; nothing was changed");
        }
    }

    private int clearOffsets(String slot, Consumer<String> log) {
        int cleared = CaptureOffsets.clear(bootstrap, offsetsTopic, DebeziumProperties.engineName(slot),
                transactionalIdOf.apply(slot));
        log.accept("cleared " + cleared + " capture offset key(s) of slot " + slot + " in " + offsetsTopic);
        try (Connection c = endpoint.connect()) {
            int forgotten = Backfills.forgetInitialRequest(c, signalTable, slot);
            if (forgotten > 0) {
                log.accept("forgot the first snapshot requested for slot " + slot + ": capture requests a new one");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot forget the first snapshot of slot " + slot + " in " + signalTable
                    + ": " + endpoint.describe(e), e);
        }
        return cleared;
    }

    private static void dropSlot(Connection c, String slot) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
            s.setString(1, slot);
            s.execute();
        }
    }

    private static Set<Integer> standbyPids(Connection c, String slot) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ? "
                + "AND datname = current_database()")) {
            s.setString(1, CaptureLease.standbyName(slot));
            Set<Integer> pids = new HashSet<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
            return pids;
        }
    }

    private static List<SlotStatus> read(Connection c, String slot) throws SQLException {
        String sql = "SELECT slot_name, plugin, active, active_pid, restart_lsn::text, confirmed_flush_lsn::text, "
                + "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint, wal_status, safe_wal_size "
                + "FROM pg_replication_slots WHERE slot_type = 'logical' AND database = current_database()"
                + (slot == null ? "" : " AND slot_name = ?") + " ORDER BY slot_name";
        List<SlotStatus> slots = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql)) {
            if (slot != null) {
                s.setString(1, slot);
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    int pid = rs.getInt(4);
                    Integer activePid = rs.wasNull() ? null : pid;
                    long safe = rs.getLong(9);
                    Long safeWalSize = rs.wasNull() ? null : safe;
                    slots.add(new SlotStatus(name, rs.getString(2), rs.getBoolean(3), activePid, rs.getString(5),
                            rs.getString(6), rs.getLong(7), rs.getString(8), safeWalSize, null));
                }
            }
        }
        List<SlotStatus> withHolders = new ArrayList<>();
        for (SlotStatus s : slots) {
            String holder = CaptureLease.holder(c, s.name()).map(Object::toString).orElse(null);
            withHolders.add(new SlotStatus(s.name(), s.plugin(), s.active(), s.activePid(), s.restartLsn(),
                    s.confirmedFlushLsn(), s.retainedBytes(), s.walStatus(), s.safeWalSize(), holder));
        }
        return withHolders;
    }

    /** {@code bytes} in MB with one decimal, such as {@code 12.5 MB}. */
    public static String mb(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }
}
