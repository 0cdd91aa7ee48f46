package dev.changeflow.router;

/**
 * Names of the Kafka headers on every change record, so that consumers can filter without parsing the value. Values
 * are UTF-8 text and repeat fields of the event.
 */
public final class ChangeHeaders {
    /** The operation, as {@link Op#jsonName()}: {@code create}, {@code update}, {@code delete} or {@code read}. */
    public static final String OP = "cdc-op";
    /** The bare table name, {@link ChangeEvent#table()}, for example {@code tasks}. */
    public static final String TABLE = "cdc-table";
    /** The LSN of the change, {@link Source#lsn()}, as an unsigned decimal number. */
    public static final String LSN = "cdc-lsn";

    private ChangeHeaders() {
    }
}
