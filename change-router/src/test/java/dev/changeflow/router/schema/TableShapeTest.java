package dev.changeflow.router.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableShapeTest {
    private static final TableShape TASKS = new TableShape("app.tasks", List.of(
            new ColumnShape("id", "uuid", null, null, false, "gen_random_uuid()"),
            new ColumnShape("code", "varchar", 20, null, false, "'c1'::character varying"),
            new ColumnShape("amount", "numeric", 10, 2, true, null),
            new ColumnShape("tags", "_text", null, null, true, null),
            new ColumnShape("priority", "int2", null, null, false, "3"),
            new ColumnShape("due_date", "date", null, null, true, null)), List.of("id"));

    @Test
    void aShapeReadsBackFromItsJsonSchemaAndWritesTheSameText() {
        String json = TASKS.toJsonSchema();
        assertThat(TableShape.fromJsonSchema(json)).isEqualTo(TASKS);
        assertThat(TableShape.fromJsonSchema(json).toJsonSchema()).isEqualTo(json);
    }

    @Test
    void theJsonSchemaAcceptsTheEventsRowsAndRejectsAWrongType() throws Exception {
        JsonMapper mapper = JsonMapper.builder().build();
        var schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(TASKS.toJsonSchema());
        JsonNode good = mapper.readTree("""
                {"before": null, "after": {"id": "3f2c9a4e-0b1d-4c6e-9f8a-2d7b5e1c4a3f", "code": "c1",
                 "amount": 12.50, "tags": ["a", null], "priority": 2, "due_date": null}, "op": "create"}""");
        assertThat(schema.validate(good)).isEmpty();
        JsonNode wrong = mapper.readTree("""
                {"before": null, "after": {"id": "3f2c9a4e-0b1d-4c6e-9f8a-2d7b5e1c4a3f", "code": null,
                 "amount": 1, "tags": null, "priority": "high", "due_date": null}}""");
        assertThat(schema.validate(wrong)).isNotEmpty();
    }

    @Test
    void aShapeRefusesDuplicateColumnsAndAKeyThatIsNoColumn() {
        ColumnShape id = new ColumnShape("id", "uuid", null, null, false, null);
        assertThatThrownBy(() -> new TableShape("app.t", List.of(id, id), List.of("id")))
                .hasMessageContaining("lists column id twice");
        assertThatThrownBy(() -> new TableShape("app.t", List.of(id), List.of("key")))
                .hasMessageContaining("primary key column key");
    }

    @Test
    void sqlTypesReadAsSqlWritesThem() {
        assertThat(TASKS.column("code").orElseThrow().sqlType()).isEqualTo("varchar(20)");
        assertThat(TASKS.column("amount").orElseThrow().sqlType()).isEqualTo("numeric(10,2)");
        assertThat(TASKS.column("tags").orElseThrow().sqlType()).isEqualTo("text[]");
    }
}
