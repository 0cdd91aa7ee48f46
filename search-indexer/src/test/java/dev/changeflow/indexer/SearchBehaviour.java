package dev.changeflow.indexer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.StoredDocument;
import dev.changeflow.indexer.internal.IndexerMetrics;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.Source;
import dev.changeflow.stack.AppRows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What the search indexer must do, end to end on real servers (Postgres, capture, Kafka), whatever the engine: each
 * engine's IT runs this suite. Writes go through plain SQL; searches through the indexer's HTTP endpoint.
 */
abstract class SearchBehaviour {
    static final Duration CONVERGES = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** A fresh harness for one test, writing to this suite's engine. */
    abstract IndexerHarness harness() throws Exception;

    /**
     * Makes the engine forget the versions of documents it deleted as soon as it can (OpenSearch:
     * {@code index.gc_deletes}) and waits until that time has passed. Nothing to do for an engine without such a
     * setting.
     */
    abstract void forgetDeletedVersions(IndexerHarness harness) throws Exception;

    @Test
    void createsUpdatesAndDeletesOfTasksAndProjectsShowUpInSearch() throws Exception {
        try (IndexerHarness h = harness()) {
            h.startCapture();
            IndexerService indexer = h.startIndexer();
            UUID apollo = UUID.randomUUID();
            UUID gemini = UUID.randomUUID();
            UUID report = UUID.randomUUID();
            UUID review = UUID.randomUUID();
            try (Connection c = h.sql()) {
                UUID organization = AppRows.organization(c);
                AppRows.project(c, apollo, organization);
                AppRows.project(c, gemini, organization);
                AppRows.execute(c, "UPDATE app.projects SET name = 'Apollo program' WHERE id = ?", apollo);
                AppRows.execute(c, "UPDATE app.projects SET name = 'Gemini program' WHERE id = ?", gemini);
                AppRows.task(c, report, apollo, "Write the quarterly report");
                AppRows.task(c, review, apollo, "Review the budget");
            }
            awaitHits(indexer, "tasks", "quarterly", Set.of(report.toString()));
            awaitHits(indexer, "tasks", "project_name:apollo", Set.of(report.toString(), review.toString()));
            awaitHits(indexer, "projects", "gemini", Set.of(gemini.toString()));

            try (Connection c = h.sql()) {
                AppRows.retitle(c, report, "Write the annual report");
                AppRows.execute(c, "UPDATE app.tasks SET status = 'done' WHERE id = ?", review);
                AppRows.deleteProject(c, gemini);
            }
            awaitHits(indexer, "tasks", "annual report", Set.of(report.toString()));
            awaitHits(indexer, "tasks", "quarterly", Set.of());
            awaitHits(indexer, "tasks", "status:done", Set.of(review.toString()));
            awaitHits(indexer, "projects", "gemini", Set.of());

            try (Connection c = h.sql()) {
                AppRows.deleteTask(c, review);
            }
            awaitHits(indexer, "tasks", "budget", Set.of());
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
        }
    }

    @Test
    void renamingAProjectUpdatesTheDocumentsOfAllItsTasks() throws Exception {
        try (IndexerHarness h = harness()) {
            h.startCapture();
            IndexerService indexer = h.startIndexer();
            UUID project = UUID.randomUUID();
            List<UUID> tasks = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                tasks.add(UUID.randomUUID());
            }
            try (Connection c = h.sql()) {
                AppRows.project(c, project, AppRows.organization(c));
                AppRows.execute(c, "UPDATE app.projects SET name = 'Mercury' WHERE id = ?", project);
                AppRows.tasks(c, tasks, project);
            }
            Set<String> ids = new TreeSet<>(tasks.stream().map(UUID::toString).toList());
            awaitHits(indexer, "tasks", "project_name:mercury", ids);

            try (Connection c = h.sql()) {
                AppRows.renameProject(c, project, "Artemis");
            }
            awaitHits(indexer, "tasks", "project_name:artemis", ids);
            awaitHits(indexer, "tasks", "project_name:mercury", Set.of());
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
        }
    }

    @Test
    void replayingTheTopicsFromOffsetZeroLeavesTheIndexEqualToTheDatabase() throws Exception {
        try (IndexerHarness h = harness()) {
            h.startCapture();
            IndexerService first = h.startIndexer();
            writeAMixOfChanges(h, 40, 400);
            h.awaitIndexEqualsDatabase(first, CONVERGES);
            h.awaitCaughtUp(CONVERGES);
            first.close();

            h.rewindGroupToStart();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            IndexerService replay = h.startIndexer(registry);
            h.awaitCaughtUp(CONVERGES);

            h.awaitIndexEqualsDatabase(replay, Duration.ofSeconds(5));
            assertThat(count(registry, "applied")).as("documents changed by the replay").isZero();
            assertThat(count(registry, "duplicate") + count(registry, "stale")).as("replayed writes ignored")
                    .isGreaterThan(400);
            assertThat(h.deadLetters()).isZero();
        }
    }

    @Test
    void anOlderEventPublishedAfterANewerOneIsIgnored() throws Exception {
        try (IndexerHarness h = harness()) {
            h.startCapture();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            IndexerService indexer = h.startIndexer(registry);
            UUID project = UUID.randomUUID();
            UUID task = UUID.randomUUID();
            try (Connection c = h.sql()) {
                AppRows.project(c, project, AppRows.organization(c));
                AppRows.task(c, task, project, "first title");
                AppRows.retitle(c, task, "second title");
            }
            awaitHits(indexer, "tasks", "second", Set.of(task.toString()));
            h.awaitCaughtUp(CONVERGES);
            List<ChangeEvent> events = h.eventsOf("tasks", task);
            ChangeEvent newest = events.get(events.size() - 1);

            // The same row, one byte of WAL earlier than the newest change, saying something else.
            Map<String, Object> older = new LinkedHashMap<>(newest.after());
            older.put("title", "an older title");
            Source source = newest.source();
            h.publish(ChangeEvent.of(Op.UPDATE, "tasks", newest.key(), newest.after(), older,
                    new Source(source.lsn() - 1, source.txId(), source.commitTs(), false)));
            h.awaitCaughtUp(CONVERGES);

            assertThat(count(registry, "stale")).isEqualTo(1);
            assertThat(hits(indexer, "tasks", "older")).isEmpty();
            IndexedDocument stored = document(indexer, DocumentType.TASKS, task);
            assertThat(stored.field("title")).isEqualTo("second title");
            assertThat(stored.version()).isEqualTo(source.lsn());
        }
    }

    @Test
    void aDeletedRowStaysDeletedWhenItsCreateIsReplayedEvenAfterTheEngineForgetsDeletes() throws Exception {
        try (IndexerHarness h = harness()) {
            h.startCapture();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            IndexerService indexer = h.startIndexer(registry);
            UUID project = UUID.randomUUID();
            UUID task = UUID.randomUUID();
            try (Connection c = h.sql()) {
                AppRows.project(c, project, AppRows.organization(c));
                AppRows.task(c, task, project, "ephemeral task");
            }
            awaitHits(indexer, "tasks", "ephemeral", Set.of(task.toString()));
            try (Connection c = h.sql()) {
                AppRows.deleteTask(c, task);
            }
            awaitHits(indexer, "tasks", "ephemeral", Set.of());
            h.awaitCaughtUp(CONVERGES);
            forgetDeletedVersions(h);

            ChangeEvent create = h.eventsOf("tasks", task).get(0);
            assertThat(create.op()).isEqualTo(Op.CREATE);
            h.publish(create);
            h.awaitCaughtUp(CONVERGES);

            assertThat(hits(indexer, "tasks", "ephemeral")).isEmpty();
            StoredDocument tombstone = indexer.index().get(DocumentType.TASKS, List.of(task.toString()))
                    .get(task.toString());
            assertThat(tombstone.document().deleted()).isTrue();
            assertThat(count(registry, "stale")).isEqualTo(1);
        }
    }

    /**
     * {@code projects} projects and {@code tasks} tasks, then a random mix of retitles, status changes, moves between
     * projects, project renames, and deletes of tasks and of a project (with its tasks).
     */
    static void writeAMixOfChanges(IndexerHarness h, int projects, int tasks) throws Exception {
        Random random = new Random(42);
        List<UUID> projectIds = new ArrayList<>();
        List<UUID> taskIds = new ArrayList<>();
        try (Connection c = h.sql()) {
            UUID organization = AppRows.organization(c);
            for (int i = 0; i < projects; i++) {
                UUID p = UUID.randomUUID();
                AppRows.project(c, p, organization);
                projectIds.add(p);
            }
            for (int i = 0; i < tasks; i++) {
                UUID t = UUID.randomUUID();
                AppRows.task(c, t, projectIds.get(random.nextInt(projects)), "task " + i);
                taskIds.add(t);
            }
            for (int i = 0; i < tasks; i++) {
                UUID t = taskIds.get(random.nextInt(taskIds.size()));
                switch (random.nextInt(5)) {
                    case 0 -> AppRows.retitle(c, t, "retitled " + i);
                    case 1 -> AppRows.execute(c, "UPDATE app.tasks SET status = 'in_progress' WHERE id = ?", t);
                    case 2 -> AppRows.move(c, t, projectIds.get(random.nextInt(projects)));
                    case 3 -> AppRows.renameProject(c, projectIds.get(random.nextInt(projects)), "renamed " + i);
                    default -> AppRows.deleteTask(c, t);
                }
            }
            AppRows.deleteProject(c, projectIds.get(0));
        }
    }

    static double count(SimpleMeterRegistry registry, String outcome) {
        return registry.find(IndexerMetrics.DOCUMENTS).tag("outcome", outcome).counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }

    static IndexedDocument document(IndexerService indexer, DocumentType type, UUID id) {
        StoredDocument stored = indexer.index().get(type, List.of(id.toString())).get(id.toString());
        assertThat(stored).as(type.table() + " " + id).isNotNull();
        return stored.document();
    }

    /** Waits until searching {@code type} for {@code query} over HTTP finds exactly {@code ids}. */
    static void awaitHits(IndexerService indexer, String type, String query, Set<String> ids) {
        await("search " + type + " for '" + query + "' finds " + ids.size()).atMost(CONVERGES)
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(hits(indexer, type, query)).isEqualTo(ids));
    }

    /** The ids a search over the indexer's HTTP endpoint returns (up to 100). */
    static Set<String> hits(IndexerService indexer, String type, String query) throws Exception {
        URI uri = indexer.searchUri().resolve("/search/" + type + "?limit=100&q="
                + URLEncoder.encode(query, StandardCharsets.UTF_8));
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer " + IndexerHarness.SEARCH_TOKEN).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(response.body());
        Set<String> ids = new TreeSet<>();
        body.get("hits").forEach(hit -> ids.add(hit.get("id").asText()));
        assertThat(body.get("total").asLong()).isEqualTo(ids.size());
        return ids;
    }
}
