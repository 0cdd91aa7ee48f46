package dev.changeflow.capture.internal;

import dev.changeflow.db.PostgresEndpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The version of a row read by an incremental snapshot, so that a backfilled row never overwrites (nor outranks) a
 * newer change of the same row in a consumer that orders by {@code source.lsn} (the search indexer).
 *
 * <p>Debezium emits a chunk's rows when the stream reaches the chunk's closing watermark, and gives them that
 * position. That position is too high for one case: a transaction that changed the row <em>before</em> the chunk's
 * window opened and commits <em>after</em> it closed. The chunk's SELECT did not see that change (uncommitted), and
 * the change, streamed later, carries the LSN of its WAL record, which is below the watermark: a consumer comparing
 * LSNs would keep the older, backfilled row.
 *
 * <p>The fix is to version the rows of a chunk at most one below the slot's {@code restart_lsn}, read when capture
 * receives the chunk. Postgres keeps {@code restart_lsn} at or before the first WAL record of every transaction still
 * in progress at the slot's confirmed position, and capture confirms only positions it has published, all before this
 * chunk. So every change the chunk's SELECT could not see (of a transaction in progress then, or begun later) has an
 * LSN above the version, and every change with an LSN at or below it had committed before the SELECT and is in the
 * row. Consumers apply a read only over an older version, and a later change always over a read. The cost: a read
 * cannot repair a document whose version is above the slot's restart position; a rebuild does that.
 *
 * <p>Used by the engine's thread only.
 */
public final class ReadVersions implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReadVersions.class);
    private static final int ATTEMPTS = 10;
    private static final Duration PAUSE = Duration.ofSeconds(1);

    private final PostgresEndpoint endpoint;
    private final String slot;
    private Connection connection;

    public ReadVersions(PostgresEndpoint endpoint, String slot) {
        this.endpoint = endpoint;
        this.slot = slot;
    }

    /**
     * The highest version a row read now may carry: the slot's {@code restart_lsn} minus one, as an unsigned LSN.
     * Asks Postgres, reconnecting and retrying for about ten seconds when it is unreachable.
     *
     * @throws IllegalStateException if Postgres cannot answer; the batch then fails rather than be misversioned
     */
    public long ceiling() throws InterruptedException {
        SQLException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                if (connection == null || connection.isClosed()) {
                    connection = endpoint.connect();
                }
                try (PreparedStatement s = connection.prepareStatement(
                        "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = ?")) {
                    s.setString(1, slot);
                    try (ResultSet rs = s.executeQuery()) {
                        if (!rs.next() || rs.getString(1) == null) {
                            throw new IllegalStateException("slot " + slot + " has no restart_lsn");
                        }
                        return CaptureOffsets.parseLsn(rs.getString(1)) - 1;
                    }
                }
            } catch (SQLException e) {
                last = e;
                close();
                LOG.warn("Cannot read the restart position of slot {} to version backfilled rows ({}); retrying",
                        slot, endpoint.describe(e));
                TimeUnit.MILLISECONDS.sleep(PAUSE.toMillis());
            }
        }
        throw new IllegalStateException("Cannot read the restart position of slot " + slot + ": "
                + endpoint.describe(last), last);
    }

    @Override
    public void close() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                // Closing anyway.
            }
            connection = null;
        }
    }
}
