package dev.changeflow.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./changeflow demo} as a new user runs it: through the launcher, as a process of its own, on a fresh
 * directory. The test writes through the demo's Postgres like any application and looks at Redis and search from the
 * outside; then Ctrl-C (SIGINT) must stop everything, and a second start must resume on the kept data.
 */
class DemoIT {
    private static final Path LAUNCHER = Path.of("..", "changeflow").toAbsolutePath().normalize();
    private static final Duration DEMO_RUN = Duration.ofSeconds(60);

    @TempDir
    Path work;

    /** A running demo and what it printed about where to look. */
    private record Demo(Process process, Path stdout, String jdbcUrl, URI redis, URI search, URI ops, String token) {
    }

    private Demo startDemo(Path dataDir, String run) throws Exception {
        Path stdout = work.resolve(run + "-stdout.txt");
        ProcessBuilder builder = new ProcessBuilder(LAUNCHER.toString(), "demo")
                .directory(work.toFile())
                .redirectOutput(stdout.toFile())
                .redirectError(work.resolve(run + "-stderr.txt").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("CHANGEFLOW_"));
        builder.environment().put("CHANGEFLOW_DEMO_DIR", dataDir.toString());
        // Free ports, so that the test never collides with anything on the machine; the demo prints them.
        builder.environment().put("CHANGEFLOW_DEMO_POSTGRES_PORT", "0");
        builder.environment().put("CHANGEFLOW_DEMO_KAFKA_PORT", "0");
        builder.environment().put("CHANGEFLOW_DEMO_REDIS_PORT", "0");
        builder.environment().put("CHANGEFLOW_HTTP_PORT", "0");
        builder.environment().put("CHANGEFLOW_INDEXER_HTTP_PORT", "0");
        builder.environment().put("CHANGEFLOW_JAVA_OPTS", "-Xmx768m");
        Process process = builder.start();
        try {
            await(run + ": the demo saying it runs").atMost(Duration.ofSeconds(120))
                    .until(() -> !process.isAlive() || Files.readString(stdout).contains("Try:"));
            String out = Files.readString(stdout);
            assertThat(process.isAlive()).as("demo alive; stdout:\n%s\nstderr:\n%s", out,
                    Files.readString(work.resolve(run + "-stderr.txt"))).isTrue();
            Matcher pg = find(out, "Postgres\\s+postgresql://(\\w+)@([\\w.]+):(\\d+)/(\\w+)");
            return new Demo(process, stdout,
                    "jdbc:postgresql://" + pg.group(2) + ":" + pg.group(3) + "/" + pg.group(4) + "?user=" + pg.group(1),
                    URI.create(find(out, "Redis\\s+(redis://\\S+)").group(1)),
                    URI.create(find(out, "Search\\s+(http://[^/\\s]+)").group(1)),
                    URI.create(find(out, "Health\\s+(http://[^/\\s]+)").group(1)),
                    find(out, "Admin token\\s+(\\S+)").group(1));
        } catch (Throwable e) {
            process.destroyForcibly();
            throw e;
        }
    }

    @Test
    void theDemoPropagatesChangesToCacheAndSearchStopsOnCtrlCAndResumesOnTheKeptData() throws Exception {
        Path dataDir = work.resolve("demo-data");
        HttpClient http = HttpClient.newHttpClient();
        long began = System.nanoTime();
        Demo demo = startDemo(dataDir, "first");
        UUID task = UUID.randomUUID();
        String word = "zeppelin" + Long.toHexString(System.nanoTime());
        String cacheKey = "task:" + task;
        RedisClient redisClient = RedisClient.create(demo.redis().toString());
        try (StatefulRedisConnection<String, String> redis = redisClient.connect();
                Connection db = DriverManager.getConnection(demo.jdbcUrl())) {
            // Written through the demo as an application would: a task of its own in one of the demo's projects.
            UUID project;
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT id FROM app.projects LIMIT 1")) {
                assertThat(rs.next()).as("the workload seeded projects").isTrue();
                project = rs.getObject(1, UUID.class);
            }
            sql(db, "INSERT INTO app.tasks (id, project_id, title) VALUES (?, ?, ?)", task, project, "Launch " + word);
            await("the new task found by search").atMost(Duration.ofSeconds(30))
                    .until(() -> search(http, demo, "title:" + word).contains(task.toString()));

            redis.sync().set(cacheKey, "{\"title\":\"stale\"}");
            sql(db, "UPDATE app.tasks SET title = ?, status = 'done' WHERE id = ?", "Landed " + word, task);
            await("the cached task invalidated").atMost(Duration.ofSeconds(30))
                    .until(() -> redis.sync().exists(cacheKey) == 0);
            await("search showing the new title").atMost(Duration.ofSeconds(30))
                    .until(() -> search(http, demo, "title:landed AND status:done").contains(task.toString()));

            // Let it run, with the workload writing, for about a minute in all.
            long left = DEMO_RUN.toNanos() - (System.nanoTime() - began);
            await("the demo running for a minute").pollDelay(Duration.ofNanos(Math.max(1, left)))
                    .atMost(DEMO_RUN.plusSeconds(10)).until(demo.process()::isAlive);
            assertThat(get(http, demo.ops().resolve("/ready")).statusCode()).isEqualTo(200);
            String metrics = get(http, demo.ops().resolve("/metrics")).body();
            assertThat(metrics).contains("changeflow_capture_commit_to_published_seconds_count",
                    "changeflow_invalidator_commit_to_invalidated_seconds_count",
                    "changeflow_indexer_commit_to_indexed_seconds_count");
            assertThat(Files.readString(demo.stdout()))
                    .as("the status board, a line every 10 s without a terminal")
                    .containsPattern("\\[demo 0:00:\\d\\d] written [1-9]\\d* \\| commit → Kafka [1-9]\\d* \\(p50 \\d+ ms")
                    .contains("dead letters 0");
        } finally {
            redisClient.shutdown();
        }

        stopWithCtrlC(demo, dataDir);

        // Started again on the same directory: the index and the slot were kept, and changes flow again.
        Demo again = startDemo(dataDir, "second");
        assertThat(again.token()).as("the admin token kept in the demo's directory").isEqualTo(demo.token());
        try (Connection db = DriverManager.getConnection(again.jdbcUrl())) {
            assertThat(search(http, again, "title:" + word)).as("the index kept").contains(task.toString());
            sql(db, "UPDATE app.tasks SET title = ? WHERE id = ?", "Resumed " + word, task);
            await("a change after the restart reaching search").atMost(Duration.ofSeconds(30))
                    .until(() -> search(http, again, "title:resumed").contains(task.toString()));
        }
        stopWithCtrlC(again, dataDir);
    }

    /** SIGINT, as Ctrl-C sends it: the demo must exit within 10 s and leave no process of its own behind. */
    private void stopWithCtrlC(Demo demo, Path dataDir) throws Exception {
        List<ProcessHandle> family = new ArrayList<>(demo.process().descendants().toList());
        // Postgres is started through pg_ctl and is not the JVM's child: find it by its data directory.
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(dataDir.toString())).orElse(false))
                .forEach(family::add);
        assertThat(family).as("the demo's server processes were found")
                .anySatisfy(p -> assertThat(p.info().commandLine().orElse("")).contains("postgres"));
        // Redis by the PID the demo recorded, never by its binary's name: Debian's redis-server is a symlink to
        // redis-check-rdb, so that is the name its command line shows.
        long redisPid = Long.parseLong(Files.readAllLines(dataDir.resolve("redis").resolve("redis.pid")).get(0).trim());
        assertThat(family).as("the demo's Redis (pid %d) is one of its processes", redisPid)
                .anySatisfy(p -> assertThat(p.pid()).isEqualTo(redisPid));

        long sent = System.nanoTime();
        new ProcessBuilder("kill", "-INT", Long.toString(demo.process().pid())).start().waitFor();

        assertThat(demo.process().waitFor(10, TimeUnit.SECONDS)).as("exited within 10 s of SIGINT; stdout:\n%s",
                Files.readString(demo.stdout())).isTrue();
        assertThat(demo.process().exitValue()).as("exit status after SIGINT").isEqualTo(130);
        assertThat(Files.readString(demo.stdout())).contains("Changeflow demo: stopped in");
        await("no process of the demo left").atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(family).noneMatch(ProcessHandle::isAlive));
        System.out.printf("demo stopped %.1f s after SIGINT%n", (System.nanoTime() - sent) / 1e9);
    }

    private static void sql(Connection db, String sql, Object... args) throws Exception {
        try (PreparedStatement s = db.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            assertThat(s.executeUpdate()).isEqualTo(1);
        }
    }

    private static String search(HttpClient http, Demo demo, String query) throws Exception {
        URI uri = demo.search().resolve("/search/tasks?q=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + demo.token())
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static HttpResponse<String> get(HttpClient http, URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Matcher find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("output has %s:\n%s", regex, text).isTrue();
        return m;
    }
}
