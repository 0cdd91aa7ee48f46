package dev.changeflow.router;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * Where a change comes from in Postgres.
 *
 * @param lsn the Postgres log sequence number of the change: an unsigned 64-bit WAL position held in a {@code long}
 *     (Postgres writes it as two hex halves, {@code 16/B374D848} being {@code 0x16B374D848}). Compare and print it
 *     with {@link Long#compareUnsigned} and {@link Long#toUnsignedString}; in JSON it is a non-negative integer.
 *     Rows read by the initial snapshot share the snapshot's position.
 * @param txId the id of the Postgres transaction that committed the change; never negative
 * @param commitTs when that transaction committed; never null. Postgres keeps microseconds, so finer digits are
 *     dropped: in JSON it is ISO-8601 UTC with exactly six fraction digits, {@code 2026-11-21T04:53:17.123456Z}
 * @param snapshot {@code true} for rows read by the initial snapshot ({@link Op#READ}), {@code false} for changes
 *     streamed from the WAL
 */
public record Source(long lsn, long txId, Instant commitTs, boolean snapshot) {

    /**
     * Validates and normalises the fields: {@code commitTs} is truncated to microseconds.
     *
     * @throws NullPointerException if {@code commitTs} is null
     * @throws IllegalArgumentException if {@code txId} is negative
     */
    public Source {
        Objects.requireNonNull(commitTs, "commitTs");
        if (txId < 0) {
            throw new IllegalArgumentException("txId must not be negative: " + txId);
        }
        commitTs = commitTs.truncatedTo(ChronoUnit.MICROS);
    }
}
