package dev.changeflow.capture.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.capture.schema.SchemaStore;
import dev.changeflow.capture.schema.SchemaVersion;
import dev.changeflow.router.RowSchemaRef;
import dev.changeflow.router.schema.ColumnShape;
import dev.changeflow.router.schema.CompatibilityMode;
import dev.changeflow.router.schema.TableShape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.junit.jupiter.api.Test;

class RowSchemaVersionsTest {
    private static final String TOPIC = "cdc.tasks-changes";
    private static final ColumnShape ID = new ColumnShape("id", "uuid", null, null, false, null);
    private static final ColumnShape TITLE = new ColumnShape("title", "text", null, null, false, null);
    private static final TableShape V1 = new TableShape("app.tasks", List.of(ID, TITLE), List.of("id"));
    private static final TableShape NULLABLE_ADDED = new TableShape("app.tasks", List.of(ID, TITLE,
            new ColumnShape("estimate", "int4", null, null, true, null)), List.of("id"));
    private static final TableShape REQUIRED_ADDED = new TableShape("app.tasks", List.of(ID, TITLE,
            new ColumnShape("code", "text", null, null, false, null)), List.of("id"));

    /** A schema store in memory, numbering as the schema topic does; it can be made unavailable or refusing. */
    private static final class InMemoryStore implements SchemaStore {
        final List<SchemaVersion> versions = new ArrayList<>();
        int unavailableFor;
        boolean refusing;

        @Override
        public List<SchemaVersion> load(List<String> subjects) {
            return List.copyOf(versions);
        }

        @Override
        public SchemaVersion register(SchemaVersion candidate) {
            if (unavailableFor > 0) {
                unavailableFor--;
                throw new Unavailable("down", null);
            }
            if (refusing) {
                throw new Refused("no");
            }
            int version = (int) versions.stream().filter(v -> v.subject().equals(candidate.subject())).count() + 1;
            SchemaVersion registered = new SchemaVersion(candidate.subject(), version, versions.size() + 1,
                    candidate.table(), candidate.schema(), candidate.compatibility(), candidate.breaking(),
                    candidate.registeredAt());
            versions.add(registered);
            return registered;
        }

        @Override
        public void close() {
        }
    }

    private final InMemoryStore store = new InMemoryStore();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<String> consumerLookups = new ArrayList<>();

    private RowSchemaVersions versions() throws InterruptedException {
        return new RowSchemaVersions(store, List.of(TOPIC + "-value"), table -> CompatibilityMode.BACKWARD, meters,
                (topic, then) -> consumerLookups.add(topic));
    }

    private double incompatible() {
        var counter = meters.find("changeflow.capture.schema.incompatible.changes").counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void theSameShapeIsTheSameVersionAndIsRegisteredOnce() throws Exception {
        RowSchemaVersions versions = versions();
        RowSchemaRef first = versions.refFor("tasks", TOPIC, V1);
        assertThat(versions.refFor("tasks", TOPIC, V1)).isEqualTo(first);
        assertThat(first).isEqualTo(new RowSchemaRef(TOPIC + "-value", 1, 1));
        assertThat(store.versions).hasSize(1);
        assertThat(versions().refFor("tasks", TOPIC, V1)).as("after a restart").isEqualTo(first);
        assertThat(store.versions).hasSize(1);
    }

    @Test
    void aCompatibleChangeIsANewVersionAndNotFlagged() throws Exception {
        RowSchemaVersions versions = versions();
        versions.refFor("tasks", TOPIC, V1);
        assertThat(versions.refFor("tasks", TOPIC, NULLABLE_ADDED).version()).isEqualTo(2);
        assertThat(incompatible()).isZero();
        assertThat(consumerLookups).isEmpty();
        assertThat(meters.get("changeflow.capture.schema.version").tag("table", "tasks").gauge().value())
                .isEqualTo(2.0);
    }

    @Test
    void anIncompatibleChangeIsANewVersionFlaggedWithItsBreakingChanges() throws Exception {
        RowSchemaVersions versions = versions();
        versions.refFor("tasks", TOPIC, V1);
        assertThat(versions.refFor("tasks", TOPIC, REQUIRED_ADDED).version()).isEqualTo(2);
        assertThat(incompatible()).isEqualTo(1.0);
        assertThat(consumerLookups).containsExactly(TOPIC);
        assertThat(store.versions.get(1).breaking()).containsExactly("column code (text NOT NULL) added");
        assertThat(store.versions.get(1).compatibility()).isEqualTo("BACKWARD");
    }

    @Test
    void aRolledBackMigrationReturnsToTheOldVersionAndIsCheckedAgainstTheShapePublishedLast() throws Exception {
        RowSchemaVersions versions = versions();
        versions.refFor("tasks", TOPIC, V1);
        versions.refFor("tasks", TOPIC, NULLABLE_ADDED);
        assertThat(versions.refFor("tasks", TOPIC, V1).version()).isEqualTo(1);
        assertThat(store.versions).hasSize(2);
        assertThat(incompatible()).as("dropping a nullable column breaks nothing").isZero();
    }

    @Test
    void anUnavailableStoreIsRetriedUntilItAnswersAndARefusingOneLeavesEventsWithoutAVersion() throws Exception {
        RowSchemaVersions versions = versions();
        store.unavailableFor = 2;
        assertThat(versions.refFor("tasks", TOPIC, V1).version()).isEqualTo(1);
        store.refusing = true;
        assertThat(versions.refFor("tasks", TOPIC, NULLABLE_ADDED)).isNull();
        assertThat(meters.get("changeflow.capture.schema.unregistered").counter().count()).isEqualTo(1.0);
    }

    @Test
    void aConnectSchemaWithPropagatedSourceTypesGivesTheTablesShape() {
        Schema row = SchemaBuilder.struct()
                .field("id", SchemaBuilder.string().parameter(RowSchemaTracker.SOURCE_TYPE, "UUID").build())
                .field("code", SchemaBuilder.string().optional().parameter(RowSchemaTracker.SOURCE_TYPE, "VARCHAR")
                        .parameter(RowSchemaTracker.SOURCE_LENGTH, "20").build())
                .field("amount", SchemaBuilder.bytes().optional().parameter(RowSchemaTracker.SOURCE_TYPE, "NUMERIC")
                        .parameter(RowSchemaTracker.SOURCE_LENGTH, "10").parameter(RowSchemaTracker.SOURCE_SCALE, "2")
                        .build())
                .field("priority", SchemaBuilder.int16().parameter(RowSchemaTracker.SOURCE_TYPE, "INT2")
                        .parameter(RowSchemaTracker.SOURCE_LENGTH, "5").defaultValue((short) 3).build())
                .build();
        Schema key = SchemaBuilder.struct().field("id", Schema.STRING_SCHEMA).build();

        TableShape shape = RowSchemaTracker.fromConnect("app.tasks", row, key);

        assertThat(shape.columns()).containsExactly(
                new ColumnShape("id", "uuid", null, null, false, null),
                new ColumnShape("code", "varchar", 20, null, true, null),
                new ColumnShape("amount", "numeric", 10, 2, true, null),
                new ColumnShape("priority", "int2", null, null, false, "3"));
        assertThat(shape.primaryKey()).containsExactly("id");
    }
}
