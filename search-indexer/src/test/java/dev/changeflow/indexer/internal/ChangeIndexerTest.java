package dev.changeflow.indexer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.internal.lucene.LuceneIndex;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The versioning and propagation rules, on a real (embedded, on-disk) Lucene index. */
class ChangeIndexerTest {
    private static final String PROJECT = "9b1e4c2a-7d3f-4a5b-8c6d-1e2f3a4b5c6d";
    private static final String OTHER_PROJECT = "0b1e4c2a-7d3f-4a5b-8c6d-1e2f3a4b5c60";
    private static final String TASK = "3f2c9a4e-0b1d-4c6e-9f8a-2d7b5e1c4a3f";

    @TempDir
    Path directory;
    private LuceneIndex index;
    private ChangeIndexer indexer;
    private SimpleMeterRegistry registry;

    @BeforeEach
    void open() {
        index = new LuceneIndex(directory);
        index.open();
        registry = new SimpleMeterRegistry();
        indexer = new ChangeIndexer(index, new IndexerMetrics(registry, Clock.systemUTC()));
    }

    @AfterEach
    void close() {
        index.close();
    }

    @Test
    void aChangeOlderThanTheDocumentIsIgnored() {
        indexer.apply(List.of(task(Op.CREATE, TASK, PROJECT, "new title", 200)));
        indexer.apply(List.of(task(Op.UPDATE, TASK, PROJECT, "old title", 100)));

        assertThat(liveTask(TASK).field("title")).isEqualTo("new title");
        assertThat(liveTask(TASK).version()).isEqualTo(200);
        assertThat(count("stale")).isEqualTo(1);
    }

    @Test
    void theSameChangeAppliedTwiceIsADuplicateAndChangesNothing() {
        ChangeEvent create = task(Op.CREATE, TASK, PROJECT, "title", 100);
        indexer.apply(List.of(create));
        indexer.apply(List.of(create));

        assertThat(count("applied")).isEqualTo(1);
        assertThat(count("duplicate")).isEqualTo(1);
    }

    @Test
    void aDeletedRowStaysDeletedWhenItsCreateIsReplayed() {
        ChangeEvent create = task(Op.CREATE, TASK, PROJECT, "title", 100);
        indexer.apply(List.of(create));
        indexer.apply(List.of(delete(TASK, PROJECT, 300)));
        indexer.apply(List.of(create, task(Op.UPDATE, TASK, PROJECT, "updated", 200)));

        IndexedDocument stored = index.get(DocumentType.TASKS, List.of(TASK)).get(TASK).document();
        assertThat(stored.deleted()).isTrue();
        assertThat(stored.version()).isEqualTo(300);
        assertThat(index.liveDocuments(DocumentType.TASKS)).isEmpty();
        assertThat(index.search(DocumentType.TASKS, "title", 10).total()).isZero();
    }

    @Test
    void ofSeveralChangesOfOneRowInABatchTheNewestWins() {
        indexer.apply(List.of(task(Op.CREATE, TASK, PROJECT, "first", 100), task(Op.UPDATE, TASK, PROJECT, "third", 300),
                task(Op.UPDATE, TASK, PROJECT, "second", 200)));

        assertThat(liveTask(TASK).field("title")).isEqualTo("third");
    }

    @Test
    void aTaskCarriesTheNameOfItsProject() {
        indexer.apply(List.of(project(Op.CREATE, PROJECT, null, "Apollo", 100)));
        indexer.apply(List.of(task(Op.CREATE, TASK, PROJECT, "title", 200)));

        assertThat(liveTask(TASK).field("project_name")).isEqualTo("Apollo");
        assertThat(index.search(DocumentType.TASKS, "project_name:apollo", 10).total()).isEqualTo(1);
    }

    @Test
    void aTaskIndexedBeforeItsProjectGetsTheNameWhenTheProjectArrives() {
        indexer.apply(List.of(task(Op.CREATE, TASK, PROJECT, "title", 200)));
        assertThat(liveTask(TASK).field("project_name")).isNull();

        indexer.apply(List.of(project(Op.CREATE, PROJECT, null, "Apollo", 100)));

        assertThat(liveTask(TASK).field("project_name")).isEqualTo("Apollo");
    }

    @Test
    void renamingAProjectUpdatesItsTasksAndKeepsTheirOwnVersions() {
        indexer.apply(List.of(project(Op.CREATE, PROJECT, null, "Apollo", 100),
                project(Op.CREATE, OTHER_PROJECT, null, "Gemini", 101)));
        indexer.apply(List.of(task(Op.CREATE, TASK, PROJECT, "title", 200),
                task(Op.CREATE, "other-task", OTHER_PROJECT, "title", 201)));

        indexer.apply(List.of(project(Op.UPDATE, PROJECT, "Apollo", "Artemis", 300)));

        assertThat(liveTask(TASK).field("project_name")).isEqualTo("Artemis");
        assertThat(liveTask(TASK).version()).isEqualTo(200);
        assertThat(liveTask("other-task").field("project_name")).isEqualTo("Gemini");
        assertThat(registry.get(IndexerMetrics.PROPAGATED).counter().count()).isEqualTo(1);
    }

    @Test
    void anOlderRenameReplayedAfterANewerOneLeavesTheNewerName() {
        indexer.apply(List.of(project(Op.CREATE, PROJECT, null, "Apollo", 100)));
        indexer.apply(List.of(task(Op.CREATE, TASK, PROJECT, "title", 200)));
        indexer.apply(List.of(project(Op.UPDATE, PROJECT, "Apollo", "Artemis", 300)));

        indexer.apply(List.of(project(Op.CREATE, PROJECT, null, "Apollo", 100)));

        assertThat(liveTask(TASK).field("project_name")).isEqualTo("Artemis");
    }

    @Test
    void aTaskMovedToAnotherProjectCarriesTheNewProjectsName() {
        indexer.apply(List.of(project(Op.CREATE, PROJECT, null, "Apollo", 100),
                project(Op.CREATE, OTHER_PROJECT, null, "Gemini", 101)));
        indexer.apply(List.of(task(Op.CREATE, TASK, PROJECT, "title", 200)));
        indexer.apply(List.of(task(Op.UPDATE, TASK, OTHER_PROJECT, "title", 300)));
        indexer.apply(List.of(project(Op.UPDATE, PROJECT, "Apollo", "Artemis", 400)));

        assertThat(liveTask(TASK).field("project_name")).isEqualTo("Gemini");
    }

    @Test
    void renamesRacingWithTaskWritesLeaveEveryTaskWithTheNewestName() throws Exception {
        indexer.apply(List.of(project(Op.CREATE, PROJECT, null, "name-0", 100)));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> tasks = pool.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    indexer.apply(List.of(task(Op.CREATE, "task-" + i, PROJECT, "title", 1_000 + i)));
                }
            });
            Future<?> renames = pool.submit(() -> {
                for (int i = 1; i <= 50; i++) {
                    indexer.apply(List.of(project(Op.UPDATE, PROJECT, "name-" + (i - 1), "name-" + i, 100 + i)));
                }
            });
            tasks.get();
            renames.get();
        } finally {
            pool.shutdown();
        }

        assertThat(index.liveDocuments(DocumentType.TASKS).values())
                .hasSize(200)
                .allSatisfy(task -> assertThat(task.field("project_name")).isEqualTo("name-50"));
    }

    @Test
    void anUpdateThatKeepsTheProjectNameDoesNotRewriteItsTasks() {
        indexer.apply(List.of(project(Op.CREATE, PROJECT, null, "Apollo", 100)));
        indexer.apply(List.of(task(Op.CREATE, TASK, PROJECT, "title", 200)));
        indexer.apply(List.of(project(Op.UPDATE, PROJECT, "Apollo", "Apollo", 300)));

        assertThat(registry.get(IndexerMetrics.PROPAGATED).counter().count()).isZero();
        assertThat(liveTask(TASK).field("project_name")).isEqualTo("Apollo");
    }

    @Test
    void eventsOfTablesThatAreNotIndexedAreSkipped() {
        indexer.apply(List.of(ChangeEvent.of(Op.CREATE, "organizations", Map.of("id", "o1"), null,
                Map.of("id", "o1", "name", "Acme"), source(100))));

        assertThat(index.liveDocuments(DocumentType.TASKS)).isEmpty();
        assertThat(index.liveDocuments(DocumentType.PROJECTS)).isEmpty();
    }

    private IndexedDocument liveTask(String id) {
        IndexedDocument task = index.liveDocuments(DocumentType.TASKS).get(id);
        assertThat(task).as("live task " + id).isNotNull();
        return task;
    }

    private double count(String outcome) {
        return registry.get(IndexerMetrics.DOCUMENTS).tag("type", "tasks").tag("outcome", outcome).counter().count();
    }

    static ChangeEvent task(Op op, String id, String project, String title, long lsn) {
        Map<String, Object> row = taskRow(id, project, title);
        return ChangeEvent.of(op, "tasks", Map.of("id", id), op == Op.UPDATE ? row : null, row, source(lsn));
    }

    static ChangeEvent delete(String id, String project, long lsn) {
        return ChangeEvent.of(Op.DELETE, "tasks", Map.of("id", id), taskRow(id, project, "gone"), null, source(lsn));
    }

    static ChangeEvent project(Op op, String id, String oldName, String name, long lsn) {
        return ChangeEvent.of(op, "projects", Map.of("id", id), oldName == null ? null : projectRow(id, oldName),
                projectRow(id, name), source(lsn));
    }

    private static Map<String, Object> taskRow(String id, String project, String title) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", id);
        row.put("project_id", project);
        row.put("title", title);
        row.put("description", null);
        row.put("status", "todo");
        row.put("priority", 3L);
        return row;
    }

    private static Map<String, Object> projectRow(String id, String name) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", id);
        row.put("organization_id", "org");
        row.put("name", name);
        return row;
    }

    private static Source source(long lsn) {
        return new Source(lsn, 1, Instant.parse("2026-11-21T00:00:00Z"), false);
    }
}
