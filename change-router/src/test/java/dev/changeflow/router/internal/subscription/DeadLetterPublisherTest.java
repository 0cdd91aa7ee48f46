package dev.changeflow.router.internal.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.router.subscription.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class DeadLetterPublisherTest {

    private static String header(ProducerRecord<?, ?> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    @Test
    void theDeadLetterKeepsKeyValueAndHeadersAndSaysWhereItCameFromAndWhy() {
        ConsumerRecord<String, byte[]> original = new ConsumerRecord<>("cdc.tasks-changes", 7, 4242L, "tasks:42",
                "{}".getBytes(StandardCharsets.UTF_8));
        original.headers().add("cdc-op", "u".getBytes(StandardCharsets.UTF_8));
        Instant now = Instant.parse("2026-11-21T10:00:00Z");

        ProducerRecord<String, byte[]> dead = DeadLetterPublisher.deadLetterOf(original,
                DeadLetterHeaders.REASON_HANDLER_FAILED, new IllegalStateException("boom"), 4, "cache-invalidator", now);

        assertThat(dead.topic()).isEqualTo("cdc.tasks-changes.dlt");
        assertThat(dead.key()).isEqualTo("tasks:42");
        assertThat(dead.value()).isEqualTo(original.value());
        assertThat(header(dead, "cdc-op")).isEqualTo("u");
        assertThat(header(dead, DeadLetterHeaders.ORIGINAL_TOPIC)).isEqualTo("cdc.tasks-changes");
        assertThat(header(dead, DeadLetterHeaders.ORIGINAL_PARTITION)).isEqualTo("7");
        assertThat(header(dead, DeadLetterHeaders.ORIGINAL_OFFSET)).isEqualTo("4242");
        assertThat(header(dead, DeadLetterHeaders.ORIGINAL_KEY)).isEqualTo("tasks:42");
        assertThat(header(dead, DeadLetterHeaders.REASON)).isEqualTo("handler-failed");
        assertThat(header(dead, DeadLetterHeaders.ERROR_CLASS)).isEqualTo("java.lang.IllegalStateException");
        assertThat(header(dead, DeadLetterHeaders.ERROR_MESSAGE)).isEqualTo("boom");
        assertThat(header(dead, DeadLetterHeaders.ATTEMPTS)).isEqualTo("4");
        assertThat(header(dead, DeadLetterHeaders.FAILED_AT)).isEqualTo("2026-11-21T10:00:00Z");
        assertThat(header(dead, DeadLetterHeaders.GROUP)).isEqualTo("cache-invalidator");
    }

    @Test
    void aRecordWithoutKeyOrMessageStillGetsEveryOtherHeader() {
        ConsumerRecord<String, byte[]> original = new ConsumerRecord<>("t", 0, 1L, null, new byte[0]);

        ProducerRecord<String, byte[]> dead = DeadLetterPublisher.deadLetterOf(original,
                DeadLetterHeaders.REASON_UNDECODABLE, new NullPointerException(), 0, "g", Instant.EPOCH);

        assertThat(dead.key()).isNull();
        assertThat(dead.headers().lastHeader(DeadLetterHeaders.ORIGINAL_KEY)).isNull();
        assertThat(header(dead, DeadLetterHeaders.ERROR_MESSAGE)).isEmpty();
        assertThat(header(dead, DeadLetterHeaders.ATTEMPTS)).isEqualTo("0");
    }
}
