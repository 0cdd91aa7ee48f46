package dev.changeflow.capture.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changeflow.router.ops.Progress;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the incremental snapshots (backfills) capture publishes, from the records of each published batch: the
 * rows read per table, the chunks (Debezium's opening watermarks in the signal table), the requests (execute-snapshot
 * rows, whose {@code changeflow-rows} field is the row estimate the CLI recorded) and the end (a batch whose offsets
 * no longer name an incremental snapshot). Shows a bar in a terminal (log lines otherwise) and keeps the meters
 * {@value #ROWS}{table}, {@value #CHUNKS}{table} and {@value #RUNNING}. Used by the engine's thread only; the meters
 * may be read from any thread.
 */
public final class BackfillProgress {
    public static final String ROWS = "changeflow.capture.backfill.rows";
    public static final String CHUNKS = "changeflow.capture.backfill.chunks";
    public static final String RUNNING = "changeflow.capture.backfill.running";
    /** The offsets key naming the collections of a running incremental snapshot (Debezium's). */
    static final String COLLECTIONS_KEY = "incremental_snapshot_collections";
    private static final Logger LOG = LoggerFactory.getLogger(BackfillProgress.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MeterRegistry registry;
    private final String signalTable;
    private final Counter snapshotRows;
    private final Map<String, Counter> rows = new ConcurrentHashMap<>();
    private final Map<String, Counter> chunks = new ConcurrentHashMap<>();
    private final AtomicLong running = new AtomicLong();
    private String currentTable;
    private long currentRows;
    private long estimate = -1;
    private Progress bar;
    /** The chunk size the newest backfill request asked for, or 0; read by the lease thread. */
    private volatile int requestedChunkSize;
    private BackfillPacer pacer;

    /** @param signalTable the bare name of the signal table */
    public BackfillProgress(MeterRegistry registry, String signalTable) {
        this.registry = registry;
        this.signalTable = signalTable;
        this.snapshotRows = Counter.builder(SnapshotProgress.ROWS).description("Rows published by snapshots")
                .register(registry);
        Gauge.builder(RUNNING, running, AtomicLong::get)
                .description("1 while capture publishes an incremental snapshot (a backfill), else 0")
                .register(registry);
    }

    /** Tells {@code pacer} (or nobody, if null) of the rows, windows and signals published from now on. */
    public void pacedBy(BackfillPacer pacer) {
        this.pacer = pacer;
    }

    /** Accounts for one published (durable) batch, every record as the engine delivered it. */
    void published(List<SourceRecord> records) {
        int read = 0;
        for (SourceRecord record : records) {
            String table = RecordConverter.tableOf(record);
            if (table == null) {
                continue;
            }
            if (table.equals(signalTable)) {
                if (pacer != null && read > 0) {
                    pacer.rowsRead(read);
                    read = 0;
                }
                signal(record);
            } else if (RecordConverter.isIncrementalRead(record)) {
                read(table);
                read++;
            }
        }
        if (pacer != null && read > 0) {
            pacer.rowsRead(read);
        }
        if (!records.isEmpty() && currentTable != null && !names(records.get(records.size() - 1), currentTable)) {
            finish();
        }
    }

    private void read(String table) {
        if (!table.equals(currentTable)) {
            finish();
            currentTable = table;
            currentRows = 0;
            running.set(1);
            bar = Progress.start("backfill " + table, estimate, "rows", LOG::info);
            LOG.info("Backfill of {} publishing{}", table, estimate >= 0 ? ": about " + estimate + " rows" : "");
        }
        currentRows++;
        snapshotRows.increment();
        rows.computeIfAbsent(table, t -> Counter.builder(ROWS).tag("table", t)
                .description("Rows published by incremental snapshots (backfills)").register(registry)).increment();
        if (bar != null) {
            bar.doneSoFar(currentRows);
        }
    }

    private void signal(SourceRecord record) {
        if (!(record.value() instanceof Struct value)) {
            return;
        }
        if (value.getStruct("after") == null) {
            // Debezium closes a chunk's window by deleting its opening watermark (insert_delete).
            Struct before = value.schema().field("before") == null ? null : value.getStruct("before");
            if (pacer != null && before != null && String.valueOf(before.get("id")).endsWith("-open")) {
                pacer.windowClosed();
            }
            return;
        }
        Struct after = value.getStruct("after");
        String type = after.getString("type");
        if (pacer != null) {
            pacer.signal(type);
        }
        if ("snapshot-window-open".equals(type) && currentTable != null) {
            chunks.computeIfAbsent(currentTable, t -> Counter.builder(CHUNKS).tag("table", t)
                    .description("Chunks published by incremental snapshots (backfills)").register(registry))
                    .increment();
        } else if ("execute-snapshot".equals(type)) {
            estimate = field(after.getString("data"), "changeflow-rows");
            requestedChunkSize = (int) Math.max(0, field(after.getString("data"), "changeflow-chunk-size"));
            LOG.info("Backfill requested: {}", after.getString("data"));
        } else if ("stop-snapshot".equals(type)) {
            LOG.info("Backfill stop requested: {}", after.getString("data"));
        }
    }

    /** Whether the offsets of {@code record} still name an incremental snapshot of {@code table}. */
    private static boolean names(SourceRecord record, String table) {
        Map<String, ?> offset = record.sourceOffset();
        Object collections = offset == null ? null : offset.get(COLLECTIONS_KEY);
        return collections != null && collections.toString().contains("." + table + "\"");
    }

    /**
     * The chunk size the newest backfill request asked for (its {@code changeflow-chunk-size}), or 0 if none asked
     * for one. Capture restarts its engine with it, since Debezium reads the chunk size from its configuration.
     */
    public int requestedChunkSize() {
        return requestedChunkSize;
    }

    private static long field(String data, String name) {
        try {
            JsonNode node = data == null ? null : JSON.readTree(data);
            return node != null && node.has(name) ? node.get(name).asLong() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Ends the display of the backfill shown, if any; idempotent. */
    void finish() {
        if (pacer != null) {
            pacer.finished();
        }
        if (currentTable != null) {
            LOG.info("Backfill of {} published: {} rows", currentTable, currentRows);
        }
        if (bar != null) {
            bar.total(currentRows);
            bar.doneSoFar(currentRows);
            bar.close();
            bar = null;
        }
        currentTable = null;
        estimate = -1;
        running.set(0);
    }
}
