package dev.changeflow.cli.internal.demo;

import io.lettuce.core.RedisClient;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's application: writes realistic changes to {@code app.tasks} and {@code app.projects} with plain SQL (it
 * knows nothing of Changeflow), and caches what it reads in Redis the cache-aside way, under the keys the default
 * invalidation rules name ({@code task:{id}}, {@code project:{id}:tasks}, {@code project:{id}}). Changeflow must keep
 * that cache and the search index right by itself.
 *
 * <p>On first start it creates an organization with a few projects and tasks; on later starts it continues with the
 * rows it finds. One change per tick at the configured rate, each in its own transaction, on one thread.
 */
final class Workload implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Workload.class);
    static final String WRITES = "changeflow.demo.writes";

    private static final String[] PROJECTS = {"Apollo", "Artemis", "Borealis", "Cassini", "Discovery", "Europa",
        "Gemini", "Hubble", "Juno", "Kepler", "Mercury", "Orion"};
    private static final String[] VERBS = {"Fix", "Write", "Review", "Design", "Migrate", "Document", "Test",
        "Refactor", "Benchmark", "Deploy", "Investigate", "Automate"};
    private static final String[] THINGS = {"login redirect", "billing export", "onboarding emails", "search ranking",
        "invoice PDF", "password reset", "audit log", "rate limiter", "mobile push", "dashboard filters",
        "CSV import", "webhook retries", "dark mode", "SSO with Okta", "release notes", "backup restore"};
    private static final String[] PEOPLE = {"ada", "grace", "linus", "margaret", "ken", "barbara", "dennis", "radia"};
    private static final String[] STATUSES = {"todo", "in_progress", "blocked", "done", "cancelled"};

    private final String jdbcUrl;
    private final String user;
    private final URI redisUrl;
    private final int rate;
    private final Counter writes;
    private final Random random = new Random();
    private final List<UUID> projects = new ArrayList<>();
    private final List<UUID> tasks = new ArrayList<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "changeflow-demo-workload");
        t.setDaemon(true);
        return t;
    });
    private UUID organization;
    private Connection connection;
    private RedisClient redisClient;
    private StatefulRedisConnection<String, String> redis;

    Workload(String jdbcUrl, String user, URI redisUrl, int rate, MeterRegistry registry) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.redisUrl = redisUrl;
        this.rate = rate;
        this.writes = Counter.builder(WRITES).description("Row changes the demo's workload committed")
                .register(registry);
    }

    /** Seeds the data set if the database is empty, then writes {@code rate} changes per second in the background. */
    void start() throws SQLException {
        connection = java.sql.DriverManager.getConnection(jdbcUrl, user, null);
        connection.setAutoCommit(true);
        loadOrSeed();
        redisClient = RedisClient.create(redisUrl.toString());
        redis = redisClient.connect();
        if (rate > 0) {
            ticker.scheduleAtFixedRate(this::tick, 0, 1_000_000L / rate, TimeUnit.MICROSECONDS);
        }
    }

    /** How many projects and tasks the workload knows (for the startup banner). */
    String describe() {
        return projects.size() + " projects, " + tasks.size() + " tasks";
    }

    private void loadOrSeed() throws SQLException {
        try (Statement s = connection.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT id FROM app.organizations ORDER BY created_at LIMIT 1")) {
                organization = rs.next() ? rs.getObject(1, UUID.class) : null;
            }
            if (organization != null) {
                try (ResultSet rs = s.executeQuery("SELECT id FROM app.projects")) {
                    while (rs.next()) {
                        projects.add(rs.getObject(1, UUID.class));
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT id FROM app.tasks")) {
                    while (rs.next()) {
                        tasks.add(rs.getObject(1, UUID.class));
                    }
                }
                return;
            }
        }
        organization = UUID.randomUUID();
        execute("INSERT INTO app.organizations (id, name) VALUES (?, ?)", organization, "Acme Space Agency");
        for (int p = 0; p < 6; p++) {
            createProject();
        }
        for (int t = 0; t < 120; t++) {
            createTask();
        }
    }

    private void tick() {
        try {
            int dice = random.nextInt(100);
            if (tasks.size() < 20 || dice < 12) {
                createTask();
            } else if (dice < 42) {
                execute("UPDATE app.tasks SET status = ?, updated_at = now() WHERE id = ?", pick(STATUSES), anyTask());
            } else if (dice < 60) {
                execute("UPDATE app.tasks SET title = ?, description = ?, updated_at = now() WHERE id = ?", title(),
                        "Updated at " + java.time.LocalTime.now().withNano(0), anyTask());
            } else if (dice < 70) {
                execute("UPDATE app.tasks SET assignee = ?, priority = ?, updated_at = now() WHERE id = ?",
                        pick(PEOPLE), 1 + random.nextInt(5), anyTask());
            } else if (dice < 78) {
                execute("UPDATE app.tasks SET project_id = ?, updated_at = now() WHERE id = ?", anyProject(),
                        anyTask());
            } else if (dice < 86) {
                UUID task = tasks.remove(random.nextInt(tasks.size()));
                execute("DELETE FROM app.tasks WHERE id = ?", task);
            } else if (dice < 92) {
                execute("UPDATE app.projects SET name = ?, updated_at = now() WHERE id = ?",
                        pick(PROJECTS) + " " + (2 + random.nextInt(8)), anyProject());
            } else if (projects.size() < PROJECTS.length) {
                createProject();
            } else {
                execute("UPDATE app.tasks SET due_date = ?, updated_at = now() WHERE id = ?",
                        LocalDate.now().plusDays(random.nextInt(60)), anyTask());
            }
            cacheSomeReads();
        } catch (SQLException | RuntimeException e) {
            // Stopping servers at shutdown, or a row a concurrent user deleted: the demo goes on.
            LOG.debug("Workload change failed: {}", e.toString());
            reconnectIfClosed();
        }
    }

    /** Cache-aside reads, as the application would do them: what the invalidator must delete on the next change. */
    private void cacheSomeReads() {
        RedisCommands<String, String> cache = redis.sync();
        SetArgs hour = SetArgs.Builder.ex(3600);
        cache.set("task:" + anyTask(), "{\"cached\":true}", hour);
        UUID project = anyProject();
        cache.set("project:" + project, "{\"cached\":true}", hour);
        cache.set("project:" + project + ":tasks", "[]", hour);
    }

    private void createProject() throws SQLException {
        UUID id = UUID.randomUUID();
        execute("INSERT INTO app.projects (id, organization_id, name) VALUES (?, ?, ?)", id, organization,
                PROJECTS[projects.size() % PROJECTS.length]);
        projects.add(id);
    }

    private void createTask() throws SQLException {
        UUID id = UUID.randomUUID();
        execute("INSERT INTO app.tasks (id, project_id, title, description, status, priority, assignee, due_date) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", id, anyProject(), title(),
                "As a user I want the " + pick(THINGS) + " to just work.", pick(STATUSES), 1 + random.nextInt(5),
                pick(PEOPLE), LocalDate.now().plusDays(random.nextInt(30)));
        tasks.add(id);
    }

    private String title() {
        return pick(VERBS) + " " + pick(THINGS);
    }

    private UUID anyTask() {
        return tasks.get(random.nextInt(tasks.size()));
    }

    private UUID anyProject() {
        return projects.get(random.nextInt(projects.size()));
    }

    private String pick(String[] values) {
        return values[random.nextInt(values.length)];
    }

    private void execute(String sql, Object... args) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            s.executeUpdate();
        }
        writes.increment();
    }

    private void reconnectIfClosed() {
        try {
            if (connection.isClosed() || !connection.isValid(1)) {
                connection = java.sql.DriverManager.getConnection(jdbcUrl, user, null);
            }
        } catch (SQLException e) {
            LOG.debug("Workload cannot reconnect yet: {}", e.toString());
        }
    }

    /** Stops writing; the transaction in hand finishes first. */
    @Override
    public void close() {
        ticker.shutdown();
        try {
            ticker.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException e) {
            LOG.debug("Closing the workload's connection: {}", e.toString());
        }
        if (redis != null) {
            redis.close();
        }
        if (redisClient != null) {
            redisClient.shutdown(0, 1, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "workload at %d changes/s", rate);
    }
}
