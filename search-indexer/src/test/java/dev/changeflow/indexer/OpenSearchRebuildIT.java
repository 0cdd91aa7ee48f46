package dev.changeflow.indexer;

import static dev.changeflow.indexer.SearchBehaviour.writeAMixOfChanges;
import static dev.changeflow.indexer.SearchRebuildIT.CONVERGES;
import static dev.changeflow.indexer.SearchRebuildIT.FAR_FUTURE;
import static dev.changeflow.indexer.SearchRebuildIT.adminEndpoint;
import static dev.changeflow.indexer.SearchRebuildIT.awaitDone;
import static dev.changeflow.indexer.SearchRebuildIT.awaitRebuildFinished;
import static dev.changeflow.indexer.SearchRebuildIT.send;
import static dev.changeflow.indexer.SearchRebuildIT.totalHits;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.internal.opensearch.OpenSearchIndex;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /search/rebuild} on OpenSearch (a real node in this JVM): a new generation of indices
 * {@code <prefix><table>-g<n>} built while the live one keeps serving, then switched to by moving the aliases
 * {@code <prefix><table>}. Each test has indices of its own: the prefix is its harness's id.
 */
class OpenSearchRebuildIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long a rebuild under a steady load of writes and searches may take: OpenSearch is slower than Lucene. */
    private static final Duration REBUILT = Duration.ofMinutes(3);

    @Test
    void aRebuildOfPlainIndicesMadeWrongOnPurposeEndsEqualToTheDatabaseBehindAliasesWhileSearchesAndWritesGoOn()
            throws Exception {
        try (IndexerHarness h = IndexerHarness.openSearch(OpenSearchNode.shared())) {
            StateTopicsFixture state = new StateTopicsFixture(h).create();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            h.startCapture();
            IndexerService indexer = h.startIndexer(meters);
            URI admin = adminEndpoint(h, indexer);
            writeAMixOfChanges(h, 4, 150);
            writeAMixOfChanges(h, 4, 150);
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
            assertThat(indexer.generation()).isEqualTo("legacy");
            assertThat(indices(h)).as("plain indices").containsExactlyInAnyOrder(h.id + "-tasks", h.id + "-projects");

            List<String> broken = makeTheIndexWrong(h, indexer);
            assertThat(IndexerHarness.indexed(indexer)).isNotEqualTo(h.expectedFromDatabase());
            assertThat(SearchBehaviour.hits(indexer, "tasks", "corrupted")).hasSize(2);
            // Nothing is being written: the change topics hold every change, and so do the state topics now.
            state.copyChangeTopics(Map.of());

            AtomicInteger searchesDuringRebuild = new AtomicInteger();
            AtomicLong appliedDuringRebuild = new AtomicLong();
            ConcurrentLinkedQueue<String> searchFailures = new ConcurrentLinkedQueue<>();
            double appliedBefore = SearchBehaviour.count(meters, "applied");

            HttpResponse<String> started = send(admin, "POST", "/search/rebuild?batch_size=200");
            assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
            assertThat(JSON.readTree(started.body()).get("replacing").asText()).isEqualTo("legacy");

            // Paced by the scheduler: a write round every 500 ms, a search every 50 ms, until the rebuild ends.
            JsonNode done;
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
                done = awaitRebuildFinished(admin, REBUILT);
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
            for (String id : broken.subList(2, 4)) {
                assertThat(indexer.index().get(DocumentType.TASKS, List.of(id)).get(id).document().version())
                        .as("task %s rebuilt from its changes", id).isLessThan(FAR_FUTURE);
            }
            assertThat(indices(h)).as("only the new generation's indices remain")
                    .containsExactlyInAnyOrder(h.id + "-tasks-g1", h.id + "-projects-g1");
            assertThat(aliasedBy(h, "tasks")).containsExactly(h.id + "-tasks-g1");
            assertThat(aliasedBy(h, "projects")).containsExactly(h.id + "-projects-g1");
        }
    }

    @Test
    void aRestartedIndexerDeletesLeftoverGenerationsUsesTheAliasesAndASecondRebuildMovesThem() throws Exception {
        try (IndexerHarness h = IndexerHarness.openSearch(OpenSearchNode.shared())) {
            StateTopicsFixture state = new StateTopicsFixture(h).create();
            h.startCapture();
            IndexerService indexer = h.startIndexer();
            writeAMixOfChanges(h, 3, 40);
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
            Map<TopicPartition, Long> copied = state.copyChangeTopics(Map.of());
            indexer.rebuild(null);
            awaitDone(indexer);
            indexer.close();
            // What a rebuild that did not finish leaves: indices of a generation the aliases do not point at.
            for (String table : List.of("tasks", "projects")) {
                assertThat(openSearch("PUT", "/" + h.id + "-" + table + "-g5", null).statusCode()).isEqualTo(200);
            }

            IndexerService restarted = h.startIndexer();
            assertThat(restarted.generation()).isEqualTo("gen-1");
            assertThat(indices(h)).as("the leftover generation deleted at the start")
                    .containsExactlyInAnyOrder(h.id + "-tasks-g1", h.id + "-projects-g1");
            h.awaitIndexEqualsDatabase(restarted, CONVERGES);

            writeAMixOfChanges(h, 3, 40);
            h.awaitIndexEqualsDatabase(restarted, CONVERGES);
            state.copyChangeTopics(copied);
            makeTheIndexWrong(h, restarted);
            restarted.rebuild(null);
            awaitDone(restarted);
            assertThat(restarted.generation()).isEqualTo("gen-2");
            h.awaitIndexEqualsDatabase(restarted, CONVERGES);
            assertThat(indices(h)).containsExactlyInAnyOrder(h.id + "-tasks-g2", h.id + "-projects-g2");
            assertThat(aliasedBy(h, "tasks")).containsExactly(h.id + "-tasks-g2");
        }
    }

    @Test
    void anotherIndexerOnTheSamePrefixFollowsTheSwitchThroughTheAliases() throws Exception {
        try (IndexerHarness h = IndexerHarness.openSearch(OpenSearchNode.shared())) {
            StateTopicsFixture state = new StateTopicsFixture(h).create();
            h.startCapture();
            IndexerService rebuilding = h.startIndexer();
            IndexerService other = h.startIndexer();
            writeAMixOfChanges(h, 3, 40);
            h.awaitIndexEqualsDatabase(rebuilding, CONVERGES);
            makeTheIndexWrong(h, rebuilding);
            state.copyChangeTopics(Map.of());

            rebuilding.rebuild(null);
            awaitDone(rebuilding);

            SearchBehaviour.awaitHits(other, "tasks", "corrupted", Set.of());
            writeAMixOfChanges(h, 2, 20);
            h.awaitIndexEqualsDatabase(other, CONVERGES);
            h.awaitIndexEqualsDatabase(rebuilding, CONVERGES);
            assertThat(indices(h)).containsExactlyInAnyOrder(h.id + "-tasks-g1", h.id + "-projects-g1");
        }
    }

    /**
     * Breaks the index behind the indexer's back, with OpenSearch's document API on the names the indexer uses (plain
     * indices or aliases): two tasks deleted outright (no tombstone), two retitled "corrupted" with a version no
     * change will ever exceed, and a task that never existed. Returns the ids of the four tasks.
     */
    private static List<String> makeTheIndexWrong(IndexerHarness h, IndexerService indexer) throws Exception {
        String tasks = h.id + "-tasks";
        List<String> ids = new ArrayList<>(indexer.index().liveDocuments(DocumentType.TASKS).keySet()).subList(0, 4);
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> deleted = openSearch("DELETE", "/" + tasks + "/_doc/" + ids.get(i), null);
            assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        }
        ObjectNode source = null;
        for (int i = 2; i < 4; i++) {
            HttpResponse<String> read = openSearch("GET", "/" + tasks + "/_doc/" + ids.get(i), null);
            assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
            source = (ObjectNode) JSON.readTree(read.body()).get("_source");
            source.put("title", "corrupted").put(OpenSearchIndex.VERSION_FIELD, FAR_FUTURE);
            HttpResponse<String> overwritten = openSearch("PUT", "/" + tasks + "/_doc/" + ids.get(i), source);
            assertThat(overwritten.statusCode()).as(overwritten.body()).isEqualTo(200);
        }
        String ghost = UUID.randomUUID().toString();
        source.put("id", ghost).put("title", "ghost");
        HttpResponse<String> created = openSearch("PUT", "/" + tasks + "/_doc/" + ghost, source);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(openSearch("POST", "/" + tasks + "/_refresh", null).statusCode()).isEqualTo(200);
        return ids;
    }

    /** The indices whose names start with the harness's prefix. */
    private static Set<String> indices(IndexerHarness h) throws Exception {
        Set<String> names = new TreeSet<>();
        JSON.readTree(OpenSearchNode.shared().get("/_cat/indices/" + h.id + "-*?h=index&format=json"))
                .forEach(index -> names.add(index.get("index").asText()));
        return names;
    }

    /** The indices the alias {@code <prefix><table>} points at. */
    private static Set<String> aliasedBy(IndexerHarness h, String table) throws Exception {
        Set<String> names = new TreeSet<>();
        JSON.readTree(OpenSearchNode.shared().get("/_alias/" + h.id + "-" + table)).fieldNames()
                .forEachRemaining(names::add);
        return names;
    }

    /** A request on the node's HTTP API; {@code body} JSON, or null for none. */
    private static HttpResponse<String> openSearch(String method, String path, JsonNode body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(OpenSearchNode.shared().httpUrl().resolve(path))
                .header("Content-Type", "application/json");
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
