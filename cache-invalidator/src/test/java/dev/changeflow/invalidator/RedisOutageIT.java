package dev.changeflow.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.stack.AppRows;
import dev.changeflow.stack.RedisServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ConnectException;
import java.net.Socket;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Redis goes away for about ten seconds while the application keeps writing; when it is back, every key those writes
 * made stale is gone, nothing went to a dead-letter topic and the group has caught up.
 *
 * <p>How the outage is made: this test starts a {@code redis-server} of its own ({@link OwnRedis}) and stops it with
 * {@link RedisServer#stop()}, which sends {@code SHUTDOWN SAVE}: the server writes its data to its RDB file and
 * exits, so its port refuses connections (checked below), exactly what clients see when a real Redis goes down.
 * {@link RedisServer#restart()} starts it again on the same port and it loads that file, as a Redis with persistence
 * would. That is what makes "seed before, check after" meaningful: keys of rows nobody touched must still be there
 * after the restart (checked first), so the keys that are gone were deleted by the invalidator, not lost with the
 * process. The invalidator sees refused connections, then commands rejected while disconnected: both are outages,
 * retried without limit.
 *
 * <p>The writes go on for about ten seconds on a scheduled executor (one every 2 ms), and the test waits for them
 * with Awaitility; meanwhile it checks that the invalidator is retrying an outage, not idle.
 */
class RedisOutageIT {
    private static final Logger LOG = LoggerFactory.getLogger(RedisOutageIT.class);
    private static final int BUSY_PROJECTS = 20;
    private static final int TASKS_PER_BUSY_PROJECT = 125;
    private static final int QUIET_PROJECTS = 5;
    private static final int TASKS_PER_QUIET_PROJECT = 20;
    private static final int WRITES = 5_000;
    /** One write every 2 ms: 5,000 writes take about ten seconds. */
    private static final long WRITE_PERIOD_MICROS = 2_000;

    @Test
    void changesWrittenWhileRedisIsDownAreAllInvalidatedOnceItIsBackWithoutDeadLetters() throws Exception {
        RedisServer redis = OwnRedis.start();
        try (InvalidatorHarness h = new InvalidatorHarness(redis)) {
            List<UUID> busyProjects = ids(BUSY_PROJECTS);
            List<UUID> quietProjects = ids(QUIET_PROJECTS);
            List<UUID> busyTasks = new ArrayList<>();
            List<UUID> quietTasks = new ArrayList<>();
            List<String> stale = new ArrayList<>(); // keys the writes during the outage make stale
            List<String> untouched = new ArrayList<>(); // keys no write during the outage touches
            for (UUID p : busyProjects) {
                stale.add(h.projectTasksKey(p));
                untouched.add(h.projectKey(p));
            }
            for (UUID p : quietProjects) {
                untouched.add(h.projectTasksKey(p));
                untouched.add(h.projectKey(p));
            }
            h.startCapture();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            h.startInvalidator(meters);

            // Create every row with its keys cached: the create events delete them, which shows they are handled.
            List<String> all = new ArrayList<>(stale);
            all.addAll(untouched);
            try (Connection c = h.sql()) {
                UUID organization = AppRows.organization(c);
                for (UUID p : busyProjects) {
                    busyTasks.addAll(createProject(h, c, organization, p, TASKS_PER_BUSY_PROJECT, all));
                }
                for (UUID p : quietProjects) {
                    quietTasks.addAll(createProject(h, c, organization, p, TASKS_PER_QUIET_PROJECT, all));
                }
            }
            busyTasks.forEach(t -> stale.add(h.taskKey(t)));
            quietTasks.forEach(t -> untouched.add(h.taskKey(t)));
            h.awaitGone(all, Duration.ofSeconds(60));
            h.seed(all);
            assertThat(h.existing(all)).hasSize(all.size());

            redis.stop();
            long downAt = System.nanoTime();
            assertThatThrownBy(() -> new Socket("127.0.0.1", redis.port()).close())
                    .as("Redis refuses connections while it is down").isInstanceOf(ConnectException.class);

            AtomicInteger written = new AtomicInteger();
            AtomicReference<Throwable> writeFailure = new AtomicReference<>();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            try (Connection c = h.sql()) {
                ScheduledFuture<?> writes = writer.scheduleAtFixedRate(
                        () -> writeNext(c, busyTasks, busyProjects, written, writeFailure), 0, WRITE_PERIOD_MICROS,
                        TimeUnit.MICROSECONDS);
                await("the invalidator retrying the outage").atMost(Duration.ofSeconds(30))
                        .until(() -> outageRetries(meters) > 0);
                await(WRITES + " writes while Redis is down").atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> written.get() >= WRITES || writeFailure.get() != null);
                writes.cancel(false);
                assertThat(writeFailure.get()).as("write failure").isNull();
                assertThat(h.lag().total()).as("changes waiting for Redis").isPositive();
            } finally {
                writer.shutdownNow();
            }

            redis.restart();
            long upAt = System.nanoTime();
            LOG.info("{} writes while Redis was down for {} ms", written.get(), (upAt - downAt) / 1_000_000);

            assertThat(h.existing(untouched)).as("keys of untouched rows survive the restart")
                    .hasSize(untouched.size());
            h.awaitGone(stale, Duration.ofSeconds(60));
            LOG.info("{} stale keys gone {} ms after Redis came back", stale.size(),
                    (System.nanoTime() - upAt) / 1_000_000);
            await("consumer group lag back to 0").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> h.lag().total(), lag -> lag == 0);
            LOG.info("Consumer group lag back to 0 {} ms after Redis came back",
                    (System.nanoTime() - upAt) / 1_000_000);
            assertThat(h.deadLetters()).as("records on the dead-letter topics").isZero();
            assertThat(h.existing(untouched)).as("keys of untouched rows").hasSize(untouched.size());
        } finally {
            redis.close();
        }
    }

    private static List<UUID> ids(int count) {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(UUID.randomUUID());
        }
        return ids;
    }

    /** Caches the keys of a project and its tasks-to-be, then creates them; returns the task ids. */
    private static List<UUID> createProject(InvalidatorHarness h, Connection c, UUID organization, UUID project,
            int tasks, List<String> allKeys) throws SQLException {
        List<UUID> ids = ids(tasks);
        List<String> keys = new ArrayList<>(List.of(h.projectKey(project), h.projectTasksKey(project)));
        ids.forEach(t -> keys.add(h.taskKey(t)));
        h.seed(keys);
        ids.forEach(t -> allKeys.add(h.taskKey(t)));
        AppRows.project(c, project, organization);
        AppRows.tasks(c, ids, project);
        return ids;
    }

    /** Write n: retitles busy task n (first pass), then moves it to the next busy project (second pass). */
    private static void writeNext(Connection c, List<UUID> tasks, List<UUID> projects, AtomicInteger written,
            AtomicReference<Throwable> failure) {
        int n = written.get();
        if (n >= WRITES || failure.get() != null) {
            return;
        }
        UUID task = tasks.get(n % tasks.size());
        try {
            if (n < tasks.size()) {
                AppRows.retitle(c, task, "during the outage " + n);
            } else {
                AppRows.move(c, task, projects.get((n / TASKS_PER_BUSY_PROJECT + 1) % projects.size()));
            }
            written.incrementAndGet();
        } catch (SQLException | RuntimeException e) {
            failure.set(e);
        }
    }

    private static double outageRetries(SimpleMeterRegistry meters) {
        return meters.find("changeflow.subscription.retries").tag("kind", "outage").counters().stream()
                .mapToDouble(Counter::count).sum();
    }
}
