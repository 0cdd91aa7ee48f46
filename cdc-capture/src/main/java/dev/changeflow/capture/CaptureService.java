package dev.changeflow.capture;

import dev.changeflow.capture.internal.CaptureLease;
import dev.changeflow.capture.internal.CaptureMetrics;
import dev.changeflow.capture.internal.CapturePreflight;
import dev.changeflow.capture.internal.DebeziumProperties;
import dev.changeflow.capture.internal.AcknowledgedBatchWriter;
import dev.changeflow.capture.internal.BatchWriter;
import dev.changeflow.capture.internal.KafkaBatchPublisher;
import dev.changeflow.capture.internal.TransactionalBatchWriter;
import dev.changeflow.capture.internal.ProducerSettings;
import dev.changeflow.capture.internal.RecordConverter;
import dev.changeflow.capture.internal.SlotMonitor;
import dev.changeflow.capture.internal.SnapshotProgress;
import dev.changeflow.capture.internal.BackfillPacer;
import dev.changeflow.capture.internal.BackfillProgress;
import dev.changeflow.capture.internal.CaptureOffsets;
import dev.changeflow.capture.internal.ReadVersions;
import dev.changeflow.capture.internal.RowSchemaTracker;
import dev.changeflow.capture.internal.RowSchemaVersions;
import dev.changeflow.capture.internal.TopicConsumers;
import dev.changeflow.capture.schema.RegistrySchemaStore;
import dev.changeflow.capture.schema.SchemaAdminRoutes;
import dev.changeflow.capture.schema.SchemaStore;
import dev.changeflow.capture.schema.SchemaTopicStore;
import dev.changeflow.capture.snapshot.BackfillAdminRoutes;
import dev.changeflow.capture.snapshot.Backfills;
import dev.changeflow.router.StateTopics;
import dev.changeflow.router.topics.KafkaReachability;
import dev.changeflow.router.topics.TopicProvisioner;
import dev.changeflow.router.topics.TopicProvisioner.TopicSpec;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Mode;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.capture.slot.SlotAdminRoutes;
import dev.changeflow.router.ops.LagMonitor;
import dev.changeflow.router.RowSchemaRef;
import dev.changeflow.router.service.AdminRoute;
import dev.changeflow.router.service.ChangeflowService;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
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
 * starts the lease thread; {@link #close} stops it. Each transition happens once; an unexpected one throws.
 *
 * <p>The engine runs only while this capture holds the slot's lease (a Postgres advisory lock, see
 * {@code CaptureLease}): a second capture of the same slot waits as a standby, and the slot tools
 * ({@link dev.changeflow.capture.slot.ReplicationSlots}) take the lease to drop or reset the slot. Losing the lease
 * (its session ended) stops the engine, which commits what Kafka acknowledged, and the capture waits for the lease
 * again.
 *
 * <p>Delivery is exactly once by default ({@link CaptureSettings#DELIVERY}): each batch and its source offsets are one
 * Kafka transaction under the deployment's transactional id, initialized only once the lease is held, which fences
 * any earlier instance. A standby therefore never writes to Kafka, and a zombie that wakes after a takeover is fenced.
 * In at-least-once mode a crash re-publishes at most the changes after the last offset flush, with the same eventIds.
 */
public final class CaptureService implements ChangeflowService {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureService.class);

    /** Lifecycle states; transitions only move forward. */
    public enum State { CREATED, STARTING, RUNNING, STOPPED, FAILED }

    private static final Duration LEASE_POLL = Duration.ofMillis(500);
    private static final Duration LEASE_RETRY = Duration.ofSeconds(1);

    private final Settings settings;
    private final MeterRegistry registry;
    private final PostgresEndpoint endpoint;
    private final String bootstrap;
    private final List<String> tables;
    private final String heartbeatTable;
    private final String signalTable;
    private final TopicRouter router;
    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final CompletableFuture<Void> completion = new CompletableFuture<>();
    private final ExecutorService engineThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "changeflow-capture-engine");
        t.setDaemon(false);
        return t;
    });
    private final Thread leaseThread = new Thread(this::captureWhileHoldingTheLease, "changeflow-capture-lease");
    private final CaptureSettings.Delivery delivery;
    private final AtomicInteger leaseHeld = new AtomicInteger();
    private volatile boolean closing;
    /** Set while the lease thread stops the engine on purpose, so the engine's stop is not taken for a failure. */
    private volatile boolean stopRequested;
    /** The at-least-once sender, shared by every tenure of the lease; null in exactly-once mode. */
    private KafkaSender<String, byte[]> sender;
    private RecordConverter converter;
    private BackfillProgress backfills;
    /** Paces backfills, or null when they are not limited. */
    private BackfillPacer pacer;
    private CaptureMetrics metrics;
    private SlotMonitor slotMonitor;
    private LagMonitor lagMonitor;
    /** The running engine, or null while waiting for the lease; set and cleared by the lease thread. */
    private volatile DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;

    private CaptureService(Settings settings, MeterRegistry registry) {
        this.settings = settings;
        this.registry = registry;
        this.endpoint = PostgresEndpoint.from(settings);
        this.bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim();
        this.tables = Arrays.stream(settings.get(CaptureSettings.TABLES).split(",")).map(String::trim).toList();
        this.heartbeatTable = settings.get(CaptureSettings.HEARTBEAT_TABLE);
        this.signalTable = settings.get(CaptureSettings.SIGNAL_TABLE);
        this.router = TopicRouter.fromSettings(settings);
        this.delivery = settings.get(CaptureSettings.DELIVERY);
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
                new TopicProvisioner(admin, settings.get(Mode.SETTING)).provision(CaptureTopics.specs(settings));
            }
            if (delivery == CaptureSettings.Delivery.AT_LEAST_ONCE) {
                sender = KafkaSender.create(SenderOptions.<String, byte[]>create(ProducerSettings.of(settings, bootstrap))
                        .maxInFlight(1024));
            }
            registry.gauge("changeflow.capture.lease.held", io.micrometer.core.instrument.Tags.of("slot",
                    settings.get(CaptureSettings.SLOT)), leaseHeld);
            converter = new RecordConverter(Set.of(bare(heartbeatTable), bare(signalTable)));
            backfills = new BackfillProgress(registry, bare(signalTable));
            pacer = BackfillPacer.of(settings.get(CaptureSettings.SNAPSHOT_MAX_ROWS_PER_SECOND), endpoint, signalTable,
                    registry);
            backfills.pacedBy(pacer);
            metrics = new CaptureMetrics(registry, Clock.systemUTC());
            slotMonitor = SlotMonitor.start(endpoint, settings.get(CaptureSettings.SLOT),
                    (long) settings.get(CaptureSettings.RETAINED_WAL_WARNING_MB) << 20, registry,
                    settings.get(CaptureSettings.SLOT_CHECK_INTERVAL));
            lagMonitor = LagMonitor.start(Map.of("bootstrap.servers", bootstrap), registry,
                    settings.get(CaptureSettings.LAG_CHECK_INTERVAL));
            transition(State.STARTING, State.RUNNING);
            leaseThread.start();
            LOG.info("Capture started: tables {} via slot {} to {}, {}", tables, settings.get(CaptureSettings.SLOT),
                    bootstrap, describe(delivery));
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

    /**
     * {@code GET /slots} and {@code POST /slots/{name}/reset} ({@link SlotAdminRoutes}); {@code GET /snapshots},
     * {@code POST /snapshots} and {@code POST /snapshots/{table}/stop} ({@link BackfillAdminRoutes}).
     */
    @Override
    public List<AdminRoute> adminRoutes() {
        List<AdminRoute> routes = new ArrayList<>(SlotAdminRoutes.of(settings));
        routes.addAll(BackfillAdminRoutes.of(settings));
        routes.addAll(SchemaAdminRoutes.of(settings));
        return routes;
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

    /**
     * Stops the engine (committing what Kafka acknowledged), releases the lease and the other resources. Idempotent.
     */
    @Override
    public void close() {
        State previous = state.getAndUpdate(s -> s == State.FAILED ? s : State.STOPPED);
        if (previous == State.STOPPED) {
            return;
        }
        closing = true;
        if (leaseThread.isAlive()) {
            leaseThread.interrupt();
            try {
                leaseThread.join(Duration.ofSeconds(90).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stopEngine();
        engineThread.shutdown();
        if (pacer != null) {
            pacer.close();
        }
        if (slotMonitor != null) {
            slotMonitor.close();
        }
        if (lagMonitor != null) {
            lagMonitor.close();
        }
        if (sender != null) {
            sender.close();
        }
        completion.complete(null);
    }

    /**
     * The lease thread: waits for the slot's lease (logging who holds it), then, holding it: ends any session still
     * streaming from the slot (a capture that lost its lease), opens the batch writer (in exactly-once mode this
     * initializes the deployment's transactions, fencing earlier instances), and runs the engine. It stops the engine
     * as soon as the lease is lost, for example because its holder's machine vanished from Postgres's view or
     * {@code changeflow slot reset --stop-capture} ended the lease's session, and waits for the lease again. Postgres
     * being unreachable loses the lease too; the thread reconnects every second. Only an engine failure while the
     * lease is held fails the capture.
     */
    private void captureWhileHoldingTheLease() {
        String slot = settings.get(CaptureSettings.SLOT);
        boolean reportedWaiting = false;
        while (!closing) {
            try (Connection connection = endpoint.connect()) {
                LeaseSession lease = new LeaseSession(connection);
                CaptureLease.prepare(connection, CaptureLease.standbyName(slot));
                while (!closing && !CaptureLease.tryAcquire(connection, slot)) {
                    if (!reportedWaiting) {
                        LOG.info("Standing by: waiting for the capture lease of slot {}, held by {}", slot,
                                CaptureLease.holder(connection, slot).map(Object::toString).orElse("(released)"));
                        reportedWaiting = true;
                    }
                    TimeUnit.MILLISECONDS.sleep(LEASE_POLL.toMillis());
                }
                if (closing) {
                    return;
                }
                reportedWaiting = false;
                CaptureLease.rename(connection, CaptureLease.activeName(slot));
                int ended = CaptureLease.endStreamer(connection, slot, Duration.ofSeconds(30));
                if (ended > 0) {
                    LOG.warn("Slot {} was still streamed by process {}, a capture that lost its lease; ended it", slot,
                            ended);
                }
                Throwable failure = runEngineWhileHolding(lease, slot);
                if (failure != null) {
                    LOG.error("Capture failed", failure);
                    fail(failure);
                    return;
                }
            } catch (SQLException e) {
                stopEngine();
                if (!closing) {
                    LOG.warn("Cannot hold the capture lease of slot {}: {}; retrying in {} ms", slot,
                            endpoint.describe(e), LEASE_RETRY.toMillis());
                    sleepQuietly(LEASE_RETRY);
                }
            } catch (InterruptedException e) {
                stopEngine();
                if (!closing) {
                    Thread.currentThread().interrupt();
                }
                return;
            } catch (RuntimeException e) {
                stopEngine();
                LOG.error("Capture failed", e);
                fail(e);
                return;
            } finally {
                leaseHeld.set(0);
            }
        }
    }

    /**
     * Runs the engine while {@code lease} is held: until it is lost, capture closes, or the engine stops by itself.
     *
     * @return the engine's failure if it failed while the lease was held; null otherwise (wait for the lease again)
     */
    private Throwable runEngineWhileHolding(LeaseSession lease, String slot) throws InterruptedException, SQLException {
        BatchWriter writer;
        try {
            writer = delivery == CaptureSettings.Delivery.EXACTLY_ONCE
                    ? TransactionalBatchWriter.open(ProducerSettings.transactional(settings, bootstrap),
                            DebeziumProperties.engineName(slot), settings.get(CaptureSettings.OFFSETS_TOPIC),
                            lease::alive)
                    : new AcknowledgedBatchWriter(sender);
        } catch (TransactionalBatchWriter.LeaseLostException e) {
            LOG.warn("Lost the capture lease of slot {} while taking over; standing by again", slot);
            return null;
        }
        leaseHeld.set(1);
        LOG.info("Holding the capture lease of slot {}; starting the engine ({} delivery)", slot,
                describe(delivery));
        try {
            requestFirstSnapshotIfNew(slot);
            requestSnapshotsOfNewTables();
            int chunkSize = settings.get(CaptureSettings.SNAPSHOT_CHUNK_SIZE);
            CompletableFuture<Void> engineStopped = startEngine(writer, chunkSize);
            boolean lost = false;
            while (!closing && !engineStopped.isDone()) {
                if (!lease.alive()) {
                    LOG.warn("Lost the capture lease of slot {} (its session ended); stopping the engine", slot);
                    lost = true;
                    break;
                }
                int wanted = backfills.requestedChunkSize();
                if (wanted > 0 && wanted != chunkSize) {
                    // Debezium reads the chunk size from its configuration: restart the engine with the one the
                    // backfill asked for. It resumes from the committed offsets, the snapshot's position included.
                    LOG.info("A backfill asked for chunks of {} rows (capture used {}): restarting the engine",
                            wanted, chunkSize);
                    stopEngine();
                    engineStopped.handle((ok, error) -> null).join();
                    chunkSize = wanted;
                    engineStopped = startEngine(writer, chunkSize);
                }
                try {
                    engineStopped.get(LEASE_POLL.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    // Still running, or stopped: the loop condition decides.
                }
            }
            stopEngine();
            if (!engineStopped.isCompletedExceptionally() || lost || closing) {
                return null;
            }
            Throwable cause = engineStopped.handle((ok, error) -> error).join();
            if (causedByLeaseLoss(cause) || !lease.alive()) {
                LOG.warn("Capture engine stopped after losing the capture lease of slot {}: {}", slot, cause.toString());
                return null;
            }
            return cause;
        } finally {
            writer.close();
        }
    }

    private static String bare(String qualified) {
        return qualified.substring(qualified.indexOf('.') + 1);
    }

    /**
     * In snapshot mode {@code incremental}, requests the first snapshot (an incremental one of every captured table)
     * when this deployment has no committed offsets yet, unless it was requested already (see
     * {@link Backfills#requestInitial}). Runs holding the lease, after the writer fenced earlier instances, so the
     * offsets read are final.
     */
    private void requestFirstSnapshotIfNew(String slot) throws SQLException {
        if (settings.get(CaptureSettings.SNAPSHOT_MODE) != CaptureSettings.SnapshotMode.INCREMENTAL) {
            return;
        }
        try (Connection c = endpoint.connect()) {
            // Cheap first: once requested, a failover or restart does not read the offsets topic for this.
            if (Backfills.initialRequested(c, signalTable, slot)
                    || !CaptureOffsets.read(bootstrap, settings.get(CaptureSettings.OFFSETS_TOPIC),
                            DebeziumProperties.engineName(slot)).isEmpty()) {
                return;
            }
            if (Backfills.requestInitial(c, slot, settings.get(CaptureSettings.PUBLICATION), tables, heartbeatTable,
                    signalTable, settings.get(CaptureSettings.BACKFILL_TABLE))) {
                LOG.info("New deployment: requested the first snapshot of {}, incremental: streaming starts at once "
                        + "and the existing rows follow in chunks", tables);
            }
        }
    }

    /**
     * In snapshot mode {@code incremental}, requests a backfill of every configured table that the publication does
     * not publish yet: a table added to {@link CaptureSettings#TABLES} since the last start. Debezium adds it to the
     * publication when the engine starts (filtered mode); its existing rows come from the backfill, its changes from
     * the stream. Nothing to do on a first start, whose first snapshot covers every table.
     */
    private void requestSnapshotsOfNewTables() throws SQLException {
        if (settings.get(CaptureSettings.SNAPSHOT_MODE) != CaptureSettings.SnapshotMode.INCREMENTAL) {
            return;
        }
        Set<String> published = new java.util.HashSet<>();
        boolean exists;
        try (Connection c = endpoint.connect();
                var s = c.prepareStatement("SELECT p.pubname, t.schemaname || '.' || t.tablename FROM pg_publication p "
                        + "LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname WHERE p.pubname = ?")) {
            s.setString(1, settings.get(CaptureSettings.PUBLICATION));
            try (var rs = s.executeQuery()) {
                exists = false;
                while (rs.next()) {
                    exists = true;
                    if (rs.getString(2) != null) {
                        published.add(rs.getString(2));
                    }
                }
            }
        }
        if (!exists) {
            return;
        }
        for (String table : tables) {
            String qualified = table.contains(".") ? table : "public." + table;
            if (published.contains(qualified)) {
                continue;
            }
            try {
                Backfills.from(settings).start(table, java.util.Optional.empty(), java.util.OptionalInt.empty());
                LOG.info("Table {} is newly captured: requested a backfill of its existing rows", qualified);
            } catch (dev.changeflow.capture.snapshot.BackfillRefusedException e) {
                LOG.info("Table {} is newly captured; no backfill requested: {}", qualified, e.getMessage());
            }
        }
    }

    /** {@code exactly once} or {@code at least once}, for the log. */
    private static String describe(CaptureSettings.Delivery delivery) {
        return delivery.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }

    private static boolean causedByLeaseLoss(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TransactionalBatchWriter.LeaseLostException) {
                return true;
            }
        }
        return false;
    }

    /** Starts a new engine on the engine thread; the future completes when it stops (exceptionally if it failed). */
    private CompletableFuture<Void> startEngine(BatchWriter writer, int chunkSize) throws InterruptedException {
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        stopRequested = false;
        ReadVersions readVersions = new ReadVersions(endpoint, settings.get(CaptureSettings.SLOT));
        RowSchemaTracker rowSchemas = rowSchemaTracker();
        stopped.whenComplete((ok, error) -> {
            readVersions.close();
            if (rowSchemas != null) {
                rowSchemas.close();
            }
        });
        engine = DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
                .using(DebeziumProperties.of(settings, endpoint, bootstrap, tables, heartbeatTable, chunkSize))
                .notifying(new KafkaBatchPublisher(writer, converter, router, metrics,
                        new SnapshotProgress(endpoint, tables, registry),
                        settings.get(CaptureSettings.STATE_TOPICS_ENABLED) ? StateTopics.fromSettings(settings) : null,
                        readVersions, backfills, rowSchemas))
                .using((success, message, error) -> onEngineStopped(success, message, error, stopped))
                .build();
        engineThread.execute(engine);
        return stopped;
    }

    /**
     * The row schema versions of this engine run (loaded now from the schema topic or registry), or null if
     * {@link CaptureSettings#ROW_SCHEMAS} is off.
     */
    private RowSchemaTracker rowSchemaTracker() throws InterruptedException {
        if (!settings.get(CaptureSettings.ROW_SCHEMAS)) {
            return null;
        }
        SchemaStore store = settings.find(CaptureSettings.SCHEMA_REGISTRY_URL)
                .<SchemaStore>map(RegistrySchemaStore::new)
                .orElseGet(() -> new SchemaTopicStore(bootstrap, settings.get(CaptureSettings.SCHEMA_TOPIC)));
        List<String> subjects = tables.stream().map(t -> RowSchemaRef.subjectOf(router.topicFor(bare(t)))).toList();
        try {
            RowSchemaVersions versions = new RowSchemaVersions(store, subjects,
                    table -> CaptureSettings.compatibility(settings, table), registry,
                    new TopicConsumers(bootstrap));
            return new RowSchemaTracker(versions, router, endpoint, store);
        } catch (InterruptedException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Closes the running engine, if any, and waits until it stopped and committed its offsets. */
    private void stopEngine() {
        DebeziumEngine<RecordChangeEvent<SourceRecord>> running = engine;
        if (running == null) {
            return;
        }
        stopRequested = true;
        try {
            running.close();
        } catch (IOException | RuntimeException e) {
            // Debezium refuses to stop while its task is still starting; the sender is closed regardless.
            LOG.warn("Engine did not close cleanly: {}", e.toString());
        }
        engine = null;
    }

    /**
     * The lease's session, shared by the lease thread's watchdog and the transactional writer's checks; one statement
     * at a time.
     */
    private static final class LeaseSession {
        private final Connection connection;

        LeaseSession(Connection connection) {
            this.connection = connection;
        }

        /** Whether the session still answers, and so still holds the lease it took. */
        synchronized boolean alive() {
            return CaptureLease.alive(connection);
        }
    }

    private static void sleepQuietly(Duration duration) {
        try {
            TimeUnit.MILLISECONDS.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Completes {@code stopped}; the lease thread decides whether a failure fails the capture. */
    private void onEngineStopped(boolean success, String message, Throwable error, CompletableFuture<Void> stopped) {
        if (error != null || !success) {
            if (stopRequested) {
                // Stopping on purpose (lease lost, closing): the batch in hand may have been cut short.
                LOG.warn("Capture engine stopped while being stopped: {}", message);
                stopped.complete(null);
                return;
            }
            LOG.error("Capture engine stopped: {}", message, error);
            stopped.completeExceptionally(error != null ? error : new IllegalStateException(message));
        } else {
            LOG.info("Capture engine stopped: {}", message);
            stopped.complete(null);
        }
    }

    private void transition(State from, State to) {
        if (!state.compareAndSet(from, to)) {
            throw new IllegalStateException("Capture cannot go from " + state.get() + " to " + to);
        }
    }

    private void fail(Throwable error) {
        state.set(State.FAILED);
        closing = true;
        engineThread.shutdown();
        if (pacer != null) {
            pacer.close();
        }
        if (slotMonitor != null) {
            slotMonitor.close();
        }
        if (lagMonitor != null) {
            lagMonitor.close();
        }
        if (sender != null) {
            sender.close();
        }
        completion.completeExceptionally(error);
    }
}
