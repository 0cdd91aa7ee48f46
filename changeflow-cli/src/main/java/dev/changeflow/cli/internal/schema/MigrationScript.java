package dev.changeflow.cli.internal.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Flyway SQL migration split into its statements, as Flyway runs them: one at a time, in order. Splits at
 * semicolons outside string literals ({@code '...'}, {@code E'...'}), quoted identifiers, dollar-quoted bodies
 * ({@code $fn$ ... $fn$}), comments ({@code --}, nested {@code /* *}{@code /}), parentheses and SQL-standard function
 * bodies ({@code BEGIN ATOMIC ... END}). Flyway placeholders ({@code ${...}}) are not replaced. Immutable.
 *
 * @param statements the statements in order, each without its semicolon; never null, may be empty
 * @param version the Flyway version of a versioned migration's file name ({@code 7} for {@code V7__add_estimate.sql},
 *     {@code 7.1} for {@code V7_1__x.sql}), or empty
 */
public record MigrationScript(List<Statement> statements, Optional<String> version) {
    private static final Pattern VERSIONED = Pattern.compile("V(\\d+(?:[._]\\d+)*)__.*", Pattern.CASE_INSENSITIVE);
    /** First words of the statements that end or start a transaction. */
    private static final Set<String> TRANSACTION_CONTROL = Set.of("begin", "start", "commit", "end", "rollback",
            "abort");

    /**
     * One statement of the script.
     *
     * @param line the 1-based line of the script where it starts
     * @param sql its text from its first word, without the semicolon that ends it
     */
    public record Statement(int line, String sql) {
        /** The text's first line, shortened to 60 characters, for messages. */
        public String excerpt() {
            String first = sql.lines().findFirst().orElse("").strip();
            return first.length() > 60 ? first.substring(0, 57) + "..." : first;
        }

        /** The 1-based line of the script that holds the 1-based character {@code position} of this statement. */
        public int lineOf(int position) {
            int line = this.line;
            for (int i = 0; i < Math.min(position - 1, sql.length()); i++) {
                if (sql.charAt(i) == '\n') {
                    line++;
                }
            }
            return line;
        }
    }

    public MigrationScript {
        statements = List.copyOf(statements);
    }

    /** Splits {@code sql}, the text of the file named {@code fileName} (for its Flyway version). */
    public static MigrationScript parse(String fileName, String sql) {
        Matcher versioned = VERSIONED.matcher(fileName);
        return new MigrationScript(new Splitter(sql).split(),
                versioned.matches() ? Optional.of(versioned.group(1).replace('_', '.')) : Optional.empty());
    }

    /**
     * The first statement that starts or ends a transaction ({@code BEGIN}, {@code START TRANSACTION},
     * {@code COMMIT}, {@code END}, {@code ROLLBACK}, {@code ABORT}, {@code PREPARE TRANSACTION}): run inside the
     * transaction the check rolls back, it would commit the migration's changes for real. Flyway runs each migration
     * in a transaction of its own, so a migration needs none of them. {@code SAVEPOINT}, {@code RELEASE} and
     * {@code ROLLBACK TO} are allowed: they stay inside the transaction.
     */
    public Optional<Statement> transactionControl() {
        return statements.stream().filter(s -> {
            List<String> words = leadingWords(s.sql(), 3);
            String first = words.isEmpty() ? "" : words.get(0);
            String second = words.size() > 1 ? words.get(1) : "";
            String third = words.size() > 2 ? words.get(2) : "";
            boolean toSavepoint = second.equals("to") || (Set.of("work", "transaction").contains(second)
                    && third.equals("to"));
            return (TRANSACTION_CONTROL.contains(first) && !(first.equals("rollback") && toSavepoint))
                    || (first.equals("prepare") && second.equals("transaction"));
        }).findFirst();
    }

    /** The first {@code count} words of {@code sql} (which starts with a word), lowercase. */
    static List<String> leadingWords(String sql, int count) {
        List<String> words = new ArrayList<>();
        Matcher word = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*|\\S")
                .matcher(sql.replaceAll("(?s)--[^\n]*|/\\*.*?\\*/", " "));
        while (words.size() < count && word.find()) {
            if (!Character.isLetter(word.group().charAt(0)) && word.group().charAt(0) != '_') {
                break;
            }
            words.add(word.group().toLowerCase(Locale.ROOT));
        }
        return words;
    }

    /** A one-pass lexer that knows just enough SQL to find the semicolons that end statements. */
    private static final class Splitter {
        private final String sql;
        private final List<Statement> statements = new ArrayList<>();
        private int pos;
        private int line = 1;
        /** Where the current statement's first word is, and its line; -1 before it. */
        private int start = -1;
        private int startLine;
        private int parens;
        /** Depth of BEGIN ATOMIC ... END (and CASE ... END inside it); 0 outside such a body. */
        private int atomic;
        private String previousWord = "";
        private int wordsInStatement;

        Splitter(String sql) {
            this.sql = sql;
        }

        List<Statement> split() {
            while (pos < sql.length()) {
                char c = sql.charAt(pos);
                if (c == '-' && next(1) == '-') {
                    skipLineComment();
                } else if (c == '/' && next(1) == '*') {
                    skipBlockComment();
                } else if (Character.isWhitespace(c)) {
                    advance(1);
                } else if (c == ';' && parens == 0 && atomic == 0) {
                    end();
                    advance(1);
                } else {
                    begin();
                    if (c == '\'') {
                        skipString(isEscapeStringPrefix());
                    } else if (c == '"') {
                        skipQuoted('"');
                    } else if (c == '$' && dollarTag() != null) {
                        skipDollarQuoted(dollarTag());
                    } else if (Character.isLetter(c) || c == '_') {
                        word();
                    } else {
                        if (c == '(') {
                            parens++;
                        } else if (c == ')' && parens > 0) {
                            parens--;
                        }
                        previousWord = "";
                        advance(1);
                    }
                }
            }
            end();
            return statements;
        }

        private void begin() {
            if (start < 0) {
                start = pos;
                startLine = line;
                wordsInStatement = 0;
                atomic = 0;
                parens = 0;
            }
        }

        private void end() {
            if (start >= 0) {
                statements.add(new Statement(startLine, sql.substring(start, pos).stripTrailing()));
            }
            start = -1;
            previousWord = "";
        }

        private void word() {
            int from = pos;
            while (pos < sql.length() && (Character.isLetterOrDigit(sql.charAt(pos)) || sql.charAt(pos) == '_'
                    || sql.charAt(pos) == '$')) {
                pos++;
            }
            String word = sql.substring(from, pos).toLowerCase(Locale.ROOT);
            wordsInStatement++;
            if (atomic > 0) {
                if (word.equals("case")) {
                    atomic++;
                } else if (word.equals("end")) {
                    atomic--;
                }
            } else if (word.equals("atomic") && previousWord.equals("begin") && wordsInStatement > 2) {
                // CREATE FUNCTION ... BEGIN ATOMIC stmt; stmt; END: the body's semicolons do not end the statement.
                atomic = 1;
            }
            previousWord = word;
        }

        /** Whether the quote at {@code pos} opens an escape string: E'...' (E not part of a longer word). */
        private boolean isEscapeStringPrefix() {
            return pos > 0 && (sql.charAt(pos - 1) == 'E' || sql.charAt(pos - 1) == 'e')
                    && (pos < 2 || !(Character.isLetterOrDigit(sql.charAt(pos - 2)) || sql.charAt(pos - 2) == '_'));
        }

        private void skipString(boolean backslashEscapes) {
            advance(1);
            while (pos < sql.length()) {
                char c = sql.charAt(pos);
                if (backslashEscapes && c == '\\') {
                    advance(2);
                } else if (c == '\'') {
                    advance(1);
                    if (next(0) != '\'') {
                        break;
                    }
                    advance(1);
                } else {
                    advance(1);
                }
            }
            previousWord = "";
        }

        private void skipQuoted(char quote) {
            advance(1);
            while (pos < sql.length()) {
                char c = sql.charAt(pos);
                advance(1);
                if (c == quote) {
                    if (next(0) != quote) {
                        break;
                    }
                    advance(1);
                }
            }
            previousWord = "";
        }

        /** The dollar-quote tag opening at {@code pos} ({@code $$} or {@code $name$}), or null if none does. */
        private String dollarTag() {
            if (pos > 0 && (Character.isLetterOrDigit(sql.charAt(pos - 1)) || sql.charAt(pos - 1) == '_')) {
                return null; // part of an identifier such as a$b
            }
            int i = pos + 1;
            if (i < sql.length() && Character.isDigit(sql.charAt(i))) {
                return null; // a parameter such as $1
            }
            while (i < sql.length() && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_')) {
                i++;
            }
            return i < sql.length() && sql.charAt(i) == '$' ? sql.substring(pos, i + 1) : null;
        }

        private void skipDollarQuoted(String tag) {
            advance(tag.length());
            int close = sql.indexOf(tag, pos);
            advance((close < 0 ? sql.length() : close + tag.length()) - pos);
            previousWord = "";
        }

        private void skipLineComment() {
            while (pos < sql.length() && sql.charAt(pos) != '\n') {
                pos++;
            }
        }

        private void skipBlockComment() {
            int depth = 0;
            while (pos < sql.length()) {
                if (sql.charAt(pos) == '/' && next(1) == '*') {
                    depth++;
                    advance(2);
                } else if (sql.charAt(pos) == '*' && next(1) == '/') {
                    depth--;
                    advance(2);
                    if (depth == 0) {
                        return;
                    }
                } else {
                    advance(1);
                }
            }
        }

        private char next(int offset) {
            return pos + offset < sql.length() ? sql.charAt(pos + offset) : '\0';
        }

        private void advance(int count) {
            int to = Math.min(sql.length(), pos + count);
            for (; pos < to; pos++) {
                if (sql.charAt(pos) == '\n') {
                    line++;
                }
            }
        }
    }
}
