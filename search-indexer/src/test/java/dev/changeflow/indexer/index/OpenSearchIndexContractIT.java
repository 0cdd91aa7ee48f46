package dev.changeflow.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.indexer.OpenSearchNode;
import dev.changeflow.indexer.internal.opensearch.OpenSearchIndex;
import dev.changeflow.router.subscription.OutageException;
import dev.changeflow.router.subscription.Outages;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.junit.jupiter.api.Test;
import org.opensearch.client.opensearch._types.ErrorResponse;
import org.opensearch.client.opensearch._types.OpenSearchException;

/**
 * The {@link SearchIndex} contract against a real OpenSearch node in this JVM, plus what only OpenSearch has: a
 * refresh interval, index settings and mappings, cluster blocks, an engine that can go away and come back.
 */
class OpenSearchIndexContractIT extends SearchIndexContract {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    @Override
    protected SearchIndex newIndex(String name) {
        return openSearchIndex(name, "1s");
    }

    private static OpenSearchIndex openSearchIndex(String prefix, String refreshInterval) {
        return new OpenSearchIndex(OpenSearchNode.shared().httpUrl(), null, null, prefix, 1, 0, refreshInterval,
                REQUEST_TIMEOUT);
    }

    @Test
    void getAndTasksOfProjectAreRealTimeWhileSearchWaitsForARefresh() {
        try (SearchIndex neverRefreshed = openSearchIndex("cf-norefresh-" + System.nanoTime() + "-", "-1")) {
            neverRefreshed.open();

            neverRefreshed.write(List.of(create(task("t1", 10, "title", "Quarterly report"))));

            assertThat(neverRefreshed.get(DocumentType.TASKS, List.of("t1"))).containsOnlyKeys("t1");
            assertThat(neverRefreshed.search(DocumentType.TASKS, "quarterly", 10).total())
                    .as("not searchable before a refresh").isZero();
            assertThat(neverRefreshed.tasksOfProject("p1")).hasSize(1);
            assertThat(neverRefreshed.search(DocumentType.TASKS, "quarterly", 10).total())
                    .as("searchable after tasksOfProject refreshed").isEqualTo(1);
        }
    }

    @Test
    void openCreatesIndicesWithTheirMappingAndSettingsAndLeavesExistingSettingsAlone() throws IOException {
        String prefix = "cf-mapping-" + System.nanoTime() + "-";
        OpenSearchNode node = OpenSearchNode.shared();
        try (SearchIndex first = openSearchIndex(prefix, "1s")) {
            first.open();
        }
        node.updateIndexSetting(prefix + "projects", "index.refresh_interval", "7s");

        try (SearchIndex second = openSearchIndex(prefix, "1s")) {
            second.open();
        }

        String mapping = node.get("/" + prefix + "tasks/_mapping");
        assertThat(mapping)
                .contains("\"dynamic\":\"true\"")
                .contains("\"date_detection\":false")
                .contains("columns_string_as_text", "columns_long_as_text", "columns_double_as_text",
                        "columns_boolean_as_text", "cf_reserved")
                .contains("\"title\":{\"type\":\"text\",\"analyzer\":\"standard\"}")
                .contains("\"status\":{\"type\":\"keyword\"}")
                .contains("\"cf_version\":{\"type\":\"long\"}")
                .contains("\"cf_deleted\":{\"type\":\"boolean\"}")
                .contains("\"project_version\":{\"type\":\"long\"}");
        assertThat(node.get("/" + prefix + "tasks/_settings"))
                .contains("\"number_of_shards\":\"1\"")
                .contains("\"number_of_replicas\":\"0\"")
                .contains("\"refresh_interval\":\"1s\"");
        assertThat(node.get("/" + prefix + "projects/_settings")).contains("\"refresh_interval\":\"7s\"");
    }

    @Test
    void anIndexCreatedWithTheOldFixedMappingIndexesNewColumnsOnceOpened() {
        String prefix = "cf-oldmapping-" + System.nanoTime() + "-";
        OpenSearchNode node = OpenSearchNode.shared();
        for (DocumentType type : DocumentType.values()) {
            node.put("/" + prefix + type.table(), oldIndex(type));
        }
        // Written by the earlier version: its notes are in _source but not indexed.
        node.put("/" + prefix + "tasks/_doc/t0?refresh=true", """
                {"id":"t0","project_id":"p1","title":"Old","notes":"urgent","cf_version":5,"cf_deleted":false}""");
        index.close();
        index = openSearchIndex(prefix, "1s");

        index.open();

        assertThat(node.get("/" + prefix + "tasks/_mapping")).contains("\"dynamic\":\"true\"")
                .contains("columns_string_as_text").contains("\"title\":{\"type\":\"text\",\"analyzer\":\"standard\"}");
        assertThat(node.get("/" + prefix + "projects/_mapping")).contains("\"dynamic\":\"true\"");
        index.write(List.of(create(task("t1", 10, "notes", "Urgent", "estimate", 42L)),
                create(project("p1", 10, "Apollo", "region", "North Europe"))));
        awaitSearch(DocumentType.TASKS, "notes:urgent", "t1");
        awaitSearch(DocumentType.TASKS, "estimate:42", "t1");
        awaitSearch(DocumentType.PROJECTS, "region:europe", "p1");

        StoredDocument old = stored("t0");
        assertThat(old.document().field("notes")).isEqualTo("urgent");
        index.write(List.of(replace(task("t0", 6, "notes", "urgent"), old.revision())));
        awaitSearch(DocumentType.TASKS, "notes:urgent", "t0", "t1");
    }

    /** The settings and mapping an index of {@code type} was created with before columns were indexed dynamically. */
    private static String oldIndex(DocumentType type) {
        StringBuilder properties = new StringBuilder();
        type.fields().forEach((field, kind) -> properties.append('"').append(field).append("\":")
                .append(kind == DocumentType.FieldKind.TEXT ? "{\"type\":\"text\",\"analyzer\":\"standard\"}"
                        : "{\"type\":\"keyword\"}").append(','));
        if (type == DocumentType.TASKS) {
            properties.append("\"project_version\":{\"type\":\"long\"},");
        }
        properties.append("\"cf_version\":{\"type\":\"long\"},\"cf_deleted\":{\"type\":\"boolean\"}");
        return """
                {"settings":{"number_of_shards":1,"number_of_replicas":0,"refresh_interval":"1s"},
                 "mappings":{"dynamic":false,"properties":{%s}}}""".formatted(properties);
    }

    @Test
    void indexersOpeningTogetherBothSucceed() throws Exception {
        String prefix = "cf-together-" + System.nanoTime() + "-";
        ExecutorService executor = Executors.newFixedThreadPool(4);
        try {
            List<Future<Void>> opened = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                opened.add(executor.submit((Callable<Void>) () -> {
                    try (SearchIndex index = openSearchIndex(prefix, "1s")) {
                        index.open();
                    }
                    return null;
                }));
            }
            for (Future<Void> open : opened) {
                open.get();
            }
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aTombstoneOutlivesGcDeletes() {
        OpenSearchIndex tombstones = (OpenSearchIndex) index;
        OpenSearchNode.shared().updateIndexSetting(tombstones.indexName(DocumentType.TASKS), "index.gc_deletes", "0s");
        index.write(List.of(create(task("t1", 10))));
        index.write(List.of(replace(IndexedDocument.tombstone("t1", 20), stored("t1").revision())));
        index.liveDocuments(DocumentType.TASKS); // a refresh, so that anything forgettable is forgotten

        assertThat(index.write(List.of(create(task("t1", 5))))).containsExactly(false);
        assertThat(stored("t1").document()).isEqualTo(IndexedDocument.tombstone("t1", 20));
    }

    @Test
    void anUnreachableEngineIsAnOutage() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        try (SearchIndex unreachable = new OpenSearchIndex(URI.create("http://127.0.0.1:" + closedPort), "admin",
                "s3cret-password", "cf-", 1, 0, "1s", Duration.ofSeconds(5))) {
            assertThat(unreachable.describe()).isEqualTo("opensearch http://127.0.0.1:" + closedPort + " (cf-*)");

            assertThatThrownBy(unreachable::open)
                    .isInstanceOf(OutageException.class)
                    .hasMessageNotContaining("s3cret-password")
                    .hasRootCauseInstanceOf(ConnectException.class)
                    .satisfies(e -> assertThat(unreachable.isOutage(e)).isTrue())
                    .satisfies(e -> assertThat(Outages.isOutage(e)).isTrue());
        }
    }

    @Test
    void aWriteBlockedIndexIsAnOutageUntilTheBlockIsLifted() {
        OpenSearchIndex blocked = (OpenSearchIndex) index;
        String tasks = blocked.indexName(DocumentType.TASKS);
        OpenSearchNode.shared().updateIndexSetting(tasks, "index.blocks.write", "true");
        try {
            assertThatThrownBy(() -> index.write(List.of(create(task("t1", 10)))))
                    .isInstanceOf(OutageException.class)
                    .hasMessageContaining("cluster_block_exception")
                    .satisfies(e -> assertThat(index.isOutage(e)).isTrue());
        } finally {
            OpenSearchNode.shared().updateIndexSetting(tasks, "index.blocks.write", "false");
        }
        assertThat(index.write(List.of(create(task("t1", 10))))).containsExactly(true);
    }

    @Test
    void settingsOutOfRangeAreRefusedAtConstructionWithoutEchoingCredentials() {
        URI url = OpenSearchNode.shared().httpUrl();
        assertThatThrownBy(() -> new OpenSearchIndex(URI.create("http://admin:s3cret@127.0.0.1:9200"), null, null,
                "cf-", 1, 0, "1s", REQUEST_TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> new OpenSearchIndex(url, null, null, "Changeflow-", 1, 0, "1s", REQUEST_TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Changeflow-");
        assertThatThrownBy(() -> new OpenSearchIndex(url, null, null, "cf-", 0, 0, "1s", REQUEST_TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shards");
        assertThatThrownBy(() -> new OpenSearchIndex(url, "admin", null, "cf-", 1, 0, "1s", REQUEST_TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("password");
        assertThatThrownBy(() -> new OpenSearchIndex(url, null, null, "cf-", 1, 0, "1s", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
    }

    @Test
    void isOutageTellsUnavailableFromRefused() {
        assertThat(index.isOutage(new ConnectException("Connection refused"))).isTrue();
        assertThat(index.isOutage(new ConnectionClosedException("Connection closed by peer"))).isTrue();
        assertThat(index.isOutage(new java.net.SocketTimeoutException("Read timed out"))).isTrue();
        assertThat(index.isOutage(new RuntimeException(new IOException("Connection reset")))).isTrue();
        assertThat(index.isOutage(answered(429, "rejected_execution_exception"))).isTrue();
        assertThat(index.isOutage(answered(500, "node_closed_exception"))).isTrue();
        assertThat(index.isOutage(answered(503, "search_phase_execution_exception"))).isTrue();
        assertThat(index.isOutage(answered(403, "cluster_block_exception"))).isTrue();
        assertThat(index.isOutage(answered(400, "mapper_parsing_exception"))).isFalse();
        assertThat(index.isOutage(answered(404, "index_not_found_exception"))).isFalse();
        assertThat(index.isOutage(answered(401, "security_exception"))).isFalse();
        assertThat(index.isOutage(new IllegalStateException("closed"))).isFalse();
    }

    private static OpenSearchException answered(int status, String type) {
        return new OpenSearchException(ErrorResponse.of(r -> r.status(status)
                .error(e -> e.type(type).reason("test"))));
    }

    @Test
    void writesRacingANodeStopFailOnlyAsOutagesAndNoAcknowledgedWriteIsLost() throws Exception {
        OpenSearchNode node = OpenSearchNode.shared();
        int batches = 60;
        int batchSize = 20;
        List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger batchesDone = new AtomicInteger();
        ExecutorService writer = Executors.newSingleThreadExecutor();
        Future<?> writing = writer.submit(() -> {
            for (int b = 0; b < batches; b++) {
                List<ConditionalWrite> batch = new ArrayList<>();
                for (int i = 0; i < batchSize; i++) {
                    batch.add(create(task("w" + (b * batchSize + i), b + 1)));
                }
                while (true) { // as a subscription does: retry the whole batch while it is an outage
                    try {
                        index.write(batch); // false on a retry: applied by an attempt that failed as a whole
                        batch.forEach(w -> acknowledged.add(w.document().id()));
                        break;
                    } catch (RuntimeException e) {
                        failures.add(e);
                        if (!index.isOutage(e)) {
                            throw e;
                        }
                        LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // retry backoff
                    }
                }
                batchesDone.incrementAndGet();
            }
        });
        try {
            await("a few batches written").atMost(Duration.ofSeconds(30)).until(() -> batchesDone.get() >= 5);
            node.stop();
            await("the writer to hit the outage").atMost(Duration.ofSeconds(30)).until(() -> !failures.isEmpty());
        } finally {
            node.start();
        }
        writing.get(120, TimeUnit.SECONDS);
        writer.shutdown();

        assertThat(failures).allSatisfy(e -> assertThat(index.isOutage(e)).as("outage: %s", e).isTrue());
        assertThat(acknowledged).hasSize(batches * batchSize);
        assertThat(index.get(DocumentType.TASKS, acknowledged)).hasSize(batches * batchSize);
        assertThat(index.liveDocuments(DocumentType.TASKS)).hasSize(batches * batchSize);
    }

    @Test
    void whileTheEngineIsDownCallsAreOutagesAndEveryAcknowledgedWriteSurvivesItsRestart() {
        OpenSearchNode node = OpenSearchNode.shared();
        index.write(List.of(create(task("t1", 10)), create(project("p1", 10, "Apollo"))));
        StoredDocument t1 = stored("t1");

        node.stop();
        try {
            assertThatThrownBy(() -> index.write(List.of(replace(task("t1", 20), t1.revision()))))
                    .satisfies(e -> assertThat(index.isOutage(e)).as("outage: %s", e).isTrue());
            assertThatThrownBy(() -> index.get(DocumentType.TASKS, List.of("t1")))
                    .satisfies(e -> assertThat(index.isOutage(e)).as("outage: %s", e).isTrue());
            assertThatThrownBy(() -> index.tasksOfProject("p1"))
                    .satisfies(e -> assertThat(index.isOutage(e)).as("outage: %s", e).isTrue());
            assertThatThrownBy(() -> index.search(DocumentType.TASKS, "task", 10))
                    .satisfies(e -> assertThat(index.isOutage(e)).as("outage: %s", e).isTrue());
        } finally {
            node.start();
        }

        List<Boolean> applied = await("a write to succeed once the node is back").atMost(Duration.ofSeconds(60))
                .ignoreExceptionsMatching(index::isOutage)
                .until(() -> index.write(List.of(replace(task("t1", 20), t1.revision()))), r -> !r.isEmpty());
        assertThat(applied).containsExactly(true);
        Map<String, StoredDocument> after = index.get(DocumentType.TASKS, List.of("t1"));
        assertThat(after.get("t1").document()).isEqualTo(task("t1", 20));
        assertThat(index.liveDocuments(DocumentType.PROJECTS)).containsOnlyKeys("p1");
    }
}
