package dev.changeflow.router;

import static dev.changeflow.router.ChangeEventCodecTest.PLAIN;
import static dev.changeflow.router.ChangeEventCodecTest.edit;
import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChangeEventSchemaTest {

    private static final JsonSchema SCHEMA = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
            .getSchema(ChangeEventSchema.load(), SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build());

    @Test
    void everyEncodedSampleEventIsValid() {
        for (ChangeEvent event : SampleEvents.all()) {
            assertThat(validate(ChangeEventCodec.encode(event))).as(event.op().jsonName()).isEmpty();
        }
    }

    @Test
    void anEventWithAValueOfEveryTypeIsValid() {
        ChangeEvent event = ChangeEvent.of(Op.CREATE, "samples", Map.of("id", 1), null, SampleEvents.everyType(),
                SampleEvents.STREAMED);

        assertThat(validate(ChangeEventCodec.encode(event))).isEmpty();
        assertThat(ChangeEventCodec.decode(ChangeEventCodec.encode(event))).isEqualTo(event);
    }

    @Test
    void anUpdateWithoutBeforeImageAndTheHighestLsnAreValid() {
        ChangeEvent event = ChangeEvent.of(Op.UPDATE, "tasks", SampleEvents.key(), null,
                SampleEvents.task("done", "x"), new Source(-1L, 0, SampleEvents.STREAMED.commitTs(), false));

        assertThat(validate(ChangeEventCodec.encode(event))).isEmpty();
    }

    @Test
    void debeziumsPlaceholderAsAColumnValueIsInvalid() {
        byte[] inColumn = edit(SampleEvents.update(),
                e -> e.withObjectProperty("after").put("description", ChangeEvent.UNAVAILABLE_VALUE_PLACEHOLDER));
        byte[] inArray = edit(SampleEvents.update(),
                e -> e.withObjectProperty("before").putArray("labels").add(ChangeEvent.UNAVAILABLE_VALUE_PLACEHOLDER));

        assertThat(types(validate(inColumn))).contains("not");
        assertThat(types(validate(inArray))).contains("not");
    }

    @Test
    void anExtraTopLevelFieldIsInvalid() {
        assertThat(types(validate(edit(SampleEvents.create(), e -> e.put("origin", "eu-west")))))
                .contains("additionalProperties");
        assertThat(types(validate(edit(SampleEvents.create(), e -> e.withObjectProperty("source").put("db", "app")))))
                .contains("additionalProperties");
    }

    @Test
    void anUnknownOpIsInvalid() {
        assertThat(types(validate(edit(SampleEvents.create(), e -> e.put("op", "upsert"))))).contains("enum");
    }

    @Test
    void beforeAndAfterMustFitTheOp() {
        assertThat(validate(edit(SampleEvents.create(), e -> e.set("before", e.get("after"))))).isNotEmpty();
        assertThat(validate(edit(SampleEvents.delete(), e -> e.set("after", e.get("before"))))).isNotEmpty();
        assertThat(validate(edit(SampleEvents.delete(), e -> e.putNull("before")))).isNotEmpty();
    }

    @Test
    void otherVersionsNestedObjectsAndMalformedSourcesAreInvalid() {
        assertThat(types(validate(edit(SampleEvents.create(), e -> e.put("schemaVersion", 2))))).contains("const");
        assertThat(validate(edit(SampleEvents.create(), e -> e.withObjectProperty("after").putObject("nested")))).isNotEmpty();
        assertThat(validate(edit(SampleEvents.create(), e -> e.withObjectProperty("source").put("lsn", -1)))).isNotEmpty();
        assertThat(validate(edit(SampleEvents.create(), e -> e.withObjectProperty("source").put("commitTs", "yesterday"))))
                .isNotEmpty();
        assertThat(validate(edit(SampleEvents.create(), e -> e.withObjectProperty("key").putNull("id")))).isNotEmpty();
    }

    @Test
    void theSchemaIsIdentifiedAndDescribesEveryField() throws IOException {
        var schema = PLAIN.readTree(ChangeEventSchema.load());

        assertThat(schema.get("$id").textValue()).isEqualTo(ChangeEventSchema.ID);
        assertThat(schema.get("properties").fieldNames()).toIterable()
                .containsExactly("schemaVersion", "eventId", "op", "table", "key", "before", "after", "source",
                        "rowSchema");
        assertThat(schema.get("required")).extracting(JsonNode::textValue).doesNotContain("rowSchema");
        schema.get("properties").forEach(field -> assertThat(field.has("description")).isTrue());
        schema.get("properties").get("source").get("properties")
                .forEach(field -> assertThat(field.has("description")).isTrue());
    }

    /** The schema violations of {@code json}; empty when it is valid. */
    static Set<ValidationMessage> validate(byte[] json) {
        return SCHEMA.validate(new String(json, StandardCharsets.UTF_8), InputFormat.JSON);
    }

    private static List<String> types(Set<ValidationMessage> messages) {
        return messages.stream().map(ValidationMessage::getType).toList();
    }
}
