package dev.changeflow.capture.bench;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.capture.internal.DebeziumProperties;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Debezium's embedded engine with exactly capture's properties ({@link DebeziumProperties}) and a change consumer that
 * does nothing but mark each record processed and the batch finished: the ceiling capture-to-Kafka is compared with.
 * It counts the data events (app.tasks / app.projects) at or after a given LSN, which costs a string comparison and
 * a map lookup per record.
 */
final class NoopEngine implements AutoCloseable {
    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-noop-engine"));
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Counting consumer;
    private final CountDownLatch started = new CountDownLatch(1);

    /** The change consumer: marks everything processed; counts data events. Called on one thread at a time. */
    static final class Counting implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {
        private final long minLsn;
        private final long target;
        private final CountDownLatch done = new CountDownLatch(1);
        volatile long firstNanos;
        volatile long firstCount;
        volatile long doneNanos;
        volatile long counted;
        volatile long older;
        volatile long batches;
        volatile long records;

        Counting(long minLsn, long target) {
            this.minLsn = minLsn;
            this.target = target;
        }

        @Override
        public void handleBatch(List<RecordChangeEvent<SourceRecord>> batch,
                DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) throws InterruptedException {
            long data = 0;
            long old = 0;
            for (RecordChangeEvent<SourceRecord> event : batch) {
                SourceRecord r = event.record();
                String topic = r.topic();
                if (topic != null && (topic.endsWith(".app.tasks") || topic.endsWith(".app.projects"))) {
                    Map<String, ?> offset = r.sourceOffset();
                    Object lsn = offset == null ? null : offset.get("lsn");
                    if (lsn instanceof Number n && n.longValue() < minLsn) {
                        old++;
                    } else {
                        data++;
                    }
                }
                committer.markProcessed(event);
            }
            committer.markBatchFinished();
            batches++;
            records += batch.size();
            if (data > 0) {
                if (firstNanos == 0) {
                    firstNanos = System.nanoTime();
                    firstCount = data;
                }
                counted += data;
                if (counted >= target && doneNanos == 0) {
                    doneNanos = System.nanoTime();
                    done.countDown();
                }
            }
            older += old;
        }

        boolean await(long timeout, TimeUnit unit) throws InterruptedException {
            return done.await(timeout, unit);
        }
    }

    NoopEngine(Settings settings, long minLsn, long target) {
        PostgresEndpoint endpoint = PostgresEndpoint.from(settings);
        String bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP);
        consumer = new Counting(minLsn, target);
        engine = DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
                .using(DebeziumProperties.of(settings, endpoint, bootstrap, BenchWorld.TABLES,
                        BenchWorld.HEARTBEAT_TABLE))
                .notifying(consumer)
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void taskStarted() {
                        started.countDown();
                    }
                })
                .using((success, message, error) -> {
                    if (!success || error != null) {
                        failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
                    }
                })
                .build();
    }

    /** Creates the no-op path's offsets topic the way capture provisions its own (compacted, one partition). */
    static void createOffsetsTopic(Settings settings) throws Exception {
        String bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            String name = settings.get(CaptureSettings.OFFSETS_TOPIC);
            if (!admin.listTopics().names().get().contains(name)) {
                admin.createTopics(List.of(new NewTopic(name, 1,
                        settings.get(CaptureSettings.REPLICATION_FACTOR).shortValue()).configs(Map.of(
                                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
                        .all().get();
            }
        }
    }

    void start() {
        thread.execute(engine);
    }

    Counting consumer() {
        return consumer;
    }

    Throwable failure() {
        return failure.get();
    }

    /** Closes the engine once its task has started: the engine refuses to stop while a task is starting. */
    @Override
    public void close() throws Exception {
        if (failure.get() == null && !started.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no-op engine task did not start within 60 s");
        }
        engine.close();
        thread.shutdown();
        if (!thread.awaitTermination(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no-op engine did not stop within 60 s");
        }
    }
}
