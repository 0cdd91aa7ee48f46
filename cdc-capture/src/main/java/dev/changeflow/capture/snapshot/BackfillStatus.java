package dev.changeflow.capture.snapshot;

import java.time.Duration;
import java.time.Instant;

/**
 * One backfill as {@code changeflow snapshot status} shows it.
 *
 * @param id the request's id (also the Debezium signal's id)
 * @param table the schema-qualified table
 * @param condition the WHERE condition, or null for the whole table
 * @param chunkSize rows per chunk
 * @param state where it stands
 * @param rowsEstimate rows the condition matched when it was requested
 * @param rowsDone rows at or before the last key capture committed (for a running backfill), else 0 or the estimate
 * @param requestedAt when it was requested
 * @param eta the estimated time left at the rate so far, or null when unknown
 */
public record BackfillStatus(String id, String table, String condition, int chunkSize, State state, long rowsEstimate,
        long rowsDone, Instant requestedAt, Duration eta) {

    /** Where a backfill stands, from capture's committed offsets and the slot position it reached. */
    public enum State {
        /** Requested; capture has not reached the request in the slot yet (it may be down). */
        PENDING,
        /** Capture has reached the request but is busy with an earlier table. */
        QUEUED,
        /** Capture is publishing its chunks. */
        RUNNING,
        /** Every chunk was published. */
        DONE,
        /** Stopped by {@code changeflow snapshot stop}. */
        STOPPED;

        public boolean active() {
            return this == PENDING || this == QUEUED || this == RUNNING;
        }
    }

    /** Chunks published so far (rows done divided by the chunk size, rounded up). */
    public long chunksDone() {
        return (rowsDone + chunkSize - 1) / chunkSize;
    }
}
