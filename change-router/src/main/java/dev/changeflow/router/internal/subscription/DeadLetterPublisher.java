package dev.changeflow.router.internal.subscription;

import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.topics.ProducerDefaults;
import dev.changeflow.router.subscription.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import dev.changeflow.router.subscription.Outages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderOptions;
import reactor.kafka.sender.SenderRecord;

/**
 * Publishes records that cannot be handled to {@code <topic>.dlt}: key, value and headers as they were, plus
 * {@link DeadLetterHeaders}. A failed send is returned as an error; the caller retries an outage without limit. Any
 * other failure may come from a producer broken for good (closed, or in a fatal state), so the producer is replaced
 * and the send tried once more; if that fails too, the error stops the subscription, because the record can then be
 * neither handled nor set aside. Thread-safe.
 */
final class DeadLetterPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterPublisher.class);

    private final Map<String, Object> config;
    private final String group;
    private volatile KafkaSender<String, byte[]> sender;
    private volatile boolean closed;

    DeadLetterPublisher(Map<String, Object> clientProperties, String group) {
        this.config = ProducerDefaults.durable(clientProperties, group + "-dead-letters");
        this.sender = newSender();
        this.group = group;
    }

    private KafkaSender<String, byte[]> newSender() {
        return KafkaSender.create(SenderOptions.<String, byte[]>create(config).maxInFlight(64));
    }

    /**
     * Sends {@code record} to its dead-letter topic; completes once the broker has acknowledged it (acks=all).
     *
     * @param attempts how many times the handler was called for it alone (0 if it was undecodable)
     */
    Mono<Void> publish(ConsumerRecord<String, byte[]> record, String reason, Throwable error, int attempts) {
        ProducerRecord<String, byte[]> dead = deadLetterOf(record, reason, error, attempts, group, Instant.now());
        LOG.warn("Dead-lettering {}-{}@{} key {} to {} after {} attempt(s): {}", record.topic(), record.partition(),
                record.offset(), record.key(), dead.topic(), attempts, error.toString());
        return send(dead).onErrorResume(e -> !Outages.isOutage(e) && !closed, e -> {
            LOG.warn("Dead-letter producer of {} failed ({}); replacing it and sending once more", group, e.toString());
            reopen();
            return send(dead);
        });
    }

    private Mono<Void> send(ProducerRecord<String, byte[]> dead) {
        return Mono.defer(() -> sender.send(Mono.just(SenderRecord.create(dead, null)))
                .next()
                .flatMap(result -> result.exception() == null ? Mono.<Void>empty() : Mono.error(result.exception())));
    }

    /** Replaces the producer; the old one is closed in the background (it may hang on a broken connection). */
    private synchronized void reopen() {
        KafkaSender<String, byte[]> old = sender;
        sender = newSender();
        Thread closer = new Thread(old::close, "changeflow-dead-letters-close-" + group);
        closer.setDaemon(true);
        closer.start();
    }

    /** Closes the producer under the publisher, as a bug or a fatal producer error would leave it. For tests. */
    void breakProducerForTests() {
        sender.close();
    }

    /** The dead-letter record of {@code record}. Pure; visible for tests. */
    static ProducerRecord<String, byte[]> deadLetterOf(ConsumerRecord<String, byte[]> record, String reason,
            Throwable error, int attempts, String group, Instant now) {
        RecordHeaders headers = new RecordHeaders();
        for (Header h : record.headers()) {
            headers.add(h);
        }
        put(headers, DeadLetterHeaders.ORIGINAL_TOPIC, record.topic());
        put(headers, DeadLetterHeaders.ORIGINAL_PARTITION, Integer.toString(record.partition()));
        put(headers, DeadLetterHeaders.ORIGINAL_OFFSET, Long.toString(record.offset()));
        if (record.key() != null) {
            put(headers, DeadLetterHeaders.ORIGINAL_KEY, record.key());
        }
        put(headers, DeadLetterHeaders.REASON, reason);
        put(headers, DeadLetterHeaders.ERROR_CLASS, error.getClass().getName());
        put(headers, DeadLetterHeaders.ERROR_MESSAGE, error.getMessage() == null ? "" : error.getMessage());
        put(headers, DeadLetterHeaders.ATTEMPTS, Integer.toString(attempts));
        put(headers, DeadLetterHeaders.FAILED_AT, now.toString());
        put(headers, DeadLetterHeaders.GROUP, group);
        return new ProducerRecord<>(TopicRouter.deadLetterTopicFor(record.topic()), null, record.key(), record.value(),
                headers);
    }

    private static void put(RecordHeaders headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        closed = true;
        sender.close();
    }
}
