package dev.changeflow.router;

import static dev.changeflow.router.SampleEvents.STREAMED;
import static dev.changeflow.router.SampleEvents.key;
import static dev.changeflow.router.SampleEvents.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ChangeEventCodecTest {

    /** Reads JSON the way a careful consumer would: decimals exact, scale kept. */
    static final ObjectMapper PLAIN = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    @Test
    void everySampleEventDecodesToAnEqualEvent() {
        for (ChangeEvent event : SampleEvents.all()) {
            assertThat(ChangeEventCodec.decode(ChangeEventCodec.encode(event))).isEqualTo(event);
        }
    }

    @Test
    void anEncodedEventHasTheDocumentedFieldsInOrder() throws IOException {
        JsonNode json = PLAIN.readTree(ChangeEventCodec.encode(SampleEvents.create()));

        assertThat(json.fieldNames()).toIterable().containsExactly(
                "schemaVersion", "eventId", "op", "table", "key", "before", "after", "source");
        assertThat(json.get("source").fieldNames()).toIterable().containsExactly(
                "lsn", "txId", "commitTs", "snapshot");
        assertThat(json.get("schemaVersion").intValue()).isEqualTo(1);
        assertThat(json.get("op").textValue()).isEqualTo("create");
        assertThat(json.get("before").isNull()).isTrue();
        assertThat(json.get("after").get("priority").isIntegralNumber()).isTrue();
        assertThat(json.get("source").get("lsn").longValue()).isEqualTo(97_500_059_720L);
        assertThat(json.get("source").get("commitTs").textValue()).isEqualTo("2026-11-21T04:53:17.123456Z");
    }

    @Test
    void anEventNamingItsRowSchemaWritesItLastAndReadsItBackThroughTheSchema() throws IOException {
        ChangeEvent sample = SampleEvents.create();
        ChangeEvent event = ChangeEvent.of(sample.op(), sample.table(), sample.key(), sample.before(), sample.after(),
                sample.source(), new RowSchemaRef("cdc.tasks-changes-value", 3, 17));

        byte[] json = ChangeEventCodec.encode(event);

        JsonNode tree = PLAIN.readTree(json);
        assertThat(tree.fieldNames()).toIterable().last().isEqualTo("rowSchema");
        assertThat(tree.get("rowSchema").toString())
                .isEqualTo("{\"subject\":\"cdc.tasks-changes-value\",\"version\":3,\"id\":17}");
        assertThat(ChangeEventCodec.decodeChecked(json)).isEqualTo(event);
        assertThat(ChangeEventCodec.decode(ChangeEventCodec.encode(SampleEvents.create())).rowSchema()).isNull();
    }

    @Test
    void aValueOfEveryTypeSurvivesARoundTrip() throws IOException {
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "samples", Map.of("id", 1), null, SampleEvents.everyType(),
                STREAMED);

        byte[] json = ChangeEventCodec.encode(event);

        assertThat(ChangeEventCodec.decode(json)).isEqualTo(event);
        assertThat(PLAIN.readTree(json).get("after").toString()).isEqualTo("{\"id\":1,\"name\":\"Überprüfung 🚀\","
                + "\"nothing\":null,\"flag\":true,\"count\":9223372036854775807,\"price\":12.50,\"ratio\":0.25,"
                + "\"labels\":[\"cdc\",\"docs\"],\"matrix\":[[1,2],[3]]}");
    }

    @Test
    void theCommitTimeAlwaysHasSixFractionDigits() throws IOException {
        Source whole = new Source(1, 1, Instant.parse("2026-11-21T04:53:17Z"), false);
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "tasks", key(), null, key(), whole);

        JsonNode json = PLAIN.readTree(ChangeEventCodec.encode(event));

        assertThat(json.get("source").get("commitTs").textValue()).isEqualTo("2026-11-21T04:53:17.000000Z");
        assertThat(ChangeEventCodec.decode(ChangeEventCodec.encode(event))).isEqualTo(event);
    }

    @Test
    void exactDecimalsLargeNumbersAndTheHighestLsnSurviveARoundTrip() throws IOException {
        Map<String, Object> after = Map.of(
                "price", new BigDecimal("12.50"),
                "tiny", new BigDecimal("0.000010"),
                "wide", new BigDecimal("123456789012345678901234567890.123"),
                "huge", new BigDecimal("123456789012345678901234567890"),
                "max", Long.MAX_VALUE,
                "min", Long.MIN_VALUE);
        Source highestLsn = new Source(-1L, 4_294_967_295L, STREAMED.commitTs(), false);
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "numbers", Map.of("id", 1), null, after, highestLsn);

        byte[] json = ChangeEventCodec.encode(event);
        ChangeEvent decoded = ChangeEventCodec.decode(json);

        assertThat(decoded).isEqualTo(event);
        assertThat(((BigDecimal) decoded.after().get("price")).scale()).isEqualTo(2);
        assertThat(decoded.after().get("max")).isEqualTo(Long.MAX_VALUE);
        assertThat(decoded.source().lsn()).isEqualTo(-1L);
        assertThat(PLAIN.readTree(json).get("source").get("lsn").toString()).isEqualTo("18446744073709551615");
        assertThat(new String(json, StandardCharsets.UTF_8)).contains("\"tiny\":0.000010");
    }

    @Test
    void unicodeALargeDescriptionAndAMissingBeforeImageSurviveARoundTrip() {
        String large = "Überprüfung 🚀 日本語 \"quoted\" \\ \n".repeat(40_000);
        ChangeEvent event = ChangeEvent.of(Op.UPDATE, "tasks", key(), null, task("done", large), STREAMED);

        ChangeEvent decoded = ChangeEventCodec.decode(ChangeEventCodec.encode(event));

        assertThat(decoded).isEqualTo(event);
        assertThat(decoded.before()).isNull();
        assertThat(decoded.after().get("description")).isEqualTo(large);
    }

    @Test
    void fieldsAddedLaterWithinVersionOneAreIgnored() {
        byte[] json = edit(SampleEvents.update(), e -> {
            e.put("origin", "eu-west");
            e.withObjectProperty("source").put("db", "app");
        });

        assertThat(ChangeEventCodec.decode(json)).isEqualTo(SampleEvents.update());
    }

    @Test
    void invalidJsonIsMalformed() {
        assertThatThrownBy(() -> ChangeEventCodec.decode("{\"schemaVersion\": 1,".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageStartingWith("Not a valid change event: invalid JSON: ");
        assertThatThrownBy(() -> ChangeEventCodec.decode("[1]".getBytes(StandardCharsets.UTF_8)))
                .hasMessage("Not a valid change event: expected a JSON object, found array");
        assertThatThrownBy(() -> ChangeEventCodec.decode(new byte[0]))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void aMissingFieldIsNamed() {
        assertThatThrownBy(() -> ChangeEventCodec.decode(edit(SampleEvents.create(), e -> e.remove("table"))))
                .isInstanceOf(MalformedEventException.class)
                .hasMessage("Not a valid change event: missing required field table");
        assertThatThrownBy(() -> ChangeEventCodec.decode(
                edit(SampleEvents.create(), e -> e.withObjectProperty("source").remove("commitTs"))))
                .hasMessage("Not a valid change event: missing required field source.commitTs");
    }

    @Test
    void aFieldOfTheWrongTypeIsNamed() {
        assertThatThrownBy(() -> ChangeEventCodec.decode(
                edit(SampleEvents.create(), e -> e.withObjectProperty("source").put("snapshot", "yes"))))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageStartingWith("Not a valid change event: field source.snapshot: ");
    }

    @Test
    void anUnknownOpIsNamed() {
        assertThatThrownBy(() -> ChangeEventCodec.decode(edit(SampleEvents.create(), e -> e.put("op", "upsert"))))
                .isInstanceOf(MalformedEventException.class)
                .hasMessage("Not a valid change event: unknown op 'upsert'; expected one of create, update, "
                        + "delete, read");
    }

    @Test
    void anotherSchemaVersionIsRejected() {
        assertThatThrownBy(() -> ChangeEventCodec.decode(edit(SampleEvents.create(), e -> e.put("schemaVersion", 2))))
                .isInstanceOf(MalformedEventException.class)
                .hasMessage("Not a valid change event: unsupported schemaVersion 2; this reader understands "
                        + "version 1 only");
    }

    @Test
    void whatTheEventRulesForbidIsMalformed() {
        assertThatThrownBy(() -> ChangeEventCodec.decode(
                edit(SampleEvents.create(), e -> e.set("before", e.get("after")))))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("cannot have a before image");
        assertThatThrownBy(() -> ChangeEventCodec.decode(edit(SampleEvents.update(),
                e -> e.withObjectProperty("after").put("description", ChangeEvent.UNAVAILABLE_VALUE_PLACEHOLDER))))
                .isInstanceOf(MalformedEventException.class)
                .hasMessageContaining("after.description holds Debezium's placeholder");
        assertThatThrownBy(() -> ChangeEventCodec.decode(
                edit(SampleEvents.create(), e -> e.withObjectProperty("after").putObject("nested").put("a", 1))))
                .hasMessageContaining("after.nested has unsupported type");
    }

    @Test
    void onlyVersionOneEventsAreEncoded() {
        ChangeEvent create = SampleEvents.create();
        ChangeEvent v2 = new ChangeEvent(2, create.eventId(), create.op(), create.table(), create.key(), null,
                create.after(), create.source());

        assertThatThrownBy(() -> ChangeEventCodec.encode(v2)).hasMessageContaining("schemaVersion 2");
    }

    /** The JSON of {@code event}, changed by {@code change}. */
    static byte[] edit(ChangeEvent event, Consumer<ObjectNode> change) {
        try {
            ObjectNode json = (ObjectNode) PLAIN.readTree(ChangeEventCodec.encode(event));
            change.accept(json);
            return PLAIN.writeValueAsBytes(json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
