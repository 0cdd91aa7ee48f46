package dev.changeflow.capture.internal;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/** Translates capture's settings into the embedded Debezium engine's properties, in one place. */
public final class DebeziumProperties {
    private DebeziumProperties() {
    }

    /** The engine's name for {@code slot}: the first element of the keys of its records in the offsets topic. */
    public static String engineName(String slot) {
        return "changeflow-capture-" + slot;
    }

    /**
     * @param tables the captured tables, schema-qualified
     * @param heartbeatTable the heartbeat table, schema-qualified; captured so the slot advances, never published
     */
    public static Properties of(Settings settings, PostgresEndpoint db, String bootstrap, List<String> tables,
            String heartbeatTable) {
        return of(settings, db, bootstrap, tables, heartbeatTable, settings.get(CaptureSettings.SNAPSHOT_CHUNK_SIZE));
    }

    /** As {@link #of(Settings, PostgresEndpoint, String, List, String)}, with incremental snapshots in chunks of
     * {@code chunkSize} rows. */
    public static Properties of(Settings settings, PostgresEndpoint db, String bootstrap, List<String> tables,
            String heartbeatTable, int chunkSize) {
        Properties p = new Properties();
        String slot = settings.get(CaptureSettings.SLOT);
        p.setProperty("name", engineName(slot));
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("topic.prefix", "changeflow");
        // Debezium names its JMX beans after topic.prefix; two engines of one JVM with the same names wait up to a
        // minute for each other's beans to go (seen when one capture closes while the next starts). The slot is
        // unique per capture deployment, so it makes the names unique.
        p.setProperty("custom.metric.tags", "slot=" + slot);

        p.setProperty("database.hostname", db.host());
        p.setProperty("database.port", Integer.toString(db.port()));
        p.setProperty("database.dbname", db.database());
        p.setProperty("database.user", db.user());
        if (db.password() != null) {
            p.setProperty("database.password", db.password());
        }

        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slot);
        p.setProperty("publication.name", settings.get(CaptureSettings.PUBLICATION));
        p.setProperty("publication.autocreate.mode", "filtered");
        String signalTable = settings.get(CaptureSettings.SIGNAL_TABLE);
        p.setProperty("table.include.list", String.join(",", tables) + "," + heartbeatTable + "," + signalTable);
        CaptureSettings.SnapshotMode mode = settings.get(CaptureSettings.SNAPSHOT_MODE);
        // Incremental: Debezium streams at once; capture requests the first snapshot with a signal (InitialSnapshot).
        p.setProperty("snapshot.mode", mode == CaptureSettings.SnapshotMode.INCREMENTAL ? "no_data"
                : mode.name().toLowerCase(Locale.ROOT));
        // Backfills: execute-snapshot and stop-snapshot rows of the signal table, read from the slot (so a request
        // survives a crash and a failover); the watermarks of each chunk are written to the same table.
        p.setProperty("signal.data.collection", signalTable);
        p.setProperty("signal.enabled.channels", "source");
        p.setProperty("incremental.snapshot.chunk.size", Integer.toString(chunkSize));
        // insert_delete: a chunk's opening watermark row is deleted when the window closes, so the table does not grow.
        p.setProperty("incremental.snapshot.watermarking.strategy", "insert_delete");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("decimal.handling.mode", "precise");
        // Each column's Postgres type, length and scale in its Connect schema: the row schema of a record whose shape
        // the catalog no longer has (RowSchemaTracker).
        p.setProperty("column.propagate.source.type", ".*");

        p.setProperty("heartbeat.interval.ms", Long.toString(settings.get(CaptureSettings.HEARTBEAT_INTERVAL).toMillis()));
        p.setProperty("heartbeat.action.query", settings.get(CaptureSettings.HEARTBEAT_QUERY));

        p.setProperty("poll.interval.ms", Long.toString(settings.get(CaptureSettings.POLL_INTERVAL).toMillis()));
        p.setProperty("max.batch.size", Integer.toString(settings.get(CaptureSettings.MAX_BATCH_SIZE)));
        p.setProperty("max.queue.size", Integer.toString(Math.max(settings.get(CaptureSettings.MAX_QUEUE_SIZE),
                settings.get(CaptureSettings.MAX_BATCH_SIZE) + 1)));
        p.setProperty("record.processing.order", "ORDERED");
        // Debezium's own lag statistics (DDSketch quantiles of "milliseconds behind source", computed on its metrics
        // thread): capture measures commit -> Kafka with its own meters. (The hand-off of each event to that thread,
        // MeasurementCollector.accept on the streaming thread, stays: Debezium has no switch for it.)
        p.setProperty("statistics.metrics.enabled", "false");
        // On close, let the batch in hand finish (its Kafka round trip) instead of interrupting it after Debezium's
        // default of one second, which a loaded machine exceeds.
        p.setProperty("record.processing.shutdown.timeout.ms", "15000");
        // A connection lost to Postgres is retried by the connector rather than stopping capture.
        p.setProperty("errors.max.retries", "-1");

        // Exactly once: the publisher writes each batch's offsets in the batch's transaction; the store only reads
        // what was committed. At least once: Kafka Connect's store writes them every flush interval.
        p.setProperty("offset.storage", settings.get(CaptureSettings.DELIVERY) == CaptureSettings.Delivery.EXACTLY_ONCE
                ? CommittedOffsetStore.class.getName()
                : "org.apache.kafka.connect.storage.KafkaOffsetBackingStore");
        p.setProperty("offset.storage.topic", settings.get(CaptureSettings.OFFSETS_TOPIC));
        p.setProperty("offset.storage.partitions", "1");
        p.setProperty("offset.storage.replication.factor",
                Integer.toString(settings.get(CaptureSettings.REPLICATION_FACTOR)));
        p.setProperty("offset.flush.interval.ms",
                Long.toString(settings.get(CaptureSettings.OFFSET_FLUSH_INTERVAL).toMillis()));
        p.setProperty("offset.flush.timeout.ms", "10000");
        p.setProperty("bootstrap.servers", bootstrap);
        return p;
    }
}
