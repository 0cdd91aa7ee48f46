package dev.changeflow.capture.internal;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The capture lease of a replication slot: a Postgres session-level advisory lock that a capture holds for as long as
 * its engine may read the slot or write its offsets, and that the slot tools hold while they drop or reset it. Whoever
 * holds it is the only one allowed to touch the slot; Postgres releases it when the holder's session ends (the process
 * stopped, died, or was told to stop by ending its session).
 *
 * <p>The session that holds or waits for the lease names itself in {@code application_name}: {@link #activeName} while
 * holding, {@link #standbyName} while waiting. A capture opens its standby session only after its engine has stopped
 * and flushed its offsets, so a standby session is the proof that a capture which lost the lease touches nothing.
 */
public final class CaptureLease {
    /** The first key of every capture lease ("CFLW"); the second is derived from the slot name. */
    static final int NAMESPACE = 0x43464C57;

    private CaptureLease() {
    }

    /** The second key of {@code slot}'s lease: a stable positive hash of its name. */
    static int slotKey(String slot) {
        CRC32 crc = new CRC32();
        crc.update(slot.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() & 0x7fffffffL);
    }

    /** {@code application_name} of a session holding {@code slot}'s lease for a capture. */
    public static String activeName(String slot) {
        return "changeflow-capture " + slot;
    }

    /** {@code application_name} of a capture's session waiting for {@code slot}'s lease, its engine stopped. */
    public static String standbyName(String slot) {
        return "changeflow-capture " + slot + " standby";
    }

    /** {@code application_name} of a slot tool's session holding the lease. */
    public static String toolName(String slot) {
        return "changeflow-slot-tool " + slot;
    }

    /**
     * Tunes {@code session} for holding a lease: names it, and has the server probe the client every few seconds, so
     * that a holder whose machine is gone loses the lease in about 11 s (5 s idle, then 3 probes 2 s apart) instead
     * of hours. A standby polling every 500 ms then takes over well within 30 s of the machine's loss.
     */
    public static void prepare(Connection session, String applicationName) throws SQLException {
        try (Statement s = session.createStatement()) {
            s.execute("SET application_name = '" + applicationName.replace("'", "''") + "'");
            s.execute("SET tcp_keepalives_idle = 5");
            s.execute("SET tcp_keepalives_interval = 2");
            s.execute("SET tcp_keepalives_count = 3");
        }
    }

    /** Renames {@code session}, such as from standby to active once the lease is held. */
    public static void rename(Connection session, String applicationName) throws SQLException {
        try (Statement s = session.createStatement()) {
            s.execute("SET application_name = '" + applicationName.replace("'", "''") + "'");
        }
    }

    /** Takes {@code slot}'s lease in {@code session} if it is free; true if this session now holds it. */
    public static boolean tryAcquire(Connection session, String slot) throws SQLException {
        try (PreparedStatement s = session.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
            s.setInt(1, NAMESPACE);
            s.setInt(2, slotKey(slot));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Whether {@code session} still answers; a session that holds the lease and answers still holds it. */
    public static boolean alive(Connection session) {
        try (Statement s = session.createStatement()) {
            s.setQueryTimeout(5);
            s.execute("SELECT 1");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /** The session holding {@code slot}'s lease: its pid, application name and client address; empty if free. */
    public static Optional<Holder> holder(Connection any, String slot) throws SQLException {
        try (PreparedStatement s = any.prepareStatement("SELECT l.pid, a.application_name, "
                + "coalesce(host(a.client_addr), 'local'), a.backend_start FROM pg_locks l "
                + "LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                + "AND l.classid = ?::bigint::oid AND l.objid = ?::bigint::oid AND l.objsubid = 2 "
                + "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")) {
            s.setInt(1, NAMESPACE);
            s.setInt(2, slotKey(slot));
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new Holder(rs.getInt(1), rs.getString(2), rs.getString(3),
                        String.valueOf(rs.getTimestamp(4)))) : Optional.empty();
            }
        }
    }

    /** Whether a capture of {@code slot} waits for the lease with its engine stopped (a standby session exists). */
    public static boolean standbyWaiting(Connection any, String slot) throws SQLException {
        try (PreparedStatement s = any.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()")) {
            s.setString(1, standbyName(slot));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    /**
     * Ends whatever session still streams from {@code slot}, for a new lease holder: a capture that lost its lease
     * keeps its replication connection until it notices, or, when its machine is gone, until Postgres's
     * {@code wal_sender_timeout} (a minute by default). Waits up to {@code timeout} for the slot to become free.
     *
     * @return the pid that was ended, or -1 if the slot was free
     * @throws java.sql.SQLTimeoutException when the slot is still in use after {@code timeout}
     */
    public static int endStreamer(Connection session, String slot, java.time.Duration timeout)
            throws SQLException, InterruptedException {
        int ended = -1;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Integer pid = null;
            try (PreparedStatement s = session.prepareStatement(
                    "SELECT active_pid FROM pg_replication_slots WHERE slot_name = ? AND active")) {
                s.setString(1, slot);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        pid = rs.getInt(1);
                    }
                }
            }
            if (pid == null) {
                return ended;
            }
            if (System.nanoTime() > deadline) {
                throw new java.sql.SQLTimeoutException("slot " + slot + " is still in use by process " + pid + " after "
                        + timeout.toSeconds() + " s");
            }
            if (pid != ended) {
                terminate(session, pid);
                ended = pid;
            }
            java.util.concurrent.TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    /** Ends the session {@code pid}; true if it existed. */
    public static boolean terminate(Connection any, int pid) throws SQLException {
        try (PreparedStatement s = any.prepareStatement("SELECT pg_terminate_backend(?)")) {
            s.setInt(1, pid);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * Who holds a lease.
     *
     * @param applicationName {@link #activeName} for a capture, {@link #toolName} for a slot tool
     */
    public record Holder(int pid, String applicationName, String clientAddress, String since) {
        public boolean isCapture() {
            return applicationName != null && applicationName.startsWith("changeflow-capture ");
        }

        @Override
        public String toString() {
            return "pid " + pid + " (" + applicationName + ", from " + clientAddress + " since " + since + ")";
        }
    }
}
