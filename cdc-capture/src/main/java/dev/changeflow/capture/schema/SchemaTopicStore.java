package dev.changeflow.capture.schema;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Keeps row schema versions in a compacted Kafka topic: one record per version, key {@code <subject>:<version>}, the
 * {@link SchemaVersion} as JSON. Capture (the lease holder) is its only writer, so versions and ids are assigned
 * here: the next version of the subject, and the next id across subjects. Writes are acknowledged by all in-sync
 * replicas before a version is used. Not thread-safe: capture's engine thread registers.
 */
public final class SchemaTopicStore implements SchemaStore {
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
    private final String bootstrap;
    private final String topic;
    private final KafkaProducer<String, byte[]> producer;
    private List<SchemaVersion> known = List.of();

    public SchemaTopicStore(String bootstrap, String topic) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) SEND_TIMEOUT.toMillis(),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, SEND_TIMEOUT.toMillis()),
                new StringSerializer(), new ByteArraySerializer());
    }

    @Override
    public List<SchemaVersion> load(List<String> subjects) {
        try {
            known = SchemaVersions.read(bootstrap, topic, SEND_TIMEOUT).all();
        } catch (RuntimeException e) {
            throw new Unavailable("Cannot read schema topic " + topic + ": " + e.getMessage(), e);
        }
        return known.stream().filter(v -> subjects.contains(v.subject())).toList();
    }

    @Override
    public SchemaVersion register(SchemaVersion candidate) {
        for (SchemaVersion v : known) {
            if (v.subject().equals(candidate.subject()) && v.schema().equals(candidate.schema())) {
                return v;
            }
        }
        int version = 1 + known.stream().filter(v -> v.subject().equals(candidate.subject()))
                .mapToInt(SchemaVersion::version).max().orElse(0);
        int id = 1 + known.stream().mapToInt(SchemaVersion::id).max().orElse(0);
        SchemaVersion registered = new SchemaVersion(candidate.subject(), version, id, candidate.table(),
                candidate.schema(), candidate.compatibility(), candidate.breaking(), candidate.registeredAt());
        try {
            producer.send(new ProducerRecord<>(topic, registered.subject() + ":" + version,
                    SchemaVersions.encode(registered))).get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable("Interrupted while writing to schema topic " + topic, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new Unavailable("Cannot write to schema topic " + topic + ": "
                    + Objects.requireNonNullElse(e.getCause(), e).getMessage(), e);
        }
        known = java.util.stream.Stream.concat(known.stream(), java.util.stream.Stream.of(registered)).toList();
        return registered;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
