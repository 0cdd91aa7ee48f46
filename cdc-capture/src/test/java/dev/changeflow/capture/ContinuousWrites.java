package dev.changeflow.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.capture.CaptureHarness.Received;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;

/**
 * An application writing all the time: every 2 ms it inserts a task or retitles one (each title unique), and
 * remembers every committed change as {@code "<task id>|<title>"}, to be found again among the captured events.
 */
final class ContinuousWrites implements AutoCloseable {
    private final Connection connection;
    private final UUID project;
    private final List<UUID> tasks = new CopyOnWriteArrayList<>();
    private final Set<String> committed = ConcurrentHashMap.newKeySet();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();

    /** Creates the project the tasks belong to; call {@link #start()} once capture streams. */
    ContinuousWrites(Connection connection, String name) throws Exception {
        this.connection = connection;
        this.project = Rows.project(connection, Rows.organization(connection, name), name);
    }

    void start() {
        writer.scheduleAtFixedRate(this::writeOne, 0, 2, TimeUnit.MILLISECONDS);
    }

    /** Stops writing and waits for the write in progress; fails if any write failed. */
    void stop() throws InterruptedException {
        writer.shutdown();
        assertThat(writer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(failure.get()).as("a write failed").isNull();
    }

    /** Every change committed so far. */
    Set<String> committed() {
        return Set.copyOf(committed);
    }

    int count() {
        return committed.size();
    }

    /** The committed task changes among {@code events}, in the form of {@link #committed()}. */
    static Set<String> seen(List<Received> events) {
        return events.stream().filter(r -> r.event().table().equals("tasks") && r.event().after() != null)
                .map(r -> r.event().after().get("id") + "|" + r.event().after().get("title"))
                .collect(Collectors.toSet());
    }

    /**
     * Waits until every change in {@code committed} was received from {@code h}'s topics, and fails naming what is
     * missing otherwise.
     *
     * @return everything received
     */
    static List<Received> awaitAllDelivered(CaptureHarness h, Set<String> committed, Duration timeout) {
        try {
            return h.awaitEvents(events -> seen(events).containsAll(committed), timeout);
        } catch (ConditionTimeoutException e) {
            Set<String> missing = new HashSet<>(committed);
            missing.removeAll(seen(h.awaitCount(0, Duration.ofSeconds(5))));
            throw new AssertionError(missing.size() + " of " + committed.size() + " committed changes missing, e.g. "
                    + missing.stream().limit(5).toList(), e);
        }
    }

    /** Asserts that no eventId occurs twice in {@code received}. */
    static void assertEachEventOnce(List<Received> received) {
        Map<String, Long> copies = received.stream().collect(Collectors.groupingBy(r -> r.event().eventId(),
                Collectors.counting()));
        assertThat(copies.entrySet()).as("eventIds received more than once").filteredOn(e -> e.getValue() > 1)
                .isEmpty();
    }

    private void writeOne() {
        try {
            if (tasks.size() < 50 || ThreadLocalRandom.current().nextInt(4) == 0) {
                String title = "v0";
                UUID task = Rows.task(connection, project, title, null);
                tasks.add(task);
                committed.add(task + "|" + title);
            } else {
                UUID task = tasks.get(ThreadLocalRandom.current().nextInt(tasks.size()));
                String title = "v" + UUID.randomUUID();
                Rows.execute(connection, "UPDATE app.tasks SET title = ? WHERE id = ?", title, task);
                committed.add(task + "|" + title);
            }
        } catch (Exception e) {
            failure.compareAndSet(null, e);
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        writer.shutdownNow();
    }
}
