package dev.changeflow.indexer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.stack.AppRows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * OpenSearch stopped while changes keep coming, then restarted: nothing lost, nothing dead-lettered. And the
 * indexer's own HTTP client broken for good: replaced by the indexer, nothing lost.
 */
class OpenSearchOutageIT {

    @Test
    void writesDuringAnOpenSearchOutageAreRetriedUntilItIsBackAndNoneIsLostOrDeadLettered() throws Exception {
        OpenSearchNode node = OpenSearchNode.shared();
        try (IndexerHarness h = IndexerHarness.openSearch(node)) {
            h.startCapture();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            IndexerService indexer = h.startIndexer(registry);
            UUID project = UUID.randomUUID();
            List<UUID> tasks = new ArrayList<>();
            try (Connection c = h.sql()) {
                AppRows.project(c, project, AppRows.organization(c));
                for (int i = 0; i < 500; i++) {
                    tasks.add(UUID.randomUUID());
                }
                AppRows.tasks(c, tasks, project);
            }
            h.awaitIndexEqualsDatabase(indexer, SearchBehaviour.CONVERGES);

            // Changes keep coming for ~10 s; OpenSearch is down for ~6 s of them.
            CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> {
                try (Connection c = h.sql()) {
                    for (int i = 0; i < 2_000; i++) {
                        UUID task = tasks.get(i % tasks.size());
                        switch (i % 10) {
                            case 0 -> AppRows.renameProject(c, project, "renamed " + i);
                            case 9 -> AppRows.execute(c, "UPDATE app.tasks SET status = 'done' WHERE id = ?", task);
                            default -> AppRows.retitle(c, task, "title " + i);
                        }
                        TimeUnit.MILLISECONDS.sleep(5); // a steady stream, not a burst
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // Fixed pauses are the point here: the outage starts while writes are flowing and lasts a while.
            TimeUnit.SECONDS.sleep(2);
            node.stop();
            try {
                TimeUnit.SECONDS.sleep(6);
            } finally {
                node.start();
            }
            writes.get(2, TimeUnit.MINUTES);

            h.awaitIndexEqualsDatabase(indexer, Duration.ofMinutes(2));
            h.awaitCaughtUp(SearchBehaviour.CONVERGES);
            assertThat(h.deadLetters()).as("records dead-lettered").isZero();
            assertThat(registry.find("changeflow.subscription.retries").tag("kind", "outage").counters())
                    .as("outage retries").anySatisfy(c -> assertThat(c.count()).isPositive());
            assertThat(registry.find("changeflow.subscription.retries").tag("kind", "failure").counters())
                    .allSatisfy(c -> assertThat(c.count()).isZero());
        }
    }

    @Test
    void anHttpClientThatCanNoLongerSendIsReplacedByTheIndexerAndNothingIsLost() throws Exception {
        OpenSearchNode node = OpenSearchNode.shared();
        try (IndexerHarness h = IndexerHarness.openSearch(node)) {
            h.startCapture();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            IndexerService indexer = h.startIndexer(registry);
            SearchBehaviour.writeAMixOfChanges(h, 3, 30);
            h.awaitIndexEqualsDatabase(indexer, SearchBehaviour.CONVERGES);

            // The live generation's index: the indexer's index() is the switch between generations.
            var index = (dev.changeflow.indexer.internal.opensearch.OpenSearchIndex)
                    ((dev.changeflow.indexer.internal.GenerationSwitch) indexer.index()).live().index();
            index.breakClientForTests();
            SearchBehaviour.writeAMixOfChanges(h, 3, 30);

            // Whichever meets the broken client first, a write or this test's read, replaces it.
            h.awaitIndexEqualsDatabase(indexer, SearchBehaviour.CONVERGES);
            h.awaitCaughtUp(SearchBehaviour.CONVERGES);
            assertThat(index.reopens()).as("the client replaced by the indexer").isGreaterThanOrEqualTo(1);
            assertThat(h.deadLetters()).as("records dead-lettered").isZero();
            assertThat(indexer.isReady()).isTrue();
        }
    }
}
