package dev.changeflow.capture;

import dev.changeflow.capture.internal.CaptureMetrics;
import dev.changeflow.capture.internal.CapturePreflight;
import dev.changeflow.capture.internal.DebeziumProperties;
import dev.changeflow.capture.internal.KafkaBatchPublisher;
import dev.changeflow.capture.internal.ProducerSettings;
import dev.changeflow.capture.internal.RecordConverter;
import dev.changeflow.router.topics.KafkaReachability;
import dev.changeflow.router.topics.TopicProvisioner;
import dev.changeflow.router.topics.TopicProvisioner.TopicSpec;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Mode;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.service.ChangeflowService;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderOptions;

/**
 * The capture process: tails the captured tables through a logical replication slot with the embedded Debezium engine
 * and publishes every row change to its Kafka topic, keyed {@code <table>:<primary key>}.
 *
 * <p>Lifecycle: {@link #create} validates settings; {@link #start} runs the startup checks, provisions topics and
 * starts the engine on its own thread; {@link #close} stops it. Each transition happens once; an unexpected one throws.
 * Delivery is at least once: a crash re-publishes at most the changes after the last offset flush, with the same
 * eventIds.
 */
public final class CaptureService implements ChangeflowService {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureService.class);

    /** Lifecycle states; transitions only move forward. */
    public enum State { CREATED, STARTING, RUNNING, STOPPED, FAILED }

    private final Settings settings;
    private final MeterRegistry registry;
    private final PostgresEndpoint endpoint;
    private final String bootstrap;
    private final List<String> tables;
    private final String heartbeatTable;
    private final TopicRouter router;
    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final CompletableFuture<Void> completion = new CompletableFuture<>();
    private final ExecutorService engineThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "changeflow-capture-engine");
        t.setDaemon(false);
        return t;
    });
    private KafkaSender<String, byte[]> sender;
    private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;

    private CaptureService(Settings settings, MeterRegistry registry) {
        this.settings = settings;
        this.registry = registry;
        this.endpoint = PostgresEndpoint.from(settings);
        this.bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim();
        this.tables = Arrays.stream(settings.get(CaptureSettings.TABLES).split(",")).map(String::trim).toList();
        this.heartbeatTable = settings.get(CaptureSettings.HEARTBEAT_TABLE);
        this.router = TopicRouter.fromSettings(settings);
        // Fail now, not after the engine started, on any setting that does not parse.
        CaptureSettings.ALL.forEach(settings::find);
        settings.get(Mode.SETTING);
    }

    /**
     * Validates {@code settings} and prepares a capture service; nothing is connected yet.
     *
     * @throws dev.changeflow.config.ConfigException naming the first setting that is invalid or missing
     */
    public static CaptureService create(Settings settings, MeterRegistry registry) {
        return new CaptureService(settings, registry);
    }

    /**
     * Runs the startup checks, provisions the topics and starts streaming. Returns once the engine is launched; the
     * snapshot and streaming go on in the background.
     *
     * @throws dev.changeflow.config.ConfigException if a check fails; nothing is left running
     * @throws TopicProvisioner.WeakTopicException in production mode, if an existing topic is weaker than configured
     */
    @Override
    public void start() {
        transition(State.CREATED, State.STARTING);
        try {
            CapturePreflight.checkPostgres(settings, endpoint, tables);
            Duration timeout = settings.get(CaptureSettings.STARTUP_TIMEOUT);
            try (Admin admin = Admin.create(KafkaReachability.adminConfig(Map.of("bootstrap.servers", bootstrap),
                    timeout))) {
                KafkaReachability.check(admin, bootstrap, timeout);
                new TopicProvisioner(admin, settings.get(Mode.SETTING)).provision(topicSpecs());
            }
            sender = KafkaSender.create(SenderOptions.<String, byte[]>create(ProducerSettings.of(settings, bootstrap)).maxInFlight(1024));
            RecordConverter converter = new RecordConverter(Set.of(heartbeatTable.substring(
                    heartbeatTable.indexOf('.') + 1)));
            CaptureMetrics metrics = new CaptureMetrics(registry, Clock.systemUTC());
            engine = DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
                    .using(DebeziumProperties.of(settings, endpoint, bootstrap, tables, heartbeatTable))
                    .notifying(new KafkaBatchPublisher(sender, converter, router, metrics))
                    .using((success, message, error) -> onEngineStopped(success, message, error))
                    .build();
            engineThread.execute(engine);
            transition(State.STARTING, State.RUNNING);
            LOG.info("Capture started: tables {} via slot {} to {}", tables, settings.get(CaptureSettings.SLOT),
                    bootstrap);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
            throw new IllegalStateException("Interrupted during startup", e);
        } catch (ExecutionException e) {
            fail(e);
            throw new IllegalStateException("Kafka refused topic provisioning: " + e.getCause().getMessage(), e);
        } catch (RuntimeException e) {
            fail(e);
            throw e;
        }
    }

    /** {@code capture}. */
    @Override
    public String name() {
        return "capture";
    }

    /** Whether the engine has been launched and has neither stopped nor failed. */
    @Override
    public boolean isReady() {
        return state.get() == State.RUNNING && !completion.isDone();
    }

    /** Completes when the engine stops: normally after {@link #close()}, exceptionally if it failed. */
    @Override
    public CompletableFuture<Void> whenTerminated() {
        return completion;
    }

    public State state() {
        return state.get();
    }

    /** Stops the engine (committing what Kafka acknowledged) and releases its resources. Idempotent. */
    @Override
    public void close() {
        State previous = state.getAndUpdate(s -> s == State.FAILED ? s : State.STOPPED);
        if (previous == State.STOPPED) {
            return;
        }
        try {
            if (engine != null) {
                engine.close();
            }
        } catch (IOException | RuntimeException e) {
            // Debezium refuses to stop while its task is still starting; the sender is closed regardless.
            LOG.warn("Engine did not close cleanly: {}", e.toString());
        }
        engineThread.shutdown();
        if (sender != null) {
            sender.close();
        }
        completion.complete(null);
    }

    private void onEngineStopped(boolean success, String message, Throwable error) {
        if (error != null || !success) {
            LOG.error("Capture engine stopped: {}", message, error);
            state.set(State.FAILED);
            completion.completeExceptionally(error != null ? error : new IllegalStateException(message));
        } else {
            LOG.info("Capture engine stopped: {}", message);
            completion.complete(null);
        }
    }

    private List<TopicSpec> topicSpecs() {
        int rf = settings.get(CaptureSettings.REPLICATION_FACTOR);
        int minIsr = settings.get(CaptureSettings.MIN_INSYNC_REPLICAS);
        Map<String, Integer> partitions = partitionsPerTable(settings.get(CaptureSettings.TOPIC_PARTITIONS));
        int fallback = partitions.values().iterator().next();
        List<TopicSpec> specs = new ArrayList<>();
        for (String table : tables) {
            String bare = table.substring(table.indexOf('.') + 1);
            specs.add(TopicSpec.changeTopic(router.topicFor(bare), partitions.getOrDefault(bare, fallback), rf, minIsr,
                    settings.get(CaptureSettings.RETENTION), settings.get(CaptureSettings.SEGMENT)));
        }
        specs.add(TopicSpec.offsetsTopic(settings.get(CaptureSettings.OFFSETS_TOPIC), rf, minIsr));
        return specs;
    }

    static Map<String, Integer> partitionsPerTable(String value) {
        Map<String, Integer> out = new java.util.LinkedHashMap<>();
        for (String pair : value.split(",")) {
            String[] kv = pair.trim().split("=");
            out.put(kv[0], Integer.parseInt(kv[1]));
        }
        return out;
    }

    private void transition(State from, State to) {
        if (!state.compareAndSet(from, to)) {
            throw new IllegalStateException("Capture cannot go from " + state.get() + " to " + to);
        }
    }

    private void fail(Throwable error) {
        state.set(State.FAILED);
        engineThread.shutdown();
        if (sender != null) {
            sender.close();
        }
        completion.completeExceptionally(error);
    }
}
