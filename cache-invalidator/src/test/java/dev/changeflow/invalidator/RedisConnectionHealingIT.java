package dev.changeflow.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.invalidator.internal.RedisConnector;
import dev.changeflow.stack.AppRows;
import dev.changeflow.stack.RedisServer;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.SocketAddress;
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
 * The invalidator's Redis connection breaks while changes flow, in the two ways it can, and it heals without losing
 * an invalidation or dead-lettering anything.
 *
 * <p>Killed by the server ({@code CLIENT KILL}, as an operator, a restart or a proxy would): Lettuce reconnects the
 * same connection object by itself, the failures meanwhile are outages retried without limit, and the subscription
 * reopens nothing. Closed by the process itself (as a bug in our own code would): Lettuce never reconnects a closed
 * connection, so the failure is classified broken and the subscription has the {@link RedisConnector} open a new
 * connection on the same client, counted as {@code changeflow.subscription.reopens{outcome=reopened}}.
 *
 * <p>Every change touches a task of its own in a project of its own, and the test caches the keys a change makes
 * stale just before making it, after the rows' create events were handled: so a key that is gone at the end was
 * deleted by the invalidation of that very change, and a key still there is an invalidation lost. Keys of project
 * rows nobody changes are cached too and must survive.
 */
class RedisConnectionHealingIT {
    private static final Logger LOG = LoggerFactory.getLogger(RedisConnectionHealingIT.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int CHANGES = 300;
    /** One change every 10 ms: 300 changes take about three seconds. */
    private static final long CHANGE_PERIOD_MILLIS = 10;
    private static final int KILLS = 5;
    /** A kill every 30 changes, so about 300 ms apart, the first after 300 ms and the last 1.5 s before the end. */
    private static final int CHANGES_BETWEEN_KILLS = 30;

    @Test
    void aConnectionKilledByTheServerIsReopenedAndNoInvalidationIsLost() throws Exception {
        // CLIENT KILL TYPE normal would also drop the connections of the other tests on the shared Redis.
        RedisServer redis = OwnRedis.start();
        try (InvalidatorHarness h = new InvalidatorHarness(redis)) {
            h.startCapture();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            InvalidatorService invalidator = h.startInvalidator(meters);
            RedisConnector connector = invalidator.redisConnector();
            StatefulRedisConnection<String, String> connection = connector.connection();
            Reconnections reconnections = new Reconnections();
            connection.addListener(reconnections);
            long clientIdBefore = connection.sync().clientId();

            List<Row> rows = createRows(h, CHANGES);
            List<String> untouched = rows.stream().map(r -> h.projectKey(r.project())).toList();
            h.seed(untouched);

            AtomicInteger changed = new AtomicInteger();
            AtomicReference<Throwable> changeFailure = new AtomicReference<>();
            List<Long> killed = new ArrayList<>();
            ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
            long startedAt = System.nanoTime();
            try (Connection c = h.sql()) {
                ScheduledFuture<?> changes = writer.scheduleAtFixedRate(
                        () -> changeNext(h, c, rows, changed, changeFailure), 0, CHANGE_PERIOD_MILLIS,
                        TimeUnit.MILLISECONDS);
                for (int k = 1; k <= KILLS; k++) {
                    int after = k * CHANGES_BETWEEN_KILLS;
                    await("change " + after + ", with the invalidator connected").atMost(TIMEOUT)
                            .pollInterval(Duration.ofMillis(5))
                            .until(() -> changeFailure.get() != null
                                    || changed.get() >= after && connector.connection().isOpen());
                    assertThat(changeFailure.get()).as("change failure").isNull();
                    // SKIPME yes: the test's own connection, which issues the kill, survives it.
                    killed.add(h.redis().clientKill(KillArgs.Builder.typeNormal().skipme(true)));
                    LOG.info("CLIENT KILL {} after change {}", k, changed.get());
                }
                await(CHANGES + " changes").atMost(TIMEOUT).pollInterval(Duration.ofMillis(50))
                        .until(() -> changed.get() >= CHANGES || changeFailure.get() != null);
                changes.cancel(false);
                assertThat(changeFailure.get()).as("change failure").isNull();
            } finally {
                writer.shutdownNow();
            }
            LOG.info("{} changes in {} ms, {} kills", changed.get(), (System.nanoTime() - startedAt) / 1_000_000,
                    KILLS);
            assertThat(killed).as("clients killed by each CLIENT KILL: the invalidator's connection")
                    .hasSize(KILLS).containsOnly(1L);

            List<String> stale = new ArrayList<>();
            rows.forEach(r -> stale.addAll(r.staleKeys(h)));
            h.awaitGone(stale, TIMEOUT);
            LOG.info("{} stale keys gone {} ms after the first change", stale.size(),
                    (System.nanoTime() - startedAt) / 1_000_000);
            await("consumer group lag back to 0").atMost(TIMEOUT).pollInterval(Duration.ofMillis(200))
                    .until(() -> h.lag().total(), lag -> lag == 0);
            assertThat(h.deadLetters()).as("records on the dead-letter topics").isZero();
            assertThat(h.existing(untouched)).as("keys of rows no change touched").hasSize(untouched.size());

            assertThat(connector.connection()).as("the connection Lettuce reconnected by itself")
                    .isSameAs(connection);
            assertThat(connection.sync().clientId()).as("the server's id of the invalidator's client")
                    .isNotEqualTo(clientIdBefore);
            assertThat(reopens(meters, "reopened") + reopens(meters, "failed")).as("reopens").isZero();
            LOG.info("Lettuce saw {} disconnects and {} reconnects; {} handler calls failed as outages and were "
                    + "retried", reconnections.disconnects.get(), reconnections.connects.get(),
                    retries(meters, "outage"));
            assertThat(retries(meters, "failure")).as("handler calls retried as faults").isZero();
        } finally {
            redis.close();
        }
    }

    @Test
    void aConnectionClosedByTheProcessItselfIsReopenedByTheInvalidator() throws Exception {
        try (InvalidatorHarness h = new InvalidatorHarness()) {
            h.startCapture();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            InvalidatorService invalidator = h.startInvalidator(meters);
            RedisConnector connector = invalidator.redisConnector();
            List<Row> rows = createRows(h, 20);

            StatefulRedisConnection<String, String> closed = connector.connection();
            closed.close();
            assertThat(closed.isOpen()).as("the connection closed by the process").isFalse();

            try (Connection c = h.sql()) {
                for (Row r : rows) {
                    h.seed(r.staleKeys(h));
                    assertThat(AppRows.retitle(c, r.task(), "after the close")).isEqualTo(1);
                }
            }

            List<String> stale = new ArrayList<>();
            rows.forEach(r -> stale.addAll(r.staleKeys(h)));
            h.awaitGone(stale, TIMEOUT);
            assertThat(connector.connection()).as("the connection in use").isNotSameAs(closed);
            assertThat(connector.connection().isOpen()).as("the new connection is open").isTrue();
            assertThat(closed.isOpen()).as("the closed connection stays closed").isFalse();
            assertThat(reopens(meters, "reopened")).as("reopens").isGreaterThanOrEqualTo(1);
            assertThat(reopens(meters, "failed")).as("failed reopens").isZero();
            await("consumer group lag back to 0").atMost(TIMEOUT).pollInterval(Duration.ofMillis(200))
                    .until(() -> h.lag().total(), lag -> lag == 0);
            assertThat(h.deadLetters()).as("records on the dead-letter topics").isZero();
        }
    }

    /** A project and its one task. */
    private record Row(UUID project, UUID task) {
        /** The keys a change of the task makes stale. */
        List<String> staleKeys(InvalidatorHarness h) {
            return List.of(h.taskKey(task), h.projectTasksKey(project));
        }

        List<String> allKeys(InvalidatorHarness h) {
            return List.of(h.taskKey(task), h.projectTasksKey(project), h.projectKey(project));
        }
    }

    /**
     * Creates {@code count} projects with one task each, with their keys cached, and waits until the create events
     * deleted them: from then on, no event but those of later changes touches these keys.
     */
    private static List<Row> createRows(InvalidatorHarness h, int count) throws SQLException {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            rows.add(new Row(UUID.randomUUID(), UUID.randomUUID()));
        }
        List<String> keys = new ArrayList<>();
        rows.forEach(r -> keys.addAll(r.allKeys(h)));
        h.seed(keys);
        try (Connection c = h.sql()) {
            UUID organization = AppRows.organization(c);
            for (Row r : rows) {
                AppRows.project(c, r.project(), organization);
                AppRows.task(c, r.task(), r.project(), "created");
            }
        }
        h.awaitGone(keys, TIMEOUT);
        return rows;
    }

    /** Change n: caches the keys that retitling task n makes stale, then retitles it. */
    private static void changeNext(InvalidatorHarness h, Connection c, List<Row> rows, AtomicInteger changed,
            AtomicReference<Throwable> failure) {
        int n = changed.get();
        if (n >= rows.size() || failure.get() != null) {
            return;
        }
        Row row = rows.get(n);
        try {
            h.seed(row.staleKeys(h));
            if (AppRows.retitle(c, row.task(), "change " + n) != 1) {
                throw new IllegalStateException("task " + row.task() + " not found");
            }
            changed.incrementAndGet();
        } catch (SQLException | RuntimeException e) {
            failure.set(e);
        }
    }

    private static double reopens(SimpleMeterRegistry meters, String outcome) {
        return meters.find("changeflow.subscription.reopens").tag("outcome", outcome).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private static double retries(SimpleMeterRegistry meters, String kind) {
        return meters.find("changeflow.subscription.retries").tag("kind", kind).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    /** Counts what Lettuce reports of the invalidator's connection, for the log. */
    private static final class Reconnections implements RedisConnectionStateListener {
        final AtomicInteger connects = new AtomicInteger();
        final AtomicInteger disconnects = new AtomicInteger();

        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
            connects.incrementAndGet();
        }

        @Override
        public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
            disconnects.incrementAndGet();
        }
    }
}
