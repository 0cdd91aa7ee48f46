package dev.changeflow.router.ops;

import dev.changeflow.router.subscription.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Pure functions over dead-letter records: reading their headers, and the record a replay republishes. */
final class DeadLetterRecords {
    /** Every header the runtime and the replay add starts with this; a replay strips them all. */
    static final String DLT_HEADER_PREFIX = "dlt-";

    private DeadLetterRecords() {
    }

    /** The last value of header {@code name} as UTF-8, or null if absent. */
    static String header(ConsumerRecord<?, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null
                : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** When the record was dead-lettered: its {@code dlt-failed-at} header, else (absent, unreadable) its timestamp. */
    static Instant failedAt(ConsumerRecord<?, ?> record) {
        String value = header(record, DeadLetterHeaders.FAILED_AT);
        if (value != null) {
            try {
                return Instant.parse(value.trim());
            } catch (DateTimeParseException e) {
                // Written by hand or by another tool: the broker's timestamp is the next best answer.
            }
        }
        return Instant.ofEpochMilli(record.timestamp());
    }

    /** The ledger key, and the value of {@link DeadLetters#REPLAYED_FROM}: {@code <dlt topic>/<partition>/<offset>}. */
    static String coordinates(String topic, int partition, long offset) {
        return topic + "/" + partition + "/" + offset;
    }

    static String coordinates(ConsumerRecord<?, ?> record) {
        return coordinates(record.topic(), record.partition(), record.offset());
    }

    /**
     * The record that replays {@code deadLetter}: to the topic of its {@code dlt-original-topic} header, with the same
     * key and value, its headers without any {@code dlt-*} header, plus {@link DeadLetters#REPLAYED_FROM}. The
     * partition is left to the partitioner, which puts the key where its other changes are.
     *
     * @throws IllegalArgumentException if the record has no {@code dlt-original-topic} header
     */
    static ProducerRecord<String, byte[]> replayOf(ConsumerRecord<String, byte[]> deadLetter) {
        String originalTopic = header(deadLetter, DeadLetterHeaders.ORIGINAL_TOPIC);
        if (originalTopic == null || originalTopic.isBlank()) {
            throw new IllegalArgumentException(coordinates(deadLetter) + " has no " + DeadLetterHeaders.ORIGINAL_TOPIC
                    + " header, so where to replay it is unknown");
        }
        RecordHeaders headers = new RecordHeaders();
        for (Header h : deadLetter.headers()) {
            if (!h.key().startsWith(DLT_HEADER_PREFIX)) {
                headers.add(h);
            }
        }
        headers.add(DeadLetters.REPLAYED_FROM, coordinates(deadLetter).getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(originalTopic.trim(), null, deadLetter.key(), deadLetter.value(), headers);
    }

    /** What an operator sees of {@code record}: everything but its value. */
    static DeadLetters.DeadLetter describe(ConsumerRecord<String, byte[]> record, boolean replayed) {
        return new DeadLetters.DeadLetter(record.topic(), record.partition(), record.offset(),
                Instant.ofEpochMilli(record.timestamp()), record.key(),
                header(record, DeadLetterHeaders.REASON),
                header(record, DeadLetterHeaders.ERROR_CLASS),
                header(record, DeadLetterHeaders.ERROR_MESSAGE),
                failedAt(record),
                header(record, DeadLetterHeaders.GROUP),
                header(record, DeadLetterHeaders.ORIGINAL_TOPIC),
                parseInt(header(record, DeadLetterHeaders.ORIGINAL_PARTITION)),
                parseLong(header(record, DeadLetterHeaders.ORIGINAL_OFFSET)),
                replayed);
    }

    private static Integer parseInt(String value) {
        try {
            return value == null ? null : Integer.valueOf(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Long parseLong(String value) {
        try {
            return value == null ? null : Long.valueOf(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
