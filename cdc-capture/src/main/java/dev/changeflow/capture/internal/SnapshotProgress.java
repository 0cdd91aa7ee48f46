package dev.changeflow.capture.internal;

import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ops.Progress;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shows a snapshot's progress while capture publishes it: rows published against the captured tables' row estimate,
 * as a bar in a terminal or a log line every few seconds, and the counter {@value #ROWS}. Starts at the first snapshot
 * row of an engine's life and ends at the first batch without one (the stream has begun). Used by the engine's thread
 * only.
 */
public final class SnapshotProgress {
    public static final String ROWS = "changeflow.capture.snapshot.rows";
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotProgress.class);

    private final PostgresEndpoint endpoint;
    private final List<String> tables;
    private final Counter rows;
    private Progress progress;
    private long published;
    private boolean finished;

    public SnapshotProgress(PostgresEndpoint endpoint, List<String> tables, MeterRegistry registry) {
        this.endpoint = endpoint;
        this.tables = tables;
        this.rows = Counter.builder(ROWS).description("Rows published by snapshots").register(registry);
    }

    /** Accounts for one published batch. */
    void published(List<ChangeEvent> events) {
        if (finished) {
            return;
        }
        long snapshotRows = events.stream().filter(e -> e.source().snapshot()).count();
        if (snapshotRows == 0) {
            if (progress != null) {
                finish();
            }
            return;
        }
        if (progress == null) {
            long estimate = estimateRows();
            LOG.info("Snapshot of {} started: about {} rows", tables, estimate);
            progress = Progress.start("snapshot", estimate, "rows", LOG::info);
        }
        published += snapshotRows;
        rows.increment(snapshotRows);
        progress.doneSoFar(published);
    }

    /** Ends the display, if a snapshot is being shown; idempotent. */
    void finish() {
        if (progress != null && !finished) {
            progress.total(published);
            progress.doneSoFar(published);
            progress.close();
            LOG.info("Snapshot of {} published: {} rows", tables, published);
        }
        finished = true;
    }

    /** The planner's row estimate of the captured tables, or their count when they were never analysed. */
    private long estimateRows() {
        long total = 0;
        try (Connection c = endpoint.connect()) {
            for (String table : tables) {
                long estimate;
                try (PreparedStatement s = c.prepareStatement("SELECT reltuples::bigint FROM pg_class WHERE oid = ?::regclass")) {
                    s.setString(1, table);
                    try (ResultSet rs = s.executeQuery()) {
                        estimate = rs.next() ? rs.getLong(1) : -1;
                    }
                }
                if (estimate < 0) {
                    try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM " + table)) {
                        try (ResultSet rs = s.executeQuery()) {
                            rs.next();
                            estimate = rs.getLong(1);
                        }
                    }
                }
                total += estimate;
            }
            return total;
        } catch (SQLException e) {
            LOG.warn("Cannot estimate the snapshot's size: {}", endpoint.describe(e));
            return -1;
        }
    }
}
