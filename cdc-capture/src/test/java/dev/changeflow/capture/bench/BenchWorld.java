package dev.changeflow.capture.bench;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Mode;
import dev.changeflow.config.Settings;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.router.RouterSettings;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.SharedServers;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The benchmark's world on the embedded servers: one migrated database with seed rows, and the settings of the
 * benchmark's paths (the no-op engine and capture in each delivery mode), each with its own slot, publication,
 * offsets topic and change topics (the no-op engine publishes nothing to its change topics).
 */
final class BenchWorld {
    static final List<String> TABLES = List.of("app.tasks", "app.projects");
    static final String HEARTBEAT_TABLE = "app.changeflow_heartbeat";
    static final String SYNCHRONOUS_COMMIT = System.getProperty("bench.synchronousCommit", "on");

    final PostgresServer postgres = SharedServers.postgres();
    final KafkaServer kafka = SharedServers.kafka();
    final String id = "bench" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    final String database;
    final List<UUID> projects = new ArrayList<>();
    final List<UUID> seedTasks = new ArrayList<>();
    private final Map<String, String> common = new LinkedHashMap<>();

    BenchWorld(int projectCount, int seedTaskCount) throws SQLException {
        database = postgres.createDatabase("bench");
        // Zonky's embedded server runs with synchronous_commit=off, under which a commit reaches the WAL flush
        // pointer (and so logical decoding) only when the WAL writer next flushes, every wal_writer_delay (200 ms).
        // PostgreSQL's default, and what an application gets on a normally configured server, is on.
        try (Connection c = postgres.connect(); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + database + " SET synchronous_commit = " + SYNCHRONOUS_COMMIT);
        }
        SchemaMigrations.apply(postgres.dataSource(database));
        common.put(ConnectionSettings.POSTGRES_URL.key(), postgres.jdbcUrl(database) + "?user=" + postgres.user());
        common.put(ConnectionSettings.KAFKA_BOOTSTRAP.key(), kafka.bootstrapServers());
        common.put(CaptureSettings.TOPIC_PARTITIONS.key(), "tasks=48,projects=12");
        common.put(CaptureSettings.REPLICATION_FACTOR.key(), "1");
        common.put(CaptureSettings.MIN_INSYNC_REPLICAS.key(), "1");
        common.put(CaptureSettings.SNAPSHOT_MODE.key(), "no_data");
        common.put(Mode.SETTING.key(), "production");
        // Any changeflow.capture.* / changeflow.topics.* system property overrides, for experiments.
        System.getProperties().forEach((k, v) -> {
            String key = String.valueOf(k);
            if (key.startsWith("changeflow.capture.") || key.startsWith("changeflow.topics.")) {
                common.put(key, String.valueOf(v));
            }
        });
        seed(projectCount, seedTaskCount);
    }

    /**
     * Settings of one path: its own slot, publication, offsets topic and change topics ({@link #topic}), and its
     * delivery mode (which overrides a {@code changeflow.capture.delivery} system property).
     */
    Settings settings(String path, CaptureSettings.Delivery delivery) {
        Map<String, String> values = new LinkedHashMap<>(common);
        values.put(CaptureSettings.SLOT.key(), slot(path));
        values.put(CaptureSettings.PUBLICATION.key(), slot(path) + "_pub");
        values.put(CaptureSettings.OFFSETS_TOPIC.key(), id + "." + path + ".offsets");
        values.put(RouterSettings.TOPIC_REPLACEMENT.key(), id + "." + path + ".$1-changes");
        values.put(RouterSettings.STATE_TOPICS.key(), "tasks=" + id + "." + path + ".task.state,projects=" + id + "." + path + ".project.state");
        values.put(CaptureSettings.DELIVERY.key(), delivery.name().toLowerCase(java.util.Locale.ROOT));
        return Settings.of(values);
    }

    /** The settings both paths share, for the results block. */
    Map<String, String> commonSettings() {
        return Map.copyOf(common);
    }

    String slot(String path) {
        return id + "_" + path;
    }

    /** The change topic of {@code table} ({@code tasks}, {@code projects}) of one path. */
    String topic(String path, String table) {
        return id + "." + path + "." + table + "-changes";
    }

    Connection sql() throws SQLException {
        return postgres.connect(database);
    }

    /** The current WAL insert position as an unsigned byte offset (fits a long for any real server). */
    long currentLsn() throws SQLException {
        try (Connection c = sql(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    String query(String sql) throws SQLException {
        try (Connection c = sql(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** A setting as the server's own database (not the benchmark's) sees it. */
    String serverSetting(String name) throws SQLException {
        try (Connection c = postgres.connect(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Waits until the path's slot exists and is (or is not) being read. */
    void awaitSlot(String path, boolean active, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String sql = "SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot(path) + "'";
        while (true) {
            String value = query(sql);
            if (value != null && (value.equals("t") == active)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("slot " + slot(path) + " not " + (active ? "active" : "inactive")
                        + " after " + timeout.toSeconds() + " s (active=" + value + ")");
            }
            Thread.sleep(50);
        }
    }

    /** Bytes of WAL the slot retains (from its restart LSN), for the results block. */
    String slotLag(String path) throws SQLException {
        return query("SELECT pg_size_pretty(pg_current_wal_lsn() - restart_lsn) FROM pg_replication_slots "
                + "WHERE slot_name = '" + slot(path) + "'");
    }

    /** A watch of one path's change topics ({@code tasks}, {@code projects}); the topics must exist. */
    ChangeTopicWatch watch(String path) throws Exception {
        return new ChangeTopicWatch(kafka.bootstrapServers(), List.of(topic(path, "tasks"), topic(path, "projects")));
    }

    Array uuids(Connection c, Collection<UUID> ids) throws SQLException {
        return c.createArrayOf("uuid", ids.toArray());
    }

    private void seed(int projectCount, int seedTaskCount) throws SQLException {
        try (Connection c = sql()) {
            c.setAutoCommit(false);
            UUID org;
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO app.organizations (name) VALUES ('Benchmark Org') RETURNING id");
                    ResultSet rs = s.executeQuery()) {
                rs.next();
                org = (UUID) rs.getObject(1);
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO app.projects (organization_id, name) "
                    + "SELECT ?, 'Project ' || g FROM generate_series(1, ?) g RETURNING id")) {
                s.setObject(1, org);
                s.setInt(2, projectCount);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        projects.add((UUID) rs.getObject(1));
                    }
                }
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO app.tasks (project_id, title, description, "
                    + "priority, due_date) SELECT (?::uuid[])[1 + g % ?], 'Seed task ' || g, md5(g::text), 3, "
                    + "DATE '2026-12-24' FROM generate_series(1, ?) g RETURNING id")) {
                s.setArray(1, uuids(c, projects));
                s.setInt(2, projects.size());
                s.setInt(3, seedTaskCount);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        seedTasks.add((UUID) rs.getObject(1));
                    }
                }
            }
            c.commit();
        }
        try (Connection c = sql(); Statement s = c.createStatement()) {
            s.execute("VACUUM ANALYZE app.tasks");
            s.execute("VACUUM ANALYZE app.projects");
        }
    }

    static String describe(Map<String, String> settings) {
        return settings.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .filter(e -> !e.getKey().contains("url") && !e.getKey().contains("bootstrap"))
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
    }
}
