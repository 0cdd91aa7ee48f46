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
import dev.changeflow.router.service.AdminApi;
import dev.changeflow.router.service.AdminRoute;
import dev.changeflow.router.service.BearerToken;
import dev.changeflow.router.service.ChangeflowService;
import dev.changeflow.router.service.CommonAdminRoutes;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    private static final String TOKEN_FILE = "admin-token";
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

        String token = adminToken(settings);
        Settings demoSettings = settings.with(Map.ofEntries(Map.entry(OpsSettings.ADMIN_TOKEN.key(), token),
                Map.entry(ConnectionSettings.POSTGRES_URL.key(), pg.jdbcUrl(DATABASE)),
                Map.entry(ConnectionSettings.POSTGRES_USER.key(), pg.user()),
                Map.entry(ConnectionSettings.KAFKA_BOOTSTRAP.key(), broker.bootstrapServers()),
                Map.entry(ConnectionSettings.REDIS_URL.key(), cache.uri().toString()),
                Map.entry(Mode.SETTING.key(), "dev"),
                Map.entry(CaptureSettings.REPLICATION_FACTOR.key(), "1"),
                Map.entry(CaptureSettings.MIN_INSYNC_REPLICAS.key(), "1"),
                Map.entry(IndexerSettings.ENGINE.key(), "lucene"),
                Map.entry(IndexerSettings.LUCENE_DIRECTORY.key(), dir.resolve("search-index").toString()),
                Map.entry(OpsSettings.HTTP_HOST.key(), "127.0.0.1")));
        PrometheusMeterRegistry registry = OpsEndpoint.newRegistry(recentPercentiles());
        CaptureService capture = CaptureService.create(demoSettings, registry);
        IndexerService indexer = IndexerService.create(demoSettings, registry);
        InvalidatorService invalidator = InvalidatorService.create(demoSettings, registry);
        ops = OpsEndpoint.start(demoSettings, registry, () -> List.copyOf(services));
        List<AdminRoute> routes = new ArrayList<>(CommonAdminRoutes.of(demoSettings, () -> List.copyOf(services)));
        List.of(capture, indexer, invalidator).forEach(service -> routes.addAll(service.adminRoutes()));
        new AdminApi(BearerToken.from(demoSettings), routes).install(ops);
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
        printWhereToLook(pg, broker, cache, indexer, rate, token);
        board = new StatusBoard(registry, out, terminal, demoSettings.get(DemoSettings.REFRESH),
                invalidator.group(), indexer.group());
        board.start();
    }

    private void printWhereToLook(PostgresServer pg, KafkaServer broker, RedisServer cache, IndexerService indexer,
            int rate, String token) {
        String search = indexer.searchUri().toString();
        String auth = "-H 'Authorization: Bearer " + token + "' ";
        String postgresUrl = "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/" + DATABASE;
        out.println();
        out.println("Changeflow demo is running: the workload writes " + rate + " changes/s (" + workload.describe()
                + ").");
        out.println("  Postgres    " + postgresUrl);
        out.println("  Kafka       " + broker.bootstrapServers() + "   topics cdc.tasks-changes, cdc.projects-changes");
        out.println("  Redis       redis://" + cache.host() + ":" + cache.port());
        out.println("  Health      " + ops.uri() + "/health   " + ops.uri() + "/ready");
        out.println("  Metrics     " + ops.uri() + "/metrics");
        out.println("  Search      " + search + "/search/tasks?q=status:done   (needs the admin token)");
        out.println("  Admin token " + token + "   (kept in " + dir.resolve(TOKEN_FILE) + ")");
        out.println("  Logs        " + dir.resolve("logs").resolve("changeflow.log"));
        out.println("Try:");
        out.println("  psql " + postgresUrl + " -c \"UPDATE app.tasks SET title = 'Ship it' WHERE id = "
                + "(SELECT id FROM app.tasks LIMIT 1)\"");
        out.println("  curl " + auth + "'" + search + "/search/tasks?q=title:ship'");
        out.println("  curl " + auth + ops.uri() + "/lag");
        out.println("  kcat -b " + broker.bootstrapServers() + " -t cdc.tasks-changes -C -o end -f '%k %s\\n'");
        out.println("  redis-cli -p " + cache.port() + " --scan --pattern 'task:*' | head");
        out.println("  curl -s " + ops.uri() + "/metrics | grep ^changeflow_ | grep -v _bucket");
        out.println("  ./changeflow run --help");
        out.println();
    }

    /**
     * The admin token of this demo: the configured one, else one generated on the first run and kept in the demo's
     * directory (readable by its owner only), so that commands printed earlier keep working after a restart.
     */
    private String adminToken(Settings settings) {
        Optional<String> configured = settings.find(OpsSettings.ADMIN_TOKEN);
        if (configured.isPresent()) {
            return configured.get();
        }
        Path file = dir.resolve(TOKEN_FILE);
        try {
            if (Files.exists(file)) {
                return Files.readString(file, StandardCharsets.UTF_8).trim();
            }
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // Not a POSIX file system: the directory's own permissions apply.
            }
            return token;
        } catch (IOException e) {
            throw new IllegalStateException("Cannot keep the demo's admin token in " + file + ": " + e.getMessage(), e);
        }
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
