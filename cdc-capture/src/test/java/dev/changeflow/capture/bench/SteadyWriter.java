package dev.changeflow.capture.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One writer thread committing single-row transactions (autocommit) at a fixed rate: alternately an INSERT of a new
 * task and an UPDATE of a random existing one. {@code scheduleAtFixedRate} runs late ticks back to back, so the
 * average rate holds even when one commit is slow.
 */
final class SteadyWriter implements AutoCloseable {
    private final Connection connection;
    private final PreparedStatement insert;
    private final PreparedStatement update;
    private final List<UUID> projects;
    private final List<UUID> tasks;
    private final SplittableRandom random = new SplittableRandom(42);
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-steady-writer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    final AtomicLong commits = new AtomicLong();
    final AtomicLong inserts = new AtomicLong();
    final AtomicLong updates = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    private volatile long measureFromMillis = Long.MAX_VALUE;
    private volatile long measureToMillis = Long.MAX_VALUE;
    final AtomicLong measuredCommits = new AtomicLong();
    private ScheduledFuture<?> future;
    private long tick;

    SteadyWriter(BenchWorld world) throws Exception {
        connection = world.sql();
        connection.setAutoCommit(true);
        insert = connection.prepareStatement("INSERT INTO app.tasks (id, project_id, title, description, priority, "
                + "due_date) VALUES (?, ?, ?, ?, 3, DATE '2026-12-24')");
        update = connection.prepareStatement("UPDATE app.tasks SET status = ?, updated_at = now() WHERE id = ?");
        projects = world.projects;
        tasks = new ArrayList<>(world.seedTasks);
    }

    void start(int ratePerSecond) {
        long periodNanos = 1_000_000_000L / ratePerSecond;
        future = scheduler.scheduleAtFixedRate(this::commitOne, 0, periodNanos, TimeUnit.NANOSECONDS);
    }

    /** Commits that complete within [from, to) (wall clock, ms) are counted as measured. */
    void measureWindow(long fromMillis, long toMillis) {
        measureFromMillis = fromMillis;
        measureToMillis = toMillis;
    }

    private void commitOne() {
        try {
            if (tick++ % 2 == 0) {
                UUID id = UUID.randomUUID();
                insert.setObject(1, id);
                insert.setObject(2, projects.get(random.nextInt(projects.size())));
                insert.setString(3, "steady task " + tick);
                insert.setString(4, "written at a steady rate by the latency benchmark");
                insert.executeUpdate();
                tasks.add(id);
                inserts.incrementAndGet();
            } else {
                update.setString(1, STATUSES[random.nextInt(STATUSES.length)]);
                update.setObject(2, tasks.get(random.nextInt(tasks.size())));
                update.executeUpdate();
                updates.incrementAndGet();
            }
            commits.incrementAndGet();
            long now = System.currentTimeMillis();
            if (now >= measureFromMillis && now < measureToMillis) {
                measuredCommits.incrementAndGet();
            }
        } catch (Exception e) {
            errors.incrementAndGet();
            failure.compareAndSet(null, e);
        }
    }

    private static final String[] STATUSES = {"todo", "in_progress", "blocked", "done", "cancelled"};

    Throwable failure() {
        return failure.get();
    }

    /** Stops the schedule and waits for a running commit to finish. */
    void stop() throws InterruptedException {
        if (future != null) {
            future.cancel(false);
        }
        scheduler.shutdown();
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        stop();
        connection.close();
    }
}
