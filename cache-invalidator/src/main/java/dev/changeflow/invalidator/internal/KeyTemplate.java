package dev.changeflow.invalidator.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Redis key template such as {@code project:{project_id}:tasks}: literal text and {@code {column}} placeholders,
 * each replaced by the value of that column in a row image. Immutable and thread-safe.
 *
 * <p>Grammar, parsed strictly: a placeholder is {@code {} + a column name + {@code }}, the name matching
 * {@code [a-z_][a-z0-9_]*} (at most 63 characters, Postgres's limit); braces appear only around placeholders; the
 * literal text has no whitespace or control characters; and there is at least one placeholder. A template without a
 * placeholder would delete the same key on every change of the table, which is nearly always a forgotten pair of
 * braces ({@code task:id}); a key that lists a whole table is better keyed by its parent
 * ({@code organization:{organization_id}:projects}).
 */
public final class KeyTemplate {
    private static final Pattern COLUMN = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final String text;
    /** Literal parts and columns, alternating: literal, column, literal, ..., literal (possibly empty literals). */
    private final List<String> literals;
    private final List<String> columns;

    private KeyTemplate(String text, List<String> literals, List<String> columns) {
        this.text = text;
        this.literals = literals;
        this.columns = columns;
    }

    /**
     * Parses {@code text}.
     *
     * @throws InvalidTemplateException saying what is wrong and where (0-based character position), for example
     *     {@code "{" at position 8 is never closed}
     * @throws NullPointerException if {@code text} is null
     */
    public static KeyTemplate parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.isEmpty()) {
            throw new InvalidTemplateException("is empty");
        }
        List<String> literals = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '{') {
                int close = text.indexOf('}', i + 1);
                int nextOpen = text.indexOf('{', i + 1);
                if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
                    throw new InvalidTemplateException("\"{\" at position " + i + " is never closed");
                }
                String column = text.substring(i + 1, close);
                if (column.isEmpty()) {
                    throw new InvalidTemplateException("has an empty placeholder \"{}\" at position " + i
                            + "; put a column name between the braces");
                }
                if (!COLUMN.matcher(column).matches()) {
                    throw new InvalidTemplateException("placeholder {" + column + "} at position " + i
                            + " is not a column name (lower-case letters, digits and _, not starting with a digit)");
                }
                literals.add(literal.toString());
                literal.setLength(0);
                columns.add(column);
                i = close + 1;
            } else if (c == '}') {
                throw new InvalidTemplateException("\"}\" at position " + i + " has no matching \"{\"");
            } else if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw new InvalidTemplateException("has whitespace or a control character at position " + i
                        + "; keys are written without spaces");
            } else {
                literal.append(c);
                i++;
            }
        }
        literals.add(literal.toString());
        if (columns.isEmpty()) {
            throw new InvalidTemplateException("has no {column} placeholder, so every change would delete this "
                    + "same key; write the column in braces, as in task:{id}");
        }
        return new KeyTemplate(text, List.copyOf(literals), List.copyOf(columns));
    }

    /** The columns the template reads, in order of first appearance, without repeats. Never empty. */
    public Set<String> columns() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(columns));
    }

    /**
     * The key for one row image: the template with each placeholder replaced by the column's value (strings as they
     * are, integers and decimals in plain notation, booleans as {@code true}/{@code false}).
     *
     * @param row a row image as change events carry it; may be null (an event without that image)
     * @return empty if the row is null, lacks a column the template names, has it null, or has a list in it
     *     (an array column cannot name one key)
     */
    public Optional<String> render(Map<String, Object> row) {
        if (row == null) {
            return Optional.empty();
        }
        StringBuilder key = new StringBuilder(text.length() + 40);
        for (int i = 0; i < columns.size(); i++) {
            key.append(literals.get(i));
            Optional<String> value = text(row.get(columns.get(i)));
            if (value.isEmpty()) {
                return Optional.empty();
            }
            key.append(value.get());
        }
        key.append(literals.get(columns.size()));
        return Optional.of(key.toString());
    }

    private static Optional<String> text(Object value) {
        if (value == null || value instanceof List<?>) {
            return Optional.empty();
        }
        if (value instanceof BigDecimal decimal) {
            return Optional.of(decimal.toPlainString());
        }
        return Optional.of(value.toString());
    }

    /** The template as written. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyTemplate t && t.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** A template that does not follow the grammar; the message says what is wrong, without the template itself. */
    public static final class InvalidTemplateException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        InvalidTemplateException(String problem) {
            super(problem);
        }
    }
}
