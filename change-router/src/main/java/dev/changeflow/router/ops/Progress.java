package dev.changeflow.router.ops;

import java.io.PrintStream;
import java.util.Objects;
import java.util.function.Consumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The progress of a long operation (a snapshot, a replay), shown the way its reader wants it: in a terminal, one bar
 * redrawn in place several times a second; anywhere else (CI logs, files, pipes), a plain line every
 * {@value #PLAIN_INTERVAL_SECONDS} seconds and one at the end, so a log is not flooded. Backed by the progressbar
 * library. Thread-safe; {@link #close()} prints the final state.
 */
public final class Progress implements AutoCloseable {
    /** Seconds between two lines when the output is not a terminal. */
    public static final int PLAIN_INTERVAL_SECONDS = 10;

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /**
     * Starts showing progress on standard error: a bar when the process runs in a terminal, lines otherwise.
     *
     * @param task what is being done, such as {@code replay cdc.tasks-changes.dlt}
     * @param total how many units there are, or -1 if not known yet
     * @param unit what a unit is, such as {@code records}
     */
    public static Progress start(String task, long total, String unit) {
        return start(task, total, unit, System.err::println);
    }

    /**
     * Like {@link #start(String, long, String)}, but outside a terminal the lines go to {@code plainLines}, such as a
     * logger of a service whose output is collected.
     */
    public static Progress start(String task, long total, String unit, Consumer<String> plainLines) {
        return System.console() != null ? terminal(task, total, unit, System.err) : plain(task, total, unit,
                plainLines);
    }

    /** A bar redrawn in place on {@code out}. */
    static Progress terminal(String task, long total, String unit, PrintStream out) {
        Objects.requireNonNull(out, "out");
        return new Progress(builder(task, total, unit).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                .setUpdateIntervalMillis(200).build());
    }

    /** A line to {@code lines} every {@value #PLAIN_INTERVAL_SECONDS} seconds and when closed; no control codes. */
    static Progress plain(String task, long total, String unit, Consumer<String> lines) {
        return new Progress(builder(task, total, unit).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new DelegatingProgressBarConsumer(lines::accept, 100))
                .setUpdateIntervalMillis(PLAIN_INTERVAL_SECONDS * 1000).build());
    }

    private static ProgressBarBuilder builder(String task, long total, String unit) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, 1).showSpeed();
    }

    /** Sets how many units are done. */
    public void doneSoFar(long done) {
        bar.stepTo(done);
    }

    /** Adds {@code units} to what is done. */
    public void advance(long units) {
        bar.stepBy(units);
    }

    /** Changes the total, when it becomes known or was an estimate. */
    public void total(long total) {
        bar.maxHint(total);
    }

    /** Appends a note after the bar, such as what is being read. */
    public void note(String text) {
        bar.setExtraMessage(text);
    }

    /** Shows the final state and stops redrawing. Idempotent. */
    @Override
    public void close() {
        bar.close();
    }
}
