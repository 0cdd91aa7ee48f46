package dev.changeflow.cli;

import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.router.ops.DeadLetters;
import dev.changeflow.router.ops.DeadLetters.DeadLetter;
import dev.changeflow.router.ops.DeadLetters.TopicSummary;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code changeflow dlt list [--topic X.dlt] [--key K | --since T]}: without {@code --topic}, a table of the
 * dead-letter topics (records, replayed, pending); with it, a table of that topic's records. Never shows values.
 */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "Lists the dead-letter topics, or with --topic the records of one.")
final class DltListCommand extends DltOptions {
    /** Longest error shown in the table; longer ones are shortened with an ellipsis. */
    static final int ERROR_WIDTH = 60;

    @Option(names = "--topic", paramLabel = "X.dlt", description = "A dead-letter topic: list its records.")
    String topic;

    @Override
    String name() {
        return "dlt list";
    }

    @Override
    int run(OpsCommandSupport support, DeadLetters deadLetters) {
        PrintWriter out = support.out();
        if (topic == null) {
            if (filtered()) {
                return support.fail(OpsCommandSupport.BAD_USAGE, "--key and --since select records of one topic; "
                        + "give --topic too");
            }
            List<TopicSummary> topics = deadLetters.list();
            if (topics.isEmpty()) {
                out.println("No dead-letter topics.");
                return OpsCommandSupport.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"topic", "records", "replayed", "pending"});
            topics.forEach(t -> rows.add(new String[] {t.topic(), Long.toString(t.records()),
                    Long.toString(t.replayed()), Long.toString(t.pending())}));
            print(out, rows, 1);
            return OpsCommandSupport.OK;
        }
        List<DeadLetter> records = deadLetters.records(topic, filter());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"partition", "offset", "failed-at", "key", "reason", "error", "replayed"});
        for (DeadLetter r : records) {
            rows.add(new String[] {Integer.toString(r.partition()), Long.toString(r.offset()),
                    r.failedAt().toString(), r.key() == null ? "-" : r.key(), r.reason() == null ? "-" : r.reason(),
                    error(r), r.replayed() ? "yes" : "no"});
        }
        print(out, rows, 0);
        long replayed = records.stream().filter(DeadLetter::replayed).count();
        out.println(records.size() + " record(s) (" + filter() + "), " + replayed + " replayed, "
                + (records.size() - replayed) + " pending");
        return OpsCommandSupport.OK;
    }

    /** {@code SimpleClassName: message}, shortened to {@value #ERROR_WIDTH} characters, on one line. */
    static String error(DeadLetter record) {
        String type = record.errorClass() == null ? "" : record.errorClass()
                .substring(record.errorClass().lastIndexOf('.') + 1);
        String message = record.errorMessage() == null ? "" : record.errorMessage().replaceAll("\\s+", " ").trim();
        String text = type.isEmpty() ? message : message.isEmpty() ? type : type + ": " + message;
        if (text.isEmpty()) {
            return "-";
        }
        return text.length() <= ERROR_WIDTH ? text : text.substring(0, ERROR_WIDTH - 1) + "…";
    }

    /**
     * Prints {@code rows} (the first is the header) in aligned columns; columns from {@code firstNumeric} on (if above
     * 0) are right-aligned.
     */
    static void print(PrintWriter out, List<String[]> rows, int firstNumeric) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                if (i > 0) {
                    line.append("  ");
                }
                boolean right = firstNumeric > 0 && i >= firstNumeric;
                String cell = right ? " ".repeat(widths[i] - row[i].length()) + row[i]
                        : i == row.length - 1 ? row[i] : row[i] + " ".repeat(widths[i] - row[i].length());
                line.append(cell);
            }
            out.println(line);
        }
    }
}
