package dev.changeflow.capture.bench;

import dev.changeflow.capture.CaptureSettings;
import dev.changeflow.capture.internal.AcknowledgedBatchWriter;
import dev.changeflow.capture.internal.BatchWriter;
import dev.changeflow.capture.internal.CaptureMetrics;
import dev.changeflow.capture.internal.DebeziumProperties;
import dev.changeflow.capture.internal.KafkaBatchPublisher;
import dev.changeflow.capture.internal.ProducerSettings;
import dev.changeflow.capture.internal.RecordConverter;
import dev.changeflow.capture.internal.SnapshotProgress;
import dev.changeflow.capture.internal.TransactionalBatchWriter;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.router.TopicRouter;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.connect.source.SourceRecord;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderOptions;

/**
 * EXPERIMENT ONLY, never the headline number: the capture path assembled by hand from capture's own parts
 * ({@link DebeziumProperties}, {@link RecordConverter}, {@link TopicRouter}, {@link KafkaBatchPublisher}), so that a
 * what-if the main code does not expose can be measured: {@code -Dbench.variant.maxInFlight=N} sets reactor-kafka's
 * {@code maxInFlight} (CaptureService uses 1024; at-least-once mode only); {@code -Dbench.variant.publisher=<class>}
 * replaces the change consumer with another one that has KafkaBatchPublisher's constructor (for comparing publisher
 * designs). The batch writer follows the settings' delivery mode ({@link AcknowledgedBatchWriter} on the reactor-kafka
 * sender, or {@link TransactionalBatchWriter}, which never loses a lease here: there is none). The producer settings
 * are capture's own ({@link ProducerSettings}).
 */
final class CaptureVariant implements AutoCloseable {
    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private final KafkaSender<String, byte[]> sender;
    private final BatchWriter writer;
    private final ExecutorService thread =
            Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-variant-engine"));
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    final String description;

    static boolean requested() {
        return System.getProperty("bench.variant.maxInFlight") != null
                || System.getProperty("bench.variant.publisher") != null;
    }

    CaptureVariant(Settings settings, MeterRegistry registry) throws ReflectiveOperationException {
        int maxInFlight = Integer.getInteger("bench.variant.maxInFlight", 1024);
        String bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP);
        String heartbeat = BenchWorld.HEARTBEAT_TABLE;
        Map<String, Object> config = new HashMap<>(ProducerSettings.of(settings, bootstrap));
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-variant-" + settings.get(CaptureSettings.SLOT));
        sender = KafkaSender.create(SenderOptions.<String, byte[]>create(config).maxInFlight(maxInFlight));
        boolean exactlyOnce = settings.get(CaptureSettings.DELIVERY) == CaptureSettings.Delivery.EXACTLY_ONCE;
        writer = exactlyOnce
                ? TransactionalBatchWriter.open(ProducerSettings.transactional(settings, bootstrap),
                        DebeziumProperties.engineName(settings.get(CaptureSettings.SLOT)),
                        settings.get(CaptureSettings.OFFSETS_TOPIC), () -> true)
                : new AcknowledgedBatchWriter(sender);
        RecordConverter converter = new RecordConverter(Set.of(heartbeat.substring(heartbeat.indexOf('.') + 1)));
        TopicRouter router = TopicRouter.fromSettings(settings);
        CaptureMetrics metrics = new CaptureMetrics(registry, Clock.systemUTC());
        String publisher = System.getProperty("bench.variant.publisher", KafkaBatchPublisher.class.getName());
        @SuppressWarnings("unchecked")
        DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> consumer =
                (DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>>) Class.forName(publisher)
                        .getConstructor(BatchWriter.class, RecordConverter.class, TopicRouter.class,
                                CaptureMetrics.class, SnapshotProgress.class)
                        .newInstance(writer, converter, router, metrics,
                                new SnapshotProgress(PostgresEndpoint.from(settings), BenchWorld.TABLES, registry));
        description = "EXPERIMENT " + publisher.substring(publisher.lastIndexOf('.') + 1)
                + (exactlyOnce ? " with the transactional writer" : " with reactor-kafka maxInFlight " + maxInFlight);
        engine = DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
                .using(DebeziumProperties.of(settings, PostgresEndpoint.from(settings), bootstrap, BenchWorld.TABLES,
                        heartbeat))
                .notifying(consumer)
                .using((success, message, error) -> {
                    if (!success || error != null) {
                        failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
                    }
                })
                .build();
    }

    void start() {
        thread.execute(engine);
    }

    Throwable failure() {
        return failure.get();
    }

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    @Override
    public void close() throws Exception {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        engine.close();
        thread.shutdown();
        thread.awaitTermination(60, TimeUnit.SECONDS);
        writer.close();
        sender.close();
    }
}
