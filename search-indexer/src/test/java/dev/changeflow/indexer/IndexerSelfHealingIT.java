package dev.changeflow.indexer;

import static dev.changeflow.indexer.SearchBehaviour.writeAMixOfChanges;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.capture.testing.MainProcess;
import dev.changeflow.config.Settings;
import dev.changeflow.router.service.OpsEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The indexer under the failures of issue 18: a Lucene commit that overruns the handler timeout, a writer broken by
 * an external force or an interrupt, an index that cannot be reopened, and sustained starvation. It heals itself
 * without a restart, or fails loudly (/health 503, exit 1); it never retries forever behind a green check.
 */
class IndexerSelfHealingIT {
    private static final Duration CONVERGES = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void aBatchOverrunningTheHandlerTimeoutInsideALuceneCommitRecoversByItselfWithoutInterruptingIt() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()
                .with("CHANGEFLOW_SUBSCRIPTION_HANDLER_TIMEOUT", "1s")) {
            DiskTroubles disk = new DiskTroubles();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            h.startCapture();
            IndexerService indexer = h.startIndexer(meters, disk::wrap);
            writeAMixOfChanges(h, 3, 30);
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);

            // Three commits in a row each take 3 s: three times the handler timeout.
            disk.stallNextSyncs(3, 3_000);
            writeAMixOfChanges(h, 3, 30);

            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
            assertHealedWithoutRestart(h, indexer, disk);
            assertThat(disk.stalled).as("commits stalled").hasPositiveValue();
            assertThat(meters.get("changeflow.subscription.retries").tag("kind", "outage").counter().count())
                    .as("timed-out batches retried as outages").isPositive();
            assertThat(meters.find("changeflow.subscription.reopens").counters()).as("nothing broke, nothing reopened")
                    .allSatisfy(c -> assertThat(c.count()).isZero());
        }
    }

    @Test
    void aStallLongerThanTheStallLimitMakesReadyAnswer503WithTheReasonUntilTheIndexerMovesAgain() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()
                .with("CHANGEFLOW_SUBSCRIPTION_HANDLER_TIMEOUT", "1s")
                .with("CHANGEFLOW_SUBSCRIPTION_STALL_LIMIT", "2s")) {
            DiskTroubles disk = new DiskTroubles();
            h.startCapture();
            IndexerService indexer = h.startIndexer(new SimpleMeterRegistry(), disk::wrap);
            try (OpsEndpoint ops = OpsEndpoint.start(Settings.of(Map.of("CHANGEFLOW_HTTP_PORT", "0")),
                    OpsEndpoint.newRegistry(), () -> List.of(indexer))) {
                writeAMixOfChanges(h, 2, 10);
                h.awaitIndexEqualsDatabase(indexer, CONVERGES);

                // Commits hang for 8 s each, twice: far beyond the 2 s stall limit.
                disk.stallNextSyncs(2, 8_000);
                writeAMixOfChanges(h, 2, 10);

                await("/ready 503, stalled").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                        .until(() -> get(ops.uri().resolve("/ready")).statusCode() == 503);
                String body = get(ops.uri().resolve("/ready")).body();
                assertThat(body).contains("\"indexer\":\"STALLED\"")
                        // The partition stalled longest is the one timing out, or one waiting in the same lane.
                        .containsPattern("\"indexer\":\"" + h.group + ": stalled \\d+ s on " + h.world.id
                                + "\\.[a-z]+-changes-\\d+: (a handler call ran longer than the handler timeout|its "
                                + "records wait for a handler call that has not finished)\"");
                assertThat(get(ops.uri().resolve("/health")).statusCode()).as("alive all along").isEqualTo(200);

                h.awaitIndexEqualsDatabase(indexer, CONVERGES);
                await("/ready 200 again").atMost(Duration.ofSeconds(30))
                        .until(() -> get(ops.uri().resolve("/ready")).statusCode() == 200);
                assertThat(disk.interruptedWhileStalled).hasValue(0);
            }
        }
    }

    @Test
    void aWriterWhoseLockWasDeletedByAnExternalForceIsReopenedAndNothingIsLost() throws Exception {
        assertHealsAfter((h, disk) -> Files.delete(h.luceneDirectory().resolve("tasks").resolve("write.lock")));
    }

    @Test
    void aWriterBrokenByAnInterruptInsideItsIoIsReopenedAndNothingIsLost() throws Exception {
        assertHealsAfter((h, disk) -> disk.interruptNextFileCreation());
    }

    private void assertHealsAfter(Breakage breakage) throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()) {
            DiskTroubles disk = new DiskTroubles();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            h.startCapture();
            IndexerService indexer = h.startIndexer(meters, disk::wrap);
            writeAMixOfChanges(h, 3, 30);
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);

            breakage.breakIt(h, disk);
            writeAMixOfChanges(h, 3, 30);

            h.awaitIndexEqualsDatabase(indexer, CONVERGES);
            assertHealedWithoutRestart(h, indexer, disk);
            assertThat(meters.get("changeflow.subscription.reopens").tag("outcome", "reopened").counter().count())
                    .as("the index reopened by the indexer itself").isGreaterThanOrEqualTo(1.0);
        }
    }

    @FunctionalInterface
    private interface Breakage {
        void breakIt(IndexerHarness h, DiskTroubles disk) throws Exception;
    }

    @Test
    void anIndexThatCannotBeReopenedTurnsHealthTo503WithinTheStallLimit() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()) {
            h.startCapture();
            IndexerService indexer = h.startIndexer();
            var registry = OpsEndpoint.newRegistry();
            try (OpsEndpoint ops = OpsEndpoint.start(Settings.of(Map.of("CHANGEFLOW_HTTP_PORT", "0")), registry,
                    () -> List.of(indexer))) {
                writeAMixOfChanges(h, 2, 10);
                h.awaitIndexEqualsDatabase(indexer, CONVERGES);
                assertThat(get(ops.uri().resolve("/health")).statusCode()).isEqualTo(200);

                makeUnopenable(h.luceneDirectory().resolve("tasks"));
                long broken = System.nanoTime();
                writeAMixOfChanges(h, 2, 10);

                Duration stallLimit = dev.changeflow.router.subscription.SubscriptionSettings.STALL_LIMIT.defaultValue()
                        .orElseThrow();
                await("/health 503 within the stall limit").atMost(stallLimit).pollInterval(Duration.ofMillis(100))
                        .until(() -> get(ops.uri().resolve("/health")).statusCode() == 503);
                System.out.printf("/health turned 503 %.1f s after the index directory was replaced%n",
                        (System.nanoTime() - broken) / 1e9);
                HttpResponse<String> health = get(ops.uri().resolve("/health"));
                assertThat(health.body()).contains("\"indexer\":\"FAILED\"");
                assertThat(indexer.whenTerminated()).isCompletedExceptionally();
                assertThat(indexer.whenTerminated().handle((ok, e) -> e.getMessage()).join())
                        .contains("cannot reopen the search index");
                assertThat(h.deadLetters()).as("nothing dead-lettered").isZero();
            }
        }
    }

    @Test
    void theIndexerProcessExitsWith1WhenItsIndexCannotBeReopened() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()) {
            h.startCapture();
            Map<String, String> env = new HashMap<>(h.indexerEnvironment());
            env.put("CHANGEFLOW_HTTP_PORT", "0");
            Path stdout = dir.resolve("stdout.txt");
            Path stderr = dir.resolve("stderr.txt");
            Process process = MainProcess.start(IndexerMain.class, env, stdout, stderr);
            try {
                await("the process running its subscription").atMost(Duration.ofSeconds(60))
                        .until(() -> Files.readString(stdout).contains("Search indexer started"));
                writeAMixOfChanges(h, 2, 10);
                h.awaitCaughtUp(CONVERGES);

                makeUnopenable(h.luceneDirectory().resolve("tasks"));
                writeAMixOfChanges(h, 2, 10);

                // Before the fix in ServiceProcess, the JVM outlived a failed service: main returned without exiting.
                assertThat(process.waitFor(90, TimeUnit.SECONDS)).as("the process exited by itself; its output:\n%s",
                        Files.readString(stdout)).isTrue();
                assertThat(process.exitValue()).isEqualTo(1);
                assertThat(Files.readString(stderr, StandardCharsets.UTF_8))
                        .startsWith("changeflow indexer: indexer failed: ")
                        .contains("cannot reopen the search index");
                assertThat(h.deadLetters()).as("nothing dead-lettered").isZero();
            } finally {
                process.destroyForcibly();
            }
        }
    }

    @Test
    void underSustainedStarvationAndATinyHandlerTimeoutTheIndexerMakesSlowProgressAndConverges() throws Exception {
        try (IndexerHarness h = IndexerHarness.lucene()
                .with("CHANGEFLOW_SUBSCRIPTION_HANDLER_TIMEOUT", "50ms")
                .with("CHANGEFLOW_SUBSCRIPTION_STALL_LIMIT", "20s")) {
            DiskTroubles disk = new DiskTroubles();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            h.startCapture();
            IndexerService indexer = h.startIndexer(meters, disk::wrap);
            // Every commit takes 100 ms, twice the handler timeout, and every core is kept busy.
            disk.slowEverySync(100);
            try (CpuStarvation starving = CpuStarvation.onEveryCore()) {
                for (int round = 0; round < 4; round++) {
                    writeAMixOfChanges(h, 3, 25);
                }
                h.awaitIndexEqualsDatabase(indexer, Duration.ofSeconds(180));
            } finally {
                disk.slowEverySync(0);
            }
            assertHealedWithoutRestart(h, indexer, disk);
            assertThat(meters.get("changeflow.subscription.retries").tag("kind", "outage").counter().count())
                    .as("batches did overrun the timeout").isPositive();
        }
    }

    @Test
    void faultsTogetherABrokerRestartAStarvedMachineSlowCommitsAndABrokenWriterLeaveTheIndexEqualToTheDatabase()
            throws Exception {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path data = dir.resolve("kafka");
        dev.changeflow.stack.KafkaServer kafka = dev.changeflow.stack.KafkaServer.startPersistent(data, port);
        try (IndexerHarness h = IndexerHarness.lucene(kafka)
                .with("CHANGEFLOW_SUBSCRIPTION_HANDLER_TIMEOUT", "300ms")
                .with("CHANGEFLOW_SUBSCRIPTION_STALL_LIMIT", "60s")) {
            DiskTroubles disk = new DiskTroubles();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            h.startCapture();
            IndexerService indexer = h.startIndexer(meters, disk::wrap);
            writeAMixOfChanges(h, 3, 25);
            h.awaitIndexEqualsDatabase(indexer, CONVERGES);

            try (CpuStarvation starving = CpuStarvation.onEveryCore()) {
                // Slow commits (150 ms each, two stalled 2 s: beyond the 300 ms handler timeout), the broker away
                // while rows change, the writer's lock deleted meanwhile: all at once, on a starved machine.
                disk.slowEverySync(150);
                disk.stallNextSyncs(2, 2_000);
                writeAMixOfChanges(h, 3, 25);
                kafka.close();
                writeAMixOfChanges(h, 3, 25);
                Files.deleteIfExists(h.luceneDirectory().resolve("tasks").resolve("write.lock"));
                kafka = dev.changeflow.stack.KafkaServer.startPersistent(data, port);
                writeAMixOfChanges(h, 3, 25);
                h.awaitIndexEqualsDatabase(indexer, Duration.ofSeconds(180));
            } finally {
                disk.slowEverySync(0);
            }
            assertHealedWithoutRestart(h, indexer, disk);
            assertThat(meters.get("changeflow.subscription.reopens").tag("outcome", "reopened").counter().count())
                    .as("the broken writer reopened").isGreaterThanOrEqualTo(1.0);
        } finally {
            kafka.close();
        }
    }

    /**
     * Puts a file where the type's index directory was (moving the directory aside): the writer's next file fails,
     * and no new writer can be opened there. A read-only directory would not do as root, which ignores permissions.
     */
    private static void makeUnopenable(Path typeDirectory) throws Exception {
        Files.move(typeDirectory, typeDirectory.resolveSibling(typeDirectory.getFileName() + ".moved-aside"));
        Files.writeString(typeDirectory, "not a directory\n");
    }

    /**
     * The indexer healed by itself: it caught up, dead-lettered nothing, was never interrupted in a stalled commit,
     * still runs (no restart) and is ready again.
     */
    private static void assertHealedWithoutRestart(IndexerHarness h, IndexerService indexer, DiskTroubles disk)
            throws Exception {
        h.awaitCaughtUp(CONVERGES);
        assertThat(h.deadLetters()).as("nothing dead-lettered").isZero();
        assertThat(disk.interruptedWhileStalled).as("no stalled commit was interrupted").hasValue(0);
        assertThat(indexer.whenTerminated()).as("the same indexer, never restarted").isNotDone();
        await("ready, not stalled").atMost(Duration.ofSeconds(30)).until(indexer::isReady);
    }

    private static HttpResponse<String> get(URI uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
