package dev.changeflow.router;

import static dev.changeflow.router.SampleEvents.STREAMED;
import static dev.changeflow.router.SampleEvents.TASK_ID;
import static dev.changeflow.router.SampleEvents.key;
import static dev.changeflow.router.SampleEvents.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ChangeEventTest {

    @Test
    void theEventIdIsTheSameOnEveryDeliveryOfAChange() {
        String id = ChangeEvent.eventIdFor("tasks", key(), 97_500_059_720L, Op.UPDATE);

        assertThat(ChangeEvent.eventIdFor("tasks", Map.of("id", TASK_ID), 97_500_059_720L, Op.UPDATE)).isEqualTo(id);
        assertThat(SampleEvents.update().eventId()).isEqualTo(id);
        assertThat(UUID.fromString(id).version()).isEqualTo(3);
        assertThat(id).isEqualTo(UUID.nameUUIDFromBytes(
                ("5:tasks2:id36:" + TASK_ID + "11:975000597206:update").getBytes(StandardCharsets.UTF_8))
                .toString());
    }

    @Test
    void theEventIdDiffersByTableKeyLsnAndOp() {
        String id = ChangeEvent.eventIdFor("tasks", key(), 100, Op.UPDATE);

        assertThat(List.of(
                ChangeEvent.eventIdFor("projects", key(), 100, Op.UPDATE),
                ChangeEvent.eventIdFor("tasks", Map.of("id", "another"), 100, Op.UPDATE),
                ChangeEvent.eventIdFor("tasks", key(), 101, Op.UPDATE),
                ChangeEvent.eventIdFor("tasks", key(), 100, Op.DELETE),
                ChangeEvent.eventIdFor("tasks", key(), 100, Op.READ)))
                .doesNotContain(id)
                .doesNotHaveDuplicates();
    }

    @Test
    void theEventIdCannotBeFooledByValuesThatContainSeparators() {
        Map<String, Object> first = new LinkedHashMap<>();
        first.put("a", "x,y");
        first.put("b", "z");
        Map<String, Object> second = new LinkedHashMap<>();
        second.put("a", "x");
        second.put("b", "y,z");

        assertThat(ChangeEvent.eventIdFor("t", first, 1, Op.CREATE))
                .isNotEqualTo(ChangeEvent.eventIdFor("t", second, 1, Op.CREATE));
    }

    @Test
    void integralNumbersOfAnyTypeBecomeLongAndGiveTheSameEventId() {
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "counters", Map.of("id", 7),
                null, Map.of("id", 7, "small", (short) 3, "big", BigInteger.TEN, "whole", new BigDecimal("42")),
                STREAMED);

        assertThat(event.key()).containsEntry("id", 7L);
        assertThat(event.after()).containsEntry("small", 3L).containsEntry("big", 10L).containsEntry("whole", 42L);
        assertThat(event.eventId()).isEqualTo(ChangeEvent.eventIdFor("counters", Map.of("id", 7L), STREAMED.lsn(),
                Op.CREATE));
    }

    @Test
    void doublesBecomeTheBigDecimalOfTheirShortestFormAndExactDecimalsKeepTheirScale() {
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "t", Map.of("id", 1),
                null, Map.of("ratio", 0.1, "price", new BigDecimal("12.50"), "huge", 1e20), STREAMED);

        assertThat(event.after().get("ratio")).isEqualTo(new BigDecimal("0.1"));
        assertThat(event.after().get("price")).isEqualTo(new BigDecimal("12.50"));
        assertThat(event.after().get("huge")).isEqualTo(new BigDecimal("100000000000000000000"));
    }

    @Test
    void debeziumsPlaceholderIsRejectedNamingTheColumn() {
        Map<String, Object> after = task("done", ChangeEvent.UNAVAILABLE_VALUE_PLACEHOLDER);

        assertThatThrownBy(() -> ChangeEvent.of(Op.UPDATE, "tasks", key(), task("todo", "x"), after, STREAMED))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("after.description")
                .hasMessageContaining("__debezium_unavailable_value")
                .hasMessageContaining("REPLICA IDENTITY FULL");
    }

    @Test
    void debeziumsPlaceholderIsRejectedInsideAnArray() {
        Map<String, Object> after = Map.of("labels", List.of("a", ChangeEvent.UNAVAILABLE_VALUE_PLACEHOLDER));

        assertThatThrownBy(() -> ChangeEvent.of(Op.CREATE, "tasks", key(), null, after, STREAMED))
                .hasMessageContaining("after.labels[1]");
    }

    @Test
    void createAndReadEventsHaveAnAfterImageOnly() {
        assertThatThrownBy(() -> ChangeEvent.of(Op.CREATE, "tasks", key(), task("todo", "x"), task("todo", "x"),
                STREAMED))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a create event for tasks:" + TASK_ID + " cannot have a before image");
        assertThatThrownBy(() -> ChangeEvent.of(Op.READ, "tasks", key(), null, null, STREAMED))
                .hasMessage("a read event for tasks:" + TASK_ID + " needs an after image");
    }

    @Test
    void deleteEventsHaveABeforeImageOnly() {
        assertThatThrownBy(() -> ChangeEvent.of(Op.DELETE, "tasks", key(), task("todo", "x"), task("todo", "x"),
                STREAMED))
                .hasMessageContaining("cannot have an after image");
        assertThatThrownBy(() -> ChangeEvent.of(Op.DELETE, "tasks", key(), null, null, STREAMED))
                .hasMessageContaining("needs a before image");
    }

    @Test
    void updateEventsNeedAnAfterImageButMayLackABeforeImage() {
        assertThat(ChangeEvent.of(Op.UPDATE, "tasks", key(), null, task("done", "x"), STREAMED).before()).isNull();
        assertThatThrownBy(() -> ChangeEvent.of(Op.UPDATE, "tasks", key(), task("todo", "x"), null, STREAMED))
                .hasMessageContaining("needs an after image");
    }

    @Test
    void theKeyMustHaveNonNullValues() {
        Map<String, Object> key = new HashMap<>();
        key.put("id", null);

        assertThatThrownBy(() -> ChangeEvent.of(Op.CREATE, "tasks", Map.of(), null, task("todo", "x"), STREAMED))
                .hasMessageContaining("at least one primary key column");
        assertThatThrownBy(() -> ChangeEvent.of(Op.CREATE, "tasks", key, null, task("todo", "x"), STREAMED))
                .hasMessageContaining("key.id is null");
    }

    @Test
    void valuesOfOtherTypesAreRejectedNamingTheColumn() {
        Map<String, Object> after = Map.of("created_at", Instant.EPOCH);

        assertThatThrownBy(() -> ChangeEvent.of(Op.CREATE, "tasks", Map.of("id", UUID.randomUUID()), null, after,
                STREAMED))
                .hasMessageContaining("key.id has unsupported type java.util.UUID");
        assertThatThrownBy(() -> ChangeEvent.of(Op.CREATE, "tasks", key(), null, after, STREAMED))
                .hasMessageContaining("after.created_at has unsupported type java.time.Instant");
        assertThatThrownBy(() -> ChangeEvent.of(Op.CREATE, "tasks", key(), null, Map.of("x", Double.NaN), STREAMED))
                .hasMessageContaining("after.x is NaN");
    }

    @Test
    void rowsAreUnmodifiableCopiesThatKeepColumnOrderAndNulls() {
        Map<String, Object> after = task("todo", "x");
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "tasks", key(), null, after, STREAMED);
        after.put("status", "changed");

        assertThat(event.after()).containsEntry("status", "todo").containsEntry("assignee", null);
        assertThat(event.after().keySet()).containsExactlyElementsOf(task("todo", "x").keySet());
        assertThatThrownBy(() -> event.after().put("status", "x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void theKafkaKeyIsTheTableAndThePrimaryKeyValuesInOrder() {
        Map<String, Object> composite = new LinkedHashMap<>();
        composite.put("project_id", "p1");
        composite.put("user_id", 42);

        assertThat(SampleEvents.update().kafkaKey()).isEqualTo("tasks:" + TASK_ID);
        assertThat(ChangeEvent.of(Op.CREATE, "members", composite, null, composite, STREAMED).kafkaKey())
                .isEqualTo("members:p1,42");
    }

    @Test
    void theRowIsTheAfterImageOrTheBeforeImageOfADelete() {
        ChangeEvent update = SampleEvents.update();
        ChangeEvent delete = SampleEvents.delete();

        assertThat(update.row()).isSameAs(update.after()).containsEntry("status", "done");
        assertThat(delete.row()).isSameAs(delete.before()).containsEntry("status", "done");
    }

    @Test
    void debeziumOpCodesMapToOps() {
        assertThat(Arrays.asList("c", "u", "d", "r")).map(Op::fromDebezium)
                .containsExactly(Op.CREATE, Op.UPDATE, Op.DELETE, Op.READ);
        assertThat(Op.UPDATE.jsonName()).isEqualTo("update");
        assertThatThrownBy(() -> Op.fromDebezium("t"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'t'");
    }

    @Test
    void theCommitTimeIsRequiredAndKeptToTheMicrosecond() {
        assertThat(new Source(1, 2, Instant.parse("2026-11-21T04:53:17.123456789Z"), false).commitTs())
                .isEqualTo(Instant.parse("2026-11-21T04:53:17.123456Z"));
        assertThatThrownBy(() -> new Source(1, 2, null, false)).isInstanceOf(NullPointerException.class)
                .hasMessage("commitTs");
    }
}
