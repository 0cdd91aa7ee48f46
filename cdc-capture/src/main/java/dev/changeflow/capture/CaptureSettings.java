package dev.changeflow.capture;

import dev.changeflow.config.Setting;
import dev.changeflow.config.Settings;
import dev.changeflow.router.schema.CompatibilityMode;
import dev.changeflow.router.topics.TopicSettings;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Every setting of the capture process, declared once with its description, default and validation. The server
 * locations are in {@link dev.changeflow.config.ConnectionSettings}, the topic names in the router's settings.
 */
public final class CaptureSettings {

    /** When to read the existing rows. */
    public enum SnapshotMode {
        /**
         * Stream at once; on first start (no committed offsets) request an incremental snapshot of every captured
         * table, which reads the existing rows in chunks between streamed changes and resumes after a crash.
         */
        INCREMENTAL,
        /** Snapshot every existing row (as {@code read} events) on first start before streaming (Debezium's blocking
         * initial snapshot; a crash during it starts it over). */
        INITIAL,
        /** Never snapshot; stream changes from the slot's position. */
        NO_DATA
    }

    /** What a crash of capture may do to the change topics. */
    public enum Delivery {
        /**
         * Each batch of changes is one Kafka transaction together with its source offsets: after a crash, a failover
         * or a zombie, {@code read_committed} readers see every change exactly once.
         */
        EXACTLY_ONCE,
        /**
         * Batches are acknowledged by Kafka and offsets written every offset-flush interval: a crash re-publishes the
         * changes since the last flush (same eventIds). Slightly cheaper; for clusters without transactions.
         */
        AT_LEAST_ONCE
    }

    public static final Setting<String> SLOT = Setting.string("changeflow.capture.slot",
            "Name of the logical replication slot (pgoutput) that capture reads. One slot per capture deployment.",
            "changeflow")
            .withValidation("lower-case letters, digits and underscores, at most 63", v -> v.matches("[a-z0-9_]{1,63}"));

    public static final Setting<String> PUBLICATION = Setting.string("changeflow.capture.publication",
            "Name of the Postgres publication; created on first start, filtered to the captured tables.",
            "changeflow_publication")
            .withValidation("lower-case letters, digits and underscores, at most 63", v -> v.matches("[a-z0-9_]{1,63}"));

    public static final Setting<String> TABLES = Setting.string("changeflow.capture.tables",
            "Comma-separated schema-qualified tables to capture.", "app.tasks,app.projects")
            .withValidation("a comma-separated list of schema.table", v -> Arrays.stream(v.split(","))
                    .allMatch(t -> t.trim().matches("[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*")));

    public static final Setting<SnapshotMode> SNAPSHOT_MODE = Setting.oneOf("changeflow.capture.snapshot-mode",
            "incremental: stream at once and, on first start, read every existing row as read events in chunks "
                    + "between streamed changes (resumable); initial: read every row before streaming (blocking, "
                    + "starts over after a crash); no_data: stream only.",
            SnapshotMode.class, SnapshotMode.INCREMENTAL);

    public static final Setting<String> SIGNAL_TABLE = Setting.string("changeflow.capture.signal-table",
            "Debezium's signalling table (created by the migrations): backfill requests and chunk watermarks. "
                    + "Captured so its rows reach capture through the slot, never published.",
            "app.changeflow_signal")
            .withValidation("a schema-qualified table", v -> v.matches("[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*"));

    public static final Setting<String> BACKFILL_TABLE = Setting.string("changeflow.capture.backfill-table",
            "Table (created by the migrations) where `changeflow snapshot start` records each backfill it requests, "
                    + "for `changeflow snapshot status`. Not captured.",
            "app.changeflow_backfill")
            .withValidation("a schema-qualified table", v -> v.matches("[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*"));

    public static final Setting<Integer> SNAPSHOT_CHUNK_SIZE = Setting.integer("changeflow.capture.snapshot-chunk-size",
            "Rows read per chunk by incremental snapshots (backfills), between streamed changes; "
                    + "`changeflow snapshot start --chunk-size` overrides it for one backfill.", 2048, 1, 1_000_000);

    public static final Setting<Integer> SNAPSHOT_MAX_ROWS_PER_SECOND = Setting.integer(
            "changeflow.capture.snapshot-max-rows-per-second",
            "Most rows per second a backfill (incremental snapshot) reads, so that streaming keeps its latency while "
                    + "one runs: capture pauses the snapshot between chunks with Debezium's pause-snapshot and "
                    + "resume-snapshot signals. 0 reads as fast as capture can, taking all the CPU it gets.",
            0, 0, 10_000_000);

    public static final Setting<Boolean> STATE_TOPICS_ENABLED = Setting.bool("changeflow.capture.state-topics",
            "Write every change also to its table's compacted state topic (changeflow.router.state-topics), in the "
                    + "same Kafka transaction as the change topic.", true);

    public static final Setting<Duration> STATE_SEGMENT = Setting.duration("changeflow.capture.state-segment",
            "segment.ms of the state topics: compaction never touches the active segment.", Duration.ofDays(1));

    public static final Setting<Duration> STATE_MIN_COMPACTION_LAG = Setting.duration(
            "changeflow.capture.state-min-compaction-lag",
            "min.compaction.lag.ms of the state topics: how long a record stays uncompacted.", Duration.ofHours(1));

    public static final Setting<Duration> STATE_DELETE_RETENTION = Setting.duration(
            "changeflow.capture.state-delete-retention",
            "delete.retention.ms of the state topics: how long a tombstone (a deleted row) stays readable.",
            Duration.ofDays(1));

    public static final Setting<Boolean> ALLOW_PARTIAL_REPLICA_IDENTITY = Setting.bool(
            "changeflow.capture.allow-partial-replica-identity",
            "Start even if a captured table lacks REPLICA IDENTITY FULL (a warning instead of an error). Its updates "
                    + "then have no before-image and its deletes carry only the key.",
            false);

    public static final Setting<String> OFFSETS_TOPIC = Setting.string("changeflow.capture.offsets-topic",
            "Compacted Kafka topic holding capture's source offsets, so any machine can take over.",
            "changeflow.capture-offsets");

    public static final Setting<Delivery> DELIVERY = Setting.oneOf("changeflow.capture.delivery",
            "exactly_once: each batch of changes and its source offsets are one Kafka transaction, so read_committed "
                    + "consumers see every change once, also after a crash or failover; at_least_once: a crash "
                    + "re-publishes up to one offset-flush interval of changes (same eventIds).",
            Delivery.class, Delivery.EXACTLY_ONCE);

    public static final Setting<String> TRANSACTIONAL_ID = Setting.string("changeflow.capture.transactional-id",
            "Kafka transactional id of capture in exactly_once mode; the same for every instance of one deployment, "
                    + "so a new active instance fences the old one. Default: changeflow-capture-<slot>.", null)
            .withValidation("letters, digits, '.', '_' and '-', at most 200", v -> v.matches("[A-Za-z0-9._-]{1,200}"));

    public static final Setting<Duration> OFFSET_FLUSH_INTERVAL = Setting.duration(
            "changeflow.capture.offset-flush-interval",
            "How often published positions are confirmed to the slot (so Postgres may recycle WAL); in at_least_once "
                    + "mode also how often they are written to the offsets topic, and so how much a crash re-publishes "
                    + "(as duplicates with the same eventId).",
            Duration.ofSeconds(1));

    public static final Setting<Duration> POLL_INTERVAL = Setting.duration("changeflow.capture.poll-interval",
            "How long the connector waits for more changes before handing over a partial batch; the main lever "
                    + "of commit-to-Kafka latency (Debezium's default 500ms gives ~1 s p99).",
            Duration.ofMillis(10));

    public static final Setting<Integer> MAX_BATCH_SIZE = Setting.integer("changeflow.capture.max-batch-size",
            "Most changes handed to the publisher at once.", 2048, 1, 65536);

    public static final Setting<Integer> MAX_QUEUE_SIZE = Setting.integer("changeflow.capture.max-queue-size",
            "Changes buffered between the replication stream and the publisher; must exceed the batch size.",
            16384, 2, 1 << 20);

    public static final Setting<Duration> HEARTBEAT_INTERVAL = Setting.duration("changeflow.capture.heartbeat-interval",
            "How often the heartbeat query runs, so an idle captured table never pins WAL.", Duration.ofSeconds(10));

    public static final Setting<String> HEARTBEAT_QUERY = Setting.string("changeflow.capture.heartbeat-query",
            "SQL run every heartbeat interval; it must write to a table in the publication.",
            "UPDATE app.changeflow_heartbeat SET beat_at = now() WHERE id = 1");

    public static final Setting<String> HEARTBEAT_TABLE = Setting.string("changeflow.capture.heartbeat-table",
            "Table the heartbeat query writes; captured so the slot advances, never published.",
            "app.changeflow_heartbeat");

    public static final Setting<String> TOPIC_PARTITIONS = Setting.string("changeflow.topics.partitions",
            "Partitions per table topic, as table=count pairs; tables not listed get the first count.",
            "tasks=48,projects=12")
            .withValidation("comma-separated table=count pairs with counts from 1 to 10000", v -> Arrays
                    .stream(v.split(",")).allMatch(p -> p.trim().matches("[a-z_][a-z0-9_]*=\\d{1,5}")
                            && Integer.parseInt(p.trim().split("=")[1]) >= 1));

    /** Declared with the other topic settings: {@link TopicSettings#REPLICATION_FACTOR}. */
    public static final Setting<Integer> REPLICATION_FACTOR = TopicSettings.REPLICATION_FACTOR;

    /** Declared with the other topic settings: {@link TopicSettings#MIN_INSYNC_REPLICAS}. */
    public static final Setting<Integer> MIN_INSYNC_REPLICAS = TopicSettings.MIN_INSYNC_REPLICAS;

    /** Declared with the other topic settings: {@link TopicSettings#RETENTION}. */
    public static final Setting<Duration> RETENTION = TopicSettings.RETENTION;

    /** Declared with the other topic settings: {@link TopicSettings#SEGMENT}. */
    public static final Setting<Duration> SEGMENT = TopicSettings.SEGMENT;

    public static final Setting<Duration> LINGER = Setting.duration("changeflow.capture.producer-linger",
            "Producer linger.ms: how long a partial Kafka batch waits for more records.", Duration.ofMillis(5));

    public static final Setting<Integer> PRODUCER_BATCH_BYTES = Setting.integer("changeflow.capture.producer-batch-bytes",
            "Producer batch.size in bytes (at least 64 KB).", 256 * 1024, 64 * 1024, 16 * 1024 * 1024);

    public static final Setting<Integer> PRODUCER_BUFFER_BYTES = Setting.integer(
            "changeflow.capture.producer-buffer-bytes",
            "Producer buffer.memory in bytes. A transaction of max-batch-size changes opens a batch of "
                    + "producer-batch-bytes in most partitions of the change and state topics (120 partitions with "
                    + "the design's counts: 30 MB at 256 KB), so Kafka's default of 32 MB made the writer wait for "
                    + "memory; the default leaves room for four such transactions in flight.",
            128 * 1024 * 1024, 32 * 1024 * 1024, 1 << 30);

    public static final Setting<Duration> STARTUP_TIMEOUT = Setting.duration("changeflow.capture.startup-timeout",
            "How long the startup checks wait for Kafka to answer before failing.", Duration.ofSeconds(15));

    public static final Setting<Duration> SLOT_CHECK_INTERVAL = Setting.duration("changeflow.capture.slot-check-interval",
            "How often capture reads its slot's state (retained WAL, active) for the changeflow_capture_slot_* "
                    + "metrics.", Duration.ofSeconds(10));

    public static final Setting<Duration> LAG_CHECK_INTERVAL = Setting.duration("changeflow.capture.lag-check-interval",
            "How often the capture process reads every consumer group's lag and the dead-letter topics' sizes from the "
                    + "brokers, for the changeflow_consumer_lag and changeflow_dlt_records metrics (these keep "
                    + "reporting while a consumer is down).", Duration.ofSeconds(10));

    public static final Setting<Integer> RETAINED_WAL_WARNING_MB = Setting.integer(
            "changeflow.capture.retained-wal-warning-mb",
            "Retained WAL (MB) above which `changeflow slot status` and capture warn: the slot is holding back WAL "
                    + "that Postgres would otherwise recycle, and the disk fills if it keeps growing.",
            1024, 1, 100_000_000);

    public static final Setting<Boolean> ROW_SCHEMAS = Setting.bool("changeflow.capture.row-schemas",
            "Register a versioned JSON Schema of each captured table's rows (derived from the Postgres catalog) and "
                    + "name its version in every event (rowSchema). Off: events carry no rowSchema.",
            true);

    public static final Setting<URI> SCHEMA_REGISTRY_URL = Setting.uri("changeflow.capture.schema-registry-url",
            "Base URL of a schema registry speaking the Confluent Schema Registry API (Confluent, Karapace, Apicurio "
                    + "at /apis/ccompat/v7), where row schemas are registered under <topic>-value. Unset: they are "
                    + "kept in the schema topic and served at GET /schemas/... on the operations endpoint.",
            "http", "https");

    public static final Setting<String> SCHEMA_TOPIC = Setting.string("changeflow.capture.schema-topic",
            "Compacted Kafka topic holding the row schema versions when no schema registry is configured.",
            "changeflow.capture-schemas");

    public static final Setting<String> SCHEMA_COMPATIBILITY = Setting.string(
            "changeflow.capture.schema-compatibility",
            "Compatibility mode of each table's row schema, with the Confluent Schema Registry's meaning: a mode for "
                    + "every table, then table=mode overrides, such as BACKWARD,projects=FULL. A change that breaks "
                    + "it is published anyway under a new version, and flagged (meter, alert, log line).",
            "BACKWARD")
            .withValidation("a mode, or table=mode pairs, comma-separated; modes: BACKWARD, FORWARD, FULL, NONE",
                    v -> Arrays.stream(v.split(",")).map(String::trim).allMatch(p -> p.matches(
                            "(?i)([a-z_][a-z0-9_]*=)?(BACKWARD|FORWARD|FULL|NONE)")));

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> ALL = List.of(SLOT, PUBLICATION, TABLES, SNAPSHOT_MODE, SIGNAL_TABLE,
            BACKFILL_TABLE, SNAPSHOT_CHUNK_SIZE, SNAPSHOT_MAX_ROWS_PER_SECOND, STATE_TOPICS_ENABLED, STATE_SEGMENT,
            STATE_MIN_COMPACTION_LAG, STATE_DELETE_RETENTION,
            ALLOW_PARTIAL_REPLICA_IDENTITY, OFFSETS_TOPIC, DELIVERY, TRANSACTIONAL_ID, OFFSET_FLUSH_INTERVAL, POLL_INTERVAL, MAX_BATCH_SIZE,
            MAX_QUEUE_SIZE, HEARTBEAT_INTERVAL, HEARTBEAT_QUERY, HEARTBEAT_TABLE, TOPIC_PARTITIONS, LINGER,
            PRODUCER_BATCH_BYTES, PRODUCER_BUFFER_BYTES, STARTUP_TIMEOUT, SLOT_CHECK_INTERVAL, LAG_CHECK_INTERVAL,
            RETAINED_WAL_WARNING_MB, ROW_SCHEMAS, SCHEMA_REGISTRY_URL, SCHEMA_TOPIC, SCHEMA_COMPATIBILITY);

    /** The compatibility mode of {@code table} (bare name) under {@link #SCHEMA_COMPATIBILITY}. */
    public static CompatibilityMode compatibility(Settings settings, String table) {
        CompatibilityMode mode = CompatibilityMode.BACKWARD;
        for (String part : settings.get(SCHEMA_COMPATIBILITY).split(",")) {
            String p = part.trim();
            int eq = p.indexOf('=');
            if (eq < 0) {
                mode = CompatibilityMode.valueOf(p.toUpperCase(Locale.ROOT));
            } else if (p.substring(0, eq).equals(table)) {
                return CompatibilityMode.valueOf(
                        p.substring(eq + 1).toUpperCase(Locale.ROOT));
            }
        }
        return mode;
    }

    /** The transactional id of the deployment configured by {@code settings}: {@link #TRANSACTIONAL_ID} if set. */
    public static String transactionalId(Settings settings) {
        return settings.find(TRANSACTIONAL_ID).orElseGet(() -> defaultTransactionalId(settings.get(SLOT)));
    }

    /** The transactional id of the capture of {@code slot} when {@link #TRANSACTIONAL_ID} is not set. */
    public static String defaultTransactionalId(String slot) {
        return "changeflow-capture-" + slot;
    }

    private CaptureSettings() {
    }
}
