package dev.changeflow.indexer;

import static dev.changeflow.indexer.SearchBehaviour.writeAMixOfChanges;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changeflow.config.Settings;
import dev.changeflow.indexer.index.ConditionalWrite;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.StoredDocument;
import dev.changeflow.router.service.AdminApi;
import dev.changeflow.router.service.BearerToken;
import dev.changeflow.router.service.OpsEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /search/rebuild} on a Lucene index: a new generation built from the state topics and the change topics
 * while the live one keeps serving, then switched to.
 */
class SearchRebuildIT {
    static final Duration CONVERGES = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Far above any LSN of these tests: a document written with it can never be replaced by a replay. */
    static final long FAR_FUTURE = 1L << 50;

    @Test
    void aRebuildOfALuceneIndexMadeWrongOnPurposeEndsEqualToTheDatabaseWhileSearchesAndWritesGoOn() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()) {
            StateTopicsFixture state = new StateTopicsFixture(h).create();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            h.startCapture();
            IndexerService indexer = h.startIndexer(meters);
            URI admin = adminEndpoint(h, indexer);
            writeAMixOfChanges(h, 4, 150);
            writeAMixOfChanges(h, 4, 150);
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
            assertThat(indexer.generation()).isEqualTo("legacy");

            List<String> broken = makeTheIndexWrong(indexer);
            assertThat(IndexerHarness.indexed(indexer)).isNotEqualTo(h.expectedFromDatabase());
            assertThat(SearchBehaviour.hits(indexer, "tasks", "corrupted")).hasSize(2);
            // Nothing is being written: the change topics hold every change, and so do the state topics now.
            state.copyChangeTopics(Map.of());
            assertThat(send(admin, "GET", "/search/rebuild").statusCode()).as("no rebuild yet").isEqualTo(404);

            // Searches and writes go on during the rebuild.
            JsonNode done;
            AtomicInteger searchesDuringRebuild = new AtomicInteger();
            AtomicLong appliedDuringRebuild = new AtomicLong();
            ConcurrentLinkedQueue<String> searchFailures = new ConcurrentLinkedQueue<>();
            double appliedBefore = SearchBehaviour.count(meters, "applied");

            HttpResponse<String> started = send(admin, "POST", "/search/rebuild?batch_size=20");
            assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
            assertThat(JSON.readTree(started.body()).get("replacing").asText()).isEqualTo("legacy");

            // Paced by the scheduler: a write round every 500 ms, a search every 50 ms, until the rebuild ends.
            ScheduledExecutorService load = Executors.newScheduledThreadPool(2);
            AtomicInteger writeRounds = new AtomicInteger();
            ConcurrentLinkedQueue<String> writeFailures = new ConcurrentLinkedQueue<>();
            try {
                load.scheduleWithFixedDelay(() -> {
                    try {
                        writeAMixOfChanges(h, 2, 10);
                        writeRounds.incrementAndGet();
                    } catch (Exception e) {
                        writeFailures.add(e.toString());
                    }
                    // Every 500 ms: the rebuild's last catch-up chases the writes, and on a loaded 2-core machine
                    // (the suite's other test JVM backfilling 100,000 rows) it indexed ~120 changes/s, fewer than
                    // a round every 200 ms wrote.
                }, 0, 500, TimeUnit.MILLISECONDS);
                load.scheduleWithFixedDelay(() -> {
                    boolean rebuilding = indexer.rebuildStatus().map(s -> !s.phase().finished()).orElse(false);
                    try {
                        assertThat(totalHits(indexer, "task")).isPositive();
                        if (rebuilding) {
                            searchesDuringRebuild.incrementAndGet();
                            appliedDuringRebuild.set((long) SearchBehaviour.count(meters, "applied"));
                        }
                    } catch (Throwable e) {
                        searchFailures.add(e.toString());
                    }
                }, 0, 50, TimeUnit.MILLISECONDS);
                done = awaitRebuildFinished(admin);
            } finally {
                load.shutdown();
                assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).as("writes and searches stopped").isTrue();
            }
            assertThat(writeFailures).isEmpty();
            assertThat(writeRounds).as("write rounds").hasPositiveValue();

            assertThat(done.get("phase").asText()).as(done.toString()).isEqualTo("done");
            assertThat(done.get("generation").asText()).isEqualTo("gen-1");
            assertThat(done.get("state_records").asLong()).as("state records indexed").isPositive();
            assertThat(done.get("error").isNull()).isTrue();
            assertThat(searchFailures).as("searches during the rebuild").isEmpty();
            assertThat(searchesDuringRebuild).as("searches answered while it rebuilt").hasPositiveValue();
            assertThat((double) appliedDuringRebuild.get()).as("live writes went on while it rebuilt")
                    .isGreaterThan(appliedBefore);

            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
            assertThat(indexer.generation()).isEqualTo("gen-1");
            assertThat(SearchBehaviour.hits(indexer, "tasks", "corrupted")).isEmpty();
            for (String id : broken) {
                assertThat(indexer.index().get(DocumentType.TASKS, List.of(id)).get(id).document().version())
                        .as("task %s rebuilt from its changes", id).isLessThan(FAR_FUTURE);
            }
            assertThat(children(h.luceneDirectory())).as("the old generation is gone")
                    .containsExactlyInAnyOrder("CURRENT", "gen-1");
        }
    }

    @Test
    void aRestartedIndexerOpensTheRebuiltGenerationAndASecondRebuildReplacesIt() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()) {
            StateTopicsFixture state = new StateTopicsFixture(h).create();
            h.startCapture();
            IndexerService indexer = h.startIndexer();
            writeAMixOfChanges(h, 3, 40);
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
            Map<TopicPartition, Long> copied = state.copyChangeTopics(Map.of());
            indexer.rebuild(null);
            awaitDone(indexer);
            indexer.close();

            IndexerService restarted = h.startIndexer();
            assertThat(restarted.generation()).isEqualTo("gen-1");
            h.awaitIndexEqualsDatabase(restarted, CONVERGES);

            writeAMixOfChanges(h, 3, 40);
            h.awaitIndexEqualsDatabase(restarted, CONVERGES);
            state.copyChangeTopics(copied);
            makeTheIndexWrong(restarted);
            restarted.rebuild(null);
            awaitDone(restarted);
            assertThat(restarted.generation()).isEqualTo("gen-2");
            h.awaitIndexEqualsDatabase(restarted, CONVERGES);
            assertThat(children(h.luceneDirectory())).containsExactlyInAnyOrder("CURRENT", "gen-2");
            assertThat(Files.readString(h.luceneDirectory().resolve("CURRENT")).trim()).isEqualTo("gen-2");
        }
    }

    @Test
    void aRebuildIsRefusedWithTheReasonWhenTheStateTopicsDoNotExistAndTheIndexStaysAsItWas() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()) {
            new StateTopicsFixture(h); // names the topics, does not create them
            h.startCapture();
            IndexerService indexer = h.startIndexer();
            URI admin = adminEndpoint(h, indexer);
            writeAMixOfChanges(h, 2, 10);
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);

            HttpResponse<String> refused = send(admin, "POST", "/search/rebuild");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
            assertThat(refused.body()).contains(h.id + ".project-state").contains("does not exist");
            assertThat(send(admin, "POST", "/search/rebuild?batch_size=0").statusCode()).isEqualTo(400);
            assertThat(HTTP.send(HttpRequest.newBuilder(admin.resolve("/search/rebuild")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).as("without the token").isEqualTo(401);
            assertThat(indexer.generation()).isEqualTo("legacy");
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
        }
    }

    /**
     * Breaks the index behind the indexer's back, in ways replaying the change topics cannot repair: two tasks
     * deleted and two retitled "corrupted", each with a version no change will ever exceed, and a task that never
     * existed. Returns the ids of the four tasks.
     */
    private static List<String> makeTheIndexWrong(IndexerService indexer) {
        List<StoredDocument> tasks = new ArrayList<>(indexer.index().get(DocumentType.TASKS,
                indexer.index().liveDocuments(DocumentType.TASKS).keySet()).values()).subList(0, 4);
        List<ConditionalWrite> writes = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            StoredDocument task = tasks.get(i);
            IndexedDocument wrong;
            if (i < 2) {
                wrong = IndexedDocument.tombstone(task.document().id(), FAR_FUTURE);
            } else {
                Map<String, Object> fields = new LinkedHashMap<>(task.document().fields());
                fields.put("title", "corrupted");
                wrong = IndexedDocument.live(task.document().id(), FAR_FUTURE, fields);
            }
            writes.add(new ConditionalWrite(DocumentType.TASKS, wrong, task.revision()));
        }
        Map<String, Object> ghost = new LinkedHashMap<>(tasks.get(2).document().fields());
        ghost.put("title", "ghost");
        writes.add(new ConditionalWrite(DocumentType.TASKS,
                IndexedDocument.live(UUID.randomUUID().toString(), FAR_FUTURE, ghost), null));
        assertThat(indexer.index().write(writes)).containsOnly(true);
        return tasks.stream().map(t -> t.document().id()).toList();
    }

    static void awaitDone(IndexerService indexer) {
        await("rebuild done").atMost(CONVERGES).pollInterval(Duration.ofMillis(100))
                .until(() -> indexer.rebuildStatus().orElseThrow().phase().finished());
        assertThat(indexer.rebuildStatus().orElseThrow().phase()).as(indexer.rebuildStatus().toString())
                .isEqualTo(RebuildStatus.Phase.DONE);
    }

    static JsonNode awaitRebuildFinished(URI admin) {
        return awaitRebuildFinished(admin, CONVERGES);
    }

    /** Polls {@code GET /search/rebuild} until the rebuild has ended, at most {@code atMost}; its last status. */
    static JsonNode awaitRebuildFinished(URI admin, Duration atMost) {
        AtomicReferenceHolder last = new AtomicReferenceHolder();
        await("rebuild finished").atMost(atMost)
                .conditionEvaluationListener(c -> {
                    if (c.getElapsedTimeInMS() % 5_000 < 120) {
                        System.out.println("Rebuild status: " + last.node);
                    }
                }).pollInterval(Duration.ofMillis(100)).until(() -> {
            HttpResponse<String> response = send(admin, "GET", "/search/rebuild");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            last.node = JSON.readTree(response.body());
            return List.of("done", "failed", "cancelled").contains(last.node.get("phase").asText());
        });
        return last.node;
    }

    private static final class AtomicReferenceHolder {
        volatile JsonNode node;
    }

    /** The indexer's admin routes on an operations endpoint of their own, as {@code changeflow run} serves them. */
    static URI adminEndpoint(IndexerHarness h, IndexerService indexer) {
        Settings settings = Settings.of(Map.of("CHANGEFLOW_HTTP_PORT", "0", "CHANGEFLOW_HTTP_HOST", "127.0.0.1",
                "CHANGEFLOW_ADMIN_TOKEN", IndexerHarness.SEARCH_TOKEN));
        OpsEndpoint ops = h.world.closeLater(OpsEndpoint.start(settings, OpsEndpoint.newRegistry(),
                () -> List.of(indexer)));
        new AdminApi(BearerToken.from(settings), indexer.adminRoutes()).install(ops);
        return ops.uri();
    }

    /** Searches tasks over the indexer's search endpoint; the total number of hits. */
    static long totalHits(IndexerService indexer, String query) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(indexer.searchUri()
                .resolve("/search/tasks?limit=1&q=" + query))
                .header("Authorization", "Bearer " + IndexerHarness.SEARCH_TOKEN).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body()).get("total").asLong();
    }

    static HttpResponse<String> send(URI admin, String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(admin.resolve(path))
                .header("Authorization", "Bearer " + IndexerHarness.SEARCH_TOKEN)
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> children(Path directory) throws Exception {
        try (Stream<Path> children = Files.list(directory)) {
            return children.map(p -> p.getFileName().toString()).toList();
        }
    }
}
