package dev.changeflow.cli.internal.demo;

import dev.changeflow.capture.CaptureService;
import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Mode;
import dev.changeflow.config.Settings;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.indexer.IndexerService;
import dev.changeflow.indexer.IndexerSettings;
import dev.changeflow.invalidator.InvalidatorService;
import dev.changeflow.router.service.ChangeflowService;
import dev.changeflow.router.service.OpsEndpoint;
import dev.changeflow.router.service.OpsSettings;
import dev.changeflow.stack.KafkaServer;
import dev.changeflow.stack.PostgresServer;
import dev.changeflow.stack.RedisServer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole pipeline in one process, on servers started here: Postgres (migrated by Flyway), a Kafka broker and Redis,
 * with data kept under {@link DemoSettings#DIR}; capture, the cache invalidator and the search indexer (Lucene); the
 * operations endpoint; a workload that writes like an application; and a status board.
 *
 * <p>Lifecycle: {@link #start} brings everything up in that order (servers in parallel) and returns; {@link #close}
 * stops it in reverse, the services together and then the servers together, and leaves no process behind. The data
 * directory is kept: starting again resumes where it stopped (the replication slot, Kafka offsets and the index
 * survive).
 */
public final class Demo implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);
    /** The demo's database on its Postgres. */
    static final String DATABASE = "changeflow";

    private final Path dir;
    private final PrintStream out;
    private final List<AutoCloseable> servers = Collections.synchronizedList(new ArrayList<>());
    private final List<ChangeflowService> services = new ArrayList<>();
    private final CompletableFuture<String> failure = new CompletableFuture<>();
    private OpsEndpoint ops;
    private Workload workload;
    private StatusBoard board;

    private Demo(Path dir, PrintStream out) {
        this.dir = dir;
        this.out = out;
    }

    /**
     * Starts everything and prints where to look.
     *
     * @throws dev.changeflow.config.ConfigException naming the setting at fault, such as a port that is taken;
     *     whatever had started is stopped again
     */
    public static Demo start(Settings settings, PrintStream out, boolean terminal) {
        DemoSettings.ALL.forEach(settings::find);
        Path dir = Path.of(settings.get(DemoSettings.DIR)).toAbsolutePath().normalize();
        Demo demo = new Demo(dir, out);
        try {
            demo.startAll(settings, terminal);
            return demo;
        } catch (RuntimeException e) {
            demo.close();
            throw e;
        }
    }

    /** Completes with a message if a service stops on an error it cannot retry. */
    public CompletableFuture<String> whenFailed() {
        return failure;
    }

    private void startAll(Settings settings, boolean terminal) {
        out.println("Changeflow demo: starting Postgres, Kafka and Redis (data in " + dir + ")");
        createDirectory(dir);
        CompletableFuture<PostgresServer> postgres = startServer(() -> PostgresServer.startPersistent(
                dir.resolve("postgres"), settings.get(DemoSettings.POSTGRES_PORT)));
        CompletableFuture<KafkaServer> kafka = startServer(() -> KafkaServer.startPersistent(dir.resolve("kafka"),
                settings.get(DemoSettings.KAFKA_PORT)));
        CompletableFuture<RedisServer> redis = startServer(() -> RedisServer.startLocal(dir.resolve("redis"),
                settings.get(DemoSettings.REDIS_PORT)));
        // Wait for all three before looking at any, so that a failure never leaves one starting unseen.
        CompletableFuture.allOf(postgres, kafka, redis).exceptionally(error -> null).join();
        PostgresServer pg = join(postgres);
        KafkaServer broker = join(kafka);
        RedisServer cache = join(redis);
        migrate(pg);

        Settings demoSettings = settings.with(Map.of(
                ConnectionSettings.POSTGRES_URL.key(), pg.jdbcUrl(DATABASE),
                ConnectionSettings.POSTGRES_USER.key(), pg.user(),
                ConnectionSettings.KAFKA_BOOTSTRAP.key(), broker.bootstrapServers(),
                ConnectionSettings.REDIS_URL.key(), cache.uri().toString(),
                Mode.SETTING.key(), "dev",
                CaptureSettings.REPLICATION_FACTOR.key(), "1",
                CaptureSettings.MIN_INSYNC_REPLICAS.key(), "1",
                IndexerSettings.ENGINE.key(), "lucene",
                IndexerSettings.LUCENE_DIRECTORY.key(), dir.resolve("search-index").toString(),
                OpsSettings.HTTP_HOST.key(), "127.0.0.1"));
        PrometheusMeterRegistry registry = OpsEndpoint.newRegistry(recentPercentiles());
        CaptureService capture = CaptureService.create(demoSettings, registry);
        IndexerService indexer = IndexerService.create(demoSettings, registry);
        InvalidatorService invalidator = InvalidatorService.create(demoSettings, registry);
        ops = OpsEndpoint.start(demoSettings, registry, () -> List.copyOf(services));
        out.println("Changeflow demo: starting capture, the cache invalidator and the search indexer");
        for (ChangeflowService service : List.of(capture, indexer, invalidator)) {
            services.add(service);
            service.start();
            service.whenTerminated().whenComplete((ok, error) -> {
                if (error != null) {
                    failure.complete(service.name() + " failed: " + error.getMessage());
                }
            });
        }
        int rate = demoSettings.get(DemoSettings.RATE);
        workload = new Workload(pg.jdbcUrl(DATABASE), pg.user(), cache.uri(), rate, registry);
        try {
            workload.start();
        } catch (SQLException e) {
            throw new IllegalStateException("The demo's workload cannot write to Postgres: " + e.getMessage(), e);
        }
        printWhereToLook(pg, broker, cache, indexer, rate);
        board = new StatusBoard(registry, out, terminal, demoSettings.get(DemoSettings.REFRESH),
                invalidator.group(), indexer.group());
        board.start();
    }

    private void printWhereToLook(PostgresServer pg, KafkaServer broker, RedisServer cache, IndexerService indexer,
            int rate) {
        String search = indexer.searchUri().toString();
        String postgresUrl = "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/" + DATABASE;
        out.println();
        out.println("Changeflow demo is running: the workload writes " + rate + " changes/s (" + workload.describe()
                + ").");
        out.println("  Postgres    " + postgresUrl);
        out.println("  Kafka       " + broker.bootstrapServers() + "   topics cdc.tasks-changes, cdc.projects-changes");
        out.println("  Redis       redis://" + cache.host() + ":" + cache.port());
        out.println("  Health      " + ops.uri() + "/health   " + ops.uri() + "/ready");
        out.println("  Metrics     " + ops.uri() + "/metrics");
        out.println("  Search      " + search + "/search/tasks?q=status:done");
        out.println("  Logs        " + dir.resolve("logs").resolve("changeflow.log"));
        out.println("Try:");
        out.println("  psql " + postgresUrl + " -c \"UPDATE app.tasks SET title = 'Ship it' WHERE id = "
                + "(SELECT id FROM app.tasks LIMIT 1)\"");
        out.println("  curl '" + search + "/search/tasks?q=title:ship'");
        out.println("  kcat -b " + broker.bootstrapServers() + " -t cdc.tasks-changes -C -o end -f '%k %s\\n'");
        out.println("  redis-cli -p " + cache.port() + " --scan --pattern 'task:*' | head");
        out.println("  curl -s " + ops.uri() + "/metrics | grep ^changeflow_ | grep -v _bucket");
        out.println("  ./changeflow run --help");
        out.println();
    }

    /** Percentiles over the last half minute (not Micrometer's default two), so that the board follows the load. */
    private static MeterFilter recentPercentiles() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (!id.getName().contains(".commit.to.")) {
                    return config;
                }
                return DistributionStatisticConfig.builder().expiry(Duration.ofSeconds(30)).bufferLength(3).build()
                        .merge(config);
            }
        };
    }

    private void migrate(PostgresServer pg) {
        try (Connection c = pg.connect(); Statement s = c.createStatement()) {
            boolean exists;
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                s.execute("CREATE DATABASE " + DATABASE);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot create the demo database: " + e.getMessage(), e);
        }
        SchemaMigrations.apply(pg.dataSource(DATABASE));
    }

    private <T extends AutoCloseable> CompletableFuture<T> startServer(Supplier<T> starter) {
        return CompletableFuture.supplyAsync(() -> {
            T server = starter.get();
            servers.add(server);
            return server;
        });
    }

    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private static void createDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot create the demo directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops the board and the workload, then the services together (each finishes and commits what it has in hand),
     * then the endpoint, then the servers together. Idempotent; never throws.
     */
    @Override
    public synchronized void close() {
        quietly(board);
        quietly(workload);
        CompletableFuture.allOf(services.stream()
                .map(s -> CompletableFuture.runAsync(() -> quietly(s)))
                .toArray(CompletableFuture[]::new)).join();
        quietly(ops);
        List<AutoCloseable> started;
        synchronized (servers) {
            started = List.copyOf(servers);
            servers.clear();
        }
        CompletableFuture.allOf(started.stream()
                .map(s -> CompletableFuture.runAsync(() -> quietly(s)))
                .toArray(CompletableFuture[]::new)).join();
    }

    private static void quietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.warn("{} did not stop cleanly: {}", closeable, e.toString());
        }
    }
}
