package dev.changeflow.router.internal;

import dev.changeflow.router.ChangeEvent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Checks and normalises the column values of a {@link ChangeEvent}, as documented there. Stateless. */
public final class ColumnValues {

    private ColumnValues() {
    }

    /**
     * An unmodifiable, insertion-ordered copy of a primary key: not empty, no null values.
     *
     * @throws NullPointerException if {@code key} is null
     * @throws IllegalArgumentException as {@link #row} does, or if the key is empty or has a null value
     */
    public static Map<String, Object> key(Map<String, ?> key) {
        Map<String, Object> copy = row("key", key);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("key must name at least one primary key column");
        }
        copy.forEach((column, value) -> {
            if (value == null) {
                throw new IllegalArgumentException("key." + column + " is null; primary key values never are");
            }
        });
        return copy;
    }

    /**
     * An unmodifiable, insertion-ordered copy of {@code row} with normalised values; null values are kept.
     *
     * @param field the name of the map in messages: {@code key}, {@code before} or {@code after}
     * @throws NullPointerException if {@code row} is null
     * @throws IllegalArgumentException naming the column, if a column name is null or a value is unsupported or
     *     Debezium's placeholder
     */
    public static Map<String, Object> row(String field, Map<String, ?> row) {
        Objects.requireNonNull(row, field);
        Map<String, Object> copy = new LinkedHashMap<>();
        row.forEach((column, value) -> {
            if (column == null) {
                throw new IllegalArgumentException(field + " has a column without a name");
            }
            copy.put(column, value(field + "." + column, value));
        });
        return Collections.unmodifiableMap(copy);
    }

    /** The text of a normalised value in Kafka keys and event ids: numbers in plain decimal, strings as they are. */
    public static String text(Object value) {
        return value instanceof BigDecimal ? ((BigDecimal) value).toPlainString() : String.valueOf(value);
    }

    private static Object value(String column, Object value) {
        if (value == null || value instanceof Boolean || value instanceof Long) {
            return value;
        }
        if (value instanceof String text) {
            if (text.equals(ChangeEvent.UNAVAILABLE_VALUE_PLACEHOLDER)) {
                throw new IllegalArgumentException(column + " holds Debezium's placeholder "
                        + ChangeEvent.UNAVAILABLE_VALUE_PLACEHOLDER + " instead of a value: the table needs "
                        + "REPLICA IDENTITY FULL");
            }
            return text;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigInteger integer) {
            return integral(new BigDecimal(integer));
        }
        if (value instanceof BigDecimal decimal) {
            // Written as a plain JSON number without a fraction, it reads back as an integer: normalise it now.
            return decimal.scale() <= 0 ? integral(decimal) : decimal;
        }
        if (value instanceof Double || value instanceof Float) {
            if (!Double.isFinite(((Number) value).doubleValue())) {
                throw new IllegalArgumentException(column + " is " + value + ", which JSON cannot represent");
            }
            // A JSON number with a fraction reads back as a BigDecimal; toString gives the shortest decimal form.
            return value(column, new BigDecimal(value.toString()));
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                copy.add(value(column + "[" + i + "]", list.get(i)));
            }
            return Collections.unmodifiableList(copy);
        }
        throw new IllegalArgumentException(column + " has unsupported type " + value.getClass().getName()
                + "; allowed: null, String, Boolean, Long, BigDecimal, Double or a List of these "
                + "(UUIDs, timestamps and dates as ISO-8601 strings)");
    }

    private static Object integral(BigDecimal decimal) {
        BigInteger whole = decimal.setScale(0).unscaledValue();
        return whole.bitLength() < 64 ? (Object) whole.longValue() : new BigDecimal(whole);
    }
}
