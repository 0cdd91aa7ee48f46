package dev.changeflow.router;

import java.util.Locale;

/**
 * What happened to a row. In JSON and in the {@code cdc-op} header an operation is written as its {@linkplain
 * #jsonName() lowercase name}: {@code create}, {@code update}, {@code delete} or {@code read}.
 */
public enum Op {
    /** A row was inserted. */
    CREATE,
    /** A row was updated. */
    UPDATE,
    /** A row was deleted. */
    DELETE,
    /** A row was read by the initial snapshot, which captures the rows that existed before streaming began. */
    READ;

    /** The JSON form: the lowercase name, for example {@code "create"}. Never null. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The operation for a Debezium {@code op} code: {@code c}, {@code u}, {@code d} or {@code r}.
     *
     * @throws IllegalArgumentException naming the code for any other code, including Debezium's {@code t}
     *     (truncate) and {@code m} (message), which are not row changes
     */
    public static Op fromDebezium(String code) {
        return switch (code == null ? "" : code) {
            case "c" -> CREATE;
            case "u" -> UPDATE;
            case "d" -> DELETE;
            case "r" -> READ;
            default -> throw new IllegalArgumentException(
                    "Unknown Debezium op code '" + code + "'; expected one of c, u, d, r");
        };
    }
}
