package dev.changeflow.indexer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.CaptureService;
import dev.changeflow.capture.schema.SchemaVersion;
import dev.changeflow.capture.schema.SchemaVersions;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.Op;
import dev.changeflow.router.RowSchemaRef;
import dev.changeflow.router.schema.TableShape;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Migrations applied while the application writes at rate: every kind of DDL a team ships (a column added nullable and
 * with a default, a type widened, a column renamed, one dropped, a new table captured), with capture and the Lucene
 * indexer running throughout.
 */
class SchemaChangeIT {
    private static final List<String> MIGRATIONS = List.of(
            "ALTER TABLE app.tasks ADD COLUMN estimate int",
            "ALTER TABLE app.tasks ADD COLUMN code varchar(20) NOT NULL DEFAULT 'c1'",
            "ALTER TABLE app.tasks ALTER COLUMN estimate TYPE bigint",
            "ALTER TABLE app.tasks ALTER COLUMN code TYPE text",
            "ALTER TABLE app.tasks RENAME COLUMN estimate TO points",
            "ALTER TABLE app.tasks DROP COLUMN code");

    @Test
    void migrationsWhileStreamingLoseNothingAndEventsCarryTheirShapeFromTheFirstChangeAfterEach() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()) {
            List<UUID> projects = new ArrayList<>();
            try (Connection c = h.sql(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO app.organizations (name) VALUES ('schema')");
                for (int p = 0; p < 3; p++) {
                    s.execute("INSERT INTO app.projects (organization_id, name) SELECT id, 'project " + p
                            + "' FROM app.organizations");
                }
                try (ResultSet rs = s.executeQuery("SELECT id FROM app.projects")) {
                    while (rs.next()) {
                        projects.add(UUID.fromString(rs.getString(1)));
                    }
                }
            }
            CaptureService capture = h.startCapture();
            IndexerService indexer = h.startIndexer();
            int walsender = walsenderPid(h);

            // The application: inserts and retitles tasks, each write with a title of its own, never stopping.
            List<String> tasks = new CopyOnWriteArrayList<>();
            Set<String> titlesWritten = ConcurrentHashMap.newKeySet();
            AtomicInteger writes = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            try (Connection app = h.sql()) {
                writer.scheduleAtFixedRate(() -> {
                    String title = "w" + UUID.randomUUID();
                    try {
                        if (tasks.size() < 20 || ThreadLocalRandom.current().nextBoolean()) {
                            try (PreparedStatement s = app.prepareStatement("INSERT INTO app.tasks (project_id, "
                                    + "title) VALUES (?, ?) RETURNING id")) {
                                s.setObject(1, projects.get(ThreadLocalRandom.current().nextInt(projects.size())));
                                s.setString(2, title);
                                try (ResultSet rs = s.executeQuery()) {
                                    rs.next();
                                    tasks.add(rs.getString(1));
                                }
                            }
                        } else {
                            try (PreparedStatement s = app.prepareStatement(
                                    "UPDATE app.tasks SET title = ? WHERE id = ?::uuid")) {
                                s.setString(1, title);
                                s.setString(2, tasks.get(ThreadLocalRandom.current().nextInt(tasks.size())));
                                s.executeUpdate();
                            }
                        }
                        titlesWritten.add(title);
                        writes.incrementAndGet();
                    } catch (SQLException | RuntimeException e) {
                        failure.compareAndSet(null, e);
                    }
                }, 0, 4, TimeUnit.MILLISECONDS);

                List<Long> migratedAt = new ArrayList<>();
                awaitWrites(writes, 50);
                for (String ddl : MIGRATIONS) {
                    migratedAt.add(migrate(h, ddl));
                    if (ddl.contains("RENAME")) {
                        // The renamed column, written under its new name while the application goes on.
                        try (Connection c = h.sql(); Statement s = c.createStatement();
                                ResultSet rs = s.executeQuery("UPDATE app.tasks SET points = 7, title = 'p' || id "
                                        + "WHERE id IN (SELECT id FROM app.tasks ORDER BY id LIMIT 3) RETURNING title")) {
                            while (rs.next()) {
                                titlesWritten.add(rs.getString(1));
                                writes.incrementAndGet();
                            }
                        }
                    }
                    awaitWrites(writes, 50);
                }
                writer.shutdown();
                assertThat(writer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
                assertThat(failure.get()).as("a write failed").isNull();

                // Capture never restarted nor stopped the slot: the same walsender streamed throughout.
                assertThat(walsenderPid(h)).as("walsender of the slot").isEqualTo(walsender);
                h.awaitIndexEqualsDatabase(indexer, Duration.ofMinutes(2));
                assertThat(indexedField(indexer, "points", 7)).as("tasks indexed with points = 7").hasSize(3);
                // A column added while the indexer ran is searchable, under the name it has now.
                assertThat(indexer.index().search(DocumentType.TASKS, "points:7", 10).total()).isEqualTo(3);

                List<ChangeEvent> events = await("every write on the change topic").atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500)).until(() -> taskEvents(h),
                                list -> titles(list).containsAll(titlesWritten));
                Set<String> ids = new HashSet<>();
                assertThat(events).as("eventIds seen twice").allMatch(e -> ids.add(e.eventId()));
                assertThat(events.stream().filter(e -> e.op() != Op.READ && titlesWritten.contains(
                        String.valueOf(e.after().get("title"))))).as("events of the application's writes")
                        .hasSize(writes.get());

                // Each span between two migrations has one version, each newer than the last, and every event's
                // rows have exactly the columns of its version.
                Map<Integer, TableShape> shapes = shapes(h);
                assertThat(events).allSatisfy(e -> assertThat(e.rowSchema()).isNotNull());
                List<Integer> versionPerSpan = new ArrayList<>();
                for (int span = 0; span <= migratedAt.size(); span++) {
                    long from = span == 0 ? 0 : migratedAt.get(span - 1);
                    long to = span == migratedAt.size() ? Long.MAX_VALUE : migratedAt.get(span);
                    Set<Integer> versions = new HashSet<>();
                    events.stream().filter(e -> e.op() != Op.READ && Long.compareUnsigned(e.source().lsn(), from) > 0
                            && Long.compareUnsigned(e.source().lsn(), to) < 0)
                            .forEach(e -> versions.add(e.rowSchema().version()));
                    assertThat(versions).as("versions of events after migration %d", span).hasSize(1);
                    versionPerSpan.add(versions.iterator().next());
                }
                assertThat(versionPerSpan).as("versions, span by span").isSorted().doesNotHaveDuplicates();
                for (ChangeEvent e : events) {
                    assertThat(e.row().keySet()).as("columns of %s (version %d)", e.eventId(), e.rowSchema().version())
                            .containsExactlyElementsOf(shapes.get(e.rowSchema().version()).columnNames());
                }
                assertThat(shapes.get(versionPerSpan.get(versionPerSpan.size() - 1)).columnNames())
                        .contains("points").doesNotContain("estimate", "code");
            }

            // A new table: created, filled, then captured by a setting change and a restart of capture. Its existing
            // rows arrive by a backfill, its new rows by the stream.
            try (Connection c = h.sql(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE app.comments (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
                        + "body text NOT NULL)");
                s.execute("ALTER TABLE app.comments REPLICA IDENTITY FULL");
                s.execute("INSERT INTO app.comments (body) SELECT 'old ' || n FROM generate_series(1, 30) n");
            }
            capture.close();
            h.withCapture("CHANGEFLOW_CAPTURE_TABLES", "app.tasks,app.projects,app.comments");
            h.withCapture("CHANGEFLOW_ROUTER_STATE_TOPICS", "tasks=" + h.world.id + ".task.state,projects="
                    + h.world.id + ".project.state,comments=" + h.world.id + ".comment.state");
            h.startCapture();
            try (Connection c = h.sql(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO app.comments (body) SELECT 'new ' || n FROM generate_series(1, 10) n");
            }
            Set<Object> old = new HashSet<>();
            for (int n = 1; n <= 30; n++) {
                old.add("old " + n);
            }
            // The backfill reads every row there is when its chunk is read, new ones included (as a read, besides
            // their create): the old rows must all be there, the new ones streamed once each.
            List<ChangeEvent> comments = await("the comments' events").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(500)).until(() -> decoded(h.records("comments")),
                            list -> list.stream().filter(e -> e.op() == Op.READ).map(e -> e.after().get("body"))
                                    .toList().containsAll(old)
                                    && list.stream().filter(e -> e.op() == Op.CREATE).count() >= 10);
            assertThat(comments).filteredOn(e -> e.op() == Op.CREATE).extracting(e -> e.after().get("body"))
                    .hasSize(10).allMatch(body -> body.toString().startsWith("new "));
            assertThat(comments).allSatisfy(e -> assertThat(e.rowSchema()).isNotNull()
                    .extracting(RowSchemaRef::subject).isEqualTo(h.topic("comments") + "-value"));
        }
    }

    /** Applies {@code ddl} in a transaction and returns a WAL position after every change before it and before
     * every change after it (the DDL's lock orders writes to the table around it). */
    private static long migrate(IndexerHarness h, String ddl) throws SQLException {
        try (Connection c = h.sql(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute(ddl);
            long lsn;
            try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")) {
                rs.next();
                lsn = rs.getLong(1);
            }
            c.commit();
            return lsn;
        }
    }

    private static void awaitWrites(AtomicInteger writes, int more) {
        int target = writes.get() + more;
        await("the application wrote " + more + " more times").atMost(Duration.ofSeconds(30))
                .until(() -> writes.get() >= target);
    }

    private static int walsenderPid(IndexerHarness h) throws SQLException {
        try (Connection c = h.sql(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT active_pid FROM pg_replication_slots WHERE slot_name = '"
                        + h.world.id + "'")) {
            assertThat(rs.next()).as("slot exists").isTrue();
            return rs.getInt(1);
        }
    }

    private static List<ChangeEvent> taskEvents(IndexerHarness h) {
        return decoded(h.records("tasks"));
    }

    private static List<ChangeEvent> decoded(List<ConsumerRecord<String, byte[]>> records) {
        return records.stream().map(r -> ChangeEventCodec.decodeChecked(r.value())).toList();
    }

    private static Set<String> titles(List<ChangeEvent> events) {
        Set<String> titles = new HashSet<>();
        events.stream().filter(e -> e.after() != null).forEach(e -> titles.add(String.valueOf(e.after().get("title"))));
        return titles;
    }

    private static Map<Integer, TableShape> shapes(IndexerHarness h) {
        String subject = h.topic("tasks") + "-value";
        Map<Integer, TableShape> shapes = new java.util.TreeMap<>();
        for (SchemaVersion v : SchemaVersions.read(h.world.kafka.bootstrapServers(), h.world.id + ".schemas",
                Duration.ofSeconds(30)).versions(subject)) {
            shapes.put(v.version(), TableShape.fromJsonSchema(v.schema()));
        }
        return shapes;
    }

    private static List<String> indexedField(IndexerService indexer, String field, long value) {
        return indexer.index().liveDocuments(DocumentType.TASKS).values().stream()
                .filter(d -> Long.valueOf(value).equals(asLong(d.field(field)))).map(d -> d.id()).toList();
    }

    private static Long asLong(Object value) {
        return value instanceof Number n ? n.longValue() : null;
    }
}
