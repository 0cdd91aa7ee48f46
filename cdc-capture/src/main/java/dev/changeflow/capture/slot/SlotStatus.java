package dev.changeflow.capture.slot;

/**
 * One logical replication slot as Postgres reports it ({@code pg_replication_slots}).
 *
 * @param activePid the walsender streaming from it, or null when inactive
 * @param retainedBytes WAL the slot keeps: the current WAL position minus {@code restart_lsn}
 * @param walStatus {@code reserved}, {@code extended}, {@code unreserved} or {@code lost} (WAL already removed)
 * @param safeWalSize bytes that can still be written before the slot is in danger of losing WAL, or null when
 *     {@code max_slot_wal_keep_size} is unlimited
 * @param leaseHolder who holds the capture lease of the slot (a capture or a slot tool), or null if nobody
 */
public record SlotStatus(String name, String plugin, boolean active, Integer activePid, String restartLsn,
        String confirmedFlushLsn, long retainedBytes, String walStatus, Long safeWalSize, String leaseHolder) {

    /** Whether the slot retains more WAL than {@code warningBytes}. */
    public boolean retainsMoreThan(long warningBytes) {
        return retainedBytes > warningBytes;
    }
}
