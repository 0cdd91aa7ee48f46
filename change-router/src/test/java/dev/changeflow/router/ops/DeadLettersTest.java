package dev.changeflow.router.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.router.ops.DeadLetters.Filter;
import dev.changeflow.router.subscription.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
    private static final Instant FAILED_AT = Instant.parse("2026-11-21T09:00:00Z");
    private static final Instant TIMESTAMP = Instant.parse("2026-11-21T09:00:05Z");

    @Test
    void aKeyFilterMatchesExactlyThatKey() {
        Filter filter = Filter.key("tasks:1");

        assertThat(filter.matches(deadLetter("tasks:1", Map.of()))).isTrue();
        assertThat(filter.matches(deadLetter("tasks:10", Map.of()))).isFalse();
        assertThat(filter.matches(deadLetter(null, Map.of()))).isFalse();
    }

    @Test
    void aSinceFilterMatchesRecordsThatFailedAtOrAfterItByTheFailedAtHeader() {
        ConsumerRecord<String, byte[]> record = deadLetter("tasks:1",
                Map.of(DeadLetterHeaders.FAILED_AT, FAILED_AT.toString()));

        assertThat(Filter.since(FAILED_AT).matches(record)).isTrue();
        assertThat(Filter.since(FAILED_AT.minusSeconds(1)).matches(record)).isTrue();
        assertThat(Filter.since(FAILED_AT.plusMillis(1)).matches(record))
                .as("the header wins over the later record timestamp").isFalse();
    }

    @Test
    void withoutAReadableFailedAtHeaderTheRecordTimestampIsWhenItFailed() {
        assertThat(DeadLetterRecords.failedAt(deadLetter("k", Map.of()))).isEqualTo(TIMESTAMP);
        assertThat(DeadLetterRecords.failedAt(deadLetter("k", Map.of(DeadLetterHeaders.FAILED_AT, "yesterday"))))
                .isEqualTo(TIMESTAMP);
        assertThat(Filter.since(TIMESTAMP).matches(deadLetter("k", Map.of()))).isTrue();
        assertThat(Filter.since(TIMESTAMP.plusMillis(1)).matches(deadLetter("k", Map.of()))).isFalse();
    }

    @Test
    void theAllFilterMatchesEverythingAndAFilterCannotHaveBothKeyAndSince() {
        assertThat(Filter.all().matches(deadLetter(null, Map.of()))).isTrue();
        assertThat(Filter.all()).hasToString("all records");
        assertThat(Filter.key("tasks:1")).hasToString("key tasks:1");
        assertThatThrownBy(() -> new Filter("tasks:1", FAILED_AT)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not both");
    }

    @Test
    void aReplayedRecordKeepsKeyValueAndOriginalHeadersDropsEveryDltHeaderAndSaysWhereItCameFrom() {
        RecordHeaders headers = new RecordHeaders();
        headers.add("cdc-op", "u".getBytes(StandardCharsets.UTF_8));
        headers.add("cdc-lsn", "42".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.ORIGINAL_TOPIC, "cdc.tasks-changes".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.ORIGINAL_OFFSET, "7".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.REASON, "handler-failed".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetters.REPLAYED_FROM, "cdc.tasks-changes.dlt/0/1".getBytes(StandardCharsets.UTF_8));
        byte[] value = {0, 1, 2, (byte) 0xff};
        ConsumerRecord<String, byte[]> dead = record("tasks:1", value, headers);

        ProducerRecord<String, byte[]> replay = DeadLetterRecords.replayOf(dead);

        assertThat(replay.topic()).isEqualTo("cdc.tasks-changes");
        assertThat(replay.partition()).as("the partitioner places the key").isNull();
        assertThat(replay.key()).isEqualTo("tasks:1");
        assertThat(replay.value()).isEqualTo(value);
        List<String> names = new ArrayList<>();
        for (Header h : replay.headers()) {
            names.add(h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8));
        }
        assertThat(names).containsExactly("cdc-op=u", "cdc-lsn=42",
                "dlt-replayed-from=cdc.tasks-changes.dlt/3/17");
    }

    @Test
    void aDeadLetterWithoutItsOriginalTopicCannotBeReplayed() {
        assertThatThrownBy(() -> DeadLetterRecords.replayOf(deadLetter("tasks:1", Map.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cdc.tasks-changes.dlt/3/17").hasMessageContaining("dlt-original-topic");
    }

    @Test
    void aDescribedDeadLetterCarriesItsHeadersButNotItsValue() {
        ConsumerRecord<String, byte[]> record = deadLetter("tasks:1", Map.of(
                DeadLetterHeaders.ORIGINAL_TOPIC, "cdc.tasks-changes",
                DeadLetterHeaders.ORIGINAL_PARTITION, "3",
                DeadLetterHeaders.ORIGINAL_OFFSET, "not a number",
                DeadLetterHeaders.REASON, "handler-failed",
                DeadLetterHeaders.ERROR_CLASS, "java.lang.IllegalStateException",
                DeadLetterHeaders.ERROR_MESSAGE, "boom",
                DeadLetterHeaders.FAILED_AT, FAILED_AT.toString(),
                DeadLetterHeaders.GROUP, "search-indexer"));

        DeadLetters.DeadLetter described = DeadLetterRecords.describe(record, true);

        assertThat(described).isEqualTo(new DeadLetters.DeadLetter("cdc.tasks-changes.dlt", 3, 17, TIMESTAMP,
                "tasks:1", "handler-failed", "java.lang.IllegalStateException", "boom", FAILED_AT, "search-indexer",
                "cdc.tasks-changes", 3, null, true));
    }

    private static ConsumerRecord<String, byte[]> deadLetter(String key, Map<String, String> headerValues) {
        RecordHeaders headers = new RecordHeaders();
        headerValues.forEach((k, v) -> headers.add(k, v.getBytes(StandardCharsets.UTF_8)));
        return record(key, "{}".getBytes(StandardCharsets.UTF_8), headers);
    }

    private static ConsumerRecord<String, byte[]> record(String key, byte[] value, RecordHeaders headers) {
        return new ConsumerRecord<>("cdc.tasks-changes.dlt", 3, 17, TIMESTAMP.toEpochMilli(),
                TimestampType.CREATE_TIME, -1, value.length, key, value, headers, Optional.empty());
    }
}
