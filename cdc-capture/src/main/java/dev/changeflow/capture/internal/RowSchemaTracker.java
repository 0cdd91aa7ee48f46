package dev.changeflow.capture.internal;

import dev.changeflow.capture.schema.TableShapes;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.router.RowSchemaRef;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.schema.ColumnShape;
import dev.changeflow.router.schema.TableShape;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The row schema version of each data record, from the shape of the table it was written with. Debezium learns a
 * table's new shape from the Relation message that precedes the first change after a DDL and builds a new Connect
 * schema for it; so a new Connect schema object is the only moment a table's shape can have changed, and the version
 * is cached per Connect schema object (an identity lookup per record).
 *
 * <p>On a new Connect schema the shape is read from the Postgres catalog (types, lengths, nullability, defaults, key)
 * when the catalog's columns match the record's (names, types and nullability, in order); if the catalog has moved on
 * since (a second migration right after the first), the shape comes from the Connect schema itself (Debezium's
 * propagated source types, {@code column.propagate.source.type}), which is exact for the record. Used by capture's
 * engine thread only.
 */
public final class RowSchemaTracker implements RecordConverter.RowSchemas, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RowSchemaTracker.class);
    static final String SOURCE_TYPE = "__debezium.source.column.type";
    static final String SOURCE_LENGTH = "__debezium.source.column.length";
    static final String SOURCE_SCALE = "__debezium.source.column.scale";

    private final RowSchemaVersions versions;
    private final PostgresEndpoint endpoint;
    private final AutoCloseable store;
    private final TopicRouter router;
    private final Map<Schema, RowSchemaRef> bySchema = new IdentityHashMap<>();
    private Connection catalog;

    /** @param store closed with this tracker */
    public RowSchemaTracker(RowSchemaVersions versions, TopicRouter router, PostgresEndpoint endpoint,
            AutoCloseable store) {
        this.versions = versions;
        this.router = router;
        this.endpoint = endpoint;
        this.store = store;
    }

    /** The version of {@code record}'s row shape, or null for a record without rows or whose schema was refused. */
    @Override
    public RowSchemaRef refFor(SourceRecord record, String table) throws InterruptedException {
        if (!(record.value() instanceof Struct value) || value.schema().field("after") == null) {
            return null;
        }
        Schema row = value.schema().field("after").schema();
        RowSchemaRef ref = bySchema.get(row);
        if (ref == null && !bySchema.containsKey(row)) {
            Struct source = value.getStruct("source");
            String qualified = source.getString("schema") + "." + source.getString("table");
            TableShape shape = shape(qualified, row, record.keySchema());
            ref = versions.refFor(table, router.topicFor(table), shape);
            bySchema.put(row, ref);
        }
        return ref;
    }

    private TableShape shape(String table, Schema row, Schema key) {
        TableShape fromRecord = fromConnect(table, row, key);
        try {
            Optional<TableShapes.CatalogTable> read = TableShapes.read(connection(), table);
            if (read.isPresent() && sameColumns(read.get().shape(), fromRecord)) {
                return read.get().shape();
            }
            LOG.info("The catalog's shape of {} differs from its change records' (a later migration?): the row "
                    + "schema comes from the records", table);
        } catch (SQLException e) {
            closeCatalog();
            LOG.warn("Cannot read the catalog shape of {} ({}): the row schema comes from the change records", table,
                    endpoint.describe(e));
        }
        return fromRecord;
    }

    /** The shape a Connect row schema describes, with Debezium's propagated source types. */
    static TableShape fromConnect(String table, Schema row, Schema key) {
        List<ColumnShape> columns = new ArrayList<>();
        for (Field field : row.fields()) {
            Map<String, String> p = field.schema().parameters() == null ? Map.of() : field.schema().parameters();
            String type = p.getOrDefault(SOURCE_TYPE, field.schema().type().getName()).toLowerCase(Locale.ROOT);
            boolean sized = type.endsWith("varchar") || type.endsWith("bpchar") || type.endsWith("numeric");
            Integer length = sized && p.containsKey(SOURCE_LENGTH) ? Integer.valueOf(p.get(SOURCE_LENGTH)) : null;
            Integer scale = type.endsWith("numeric") && length != null && p.containsKey(SOURCE_SCALE)
                    ? Integer.valueOf(p.get(SOURCE_SCALE)) : null;
            if (length != null && (length <= 0 || length == Integer.MAX_VALUE)) {
                length = null;
                scale = null;
            }
            Object defaultValue = field.schema().defaultValue();
            columns.add(new ColumnShape(field.name(), type, length, scale, field.schema().isOptional(),
                    defaultValue == null ? null : defaultValue.toString()));
        }
        List<String> primaryKey = key == null || key.type() != Schema.Type.STRUCT ? List.of()
                : key.fields().stream().map(Field::name).toList();
        return new TableShape(table, columns, primaryKey);
    }

    private static boolean sameColumns(TableShape catalog, TableShape record) {
        if (catalog.columns().size() != record.columns().size()) {
            return false;
        }
        for (int i = 0; i < catalog.columns().size(); i++) {
            ColumnShape a = catalog.columns().get(i);
            ColumnShape b = record.columns().get(i);
            if (!a.name().equals(b.name()) || !a.type().equals(b.type()) || a.nullable() != b.nullable()) {
                return false;
            }
        }
        return true;
    }

    private Connection connection() throws SQLException {
        if (catalog == null || catalog.isClosed()) {
            catalog = endpoint.connect();
        }
        return catalog;
    }

    private void closeCatalog() {
        if (catalog != null) {
            try {
                catalog.close();
            } catch (SQLException e) {
                // Broken already.
            }
            catalog = null;
        }
    }

    @Override
    public void close() {
        closeCatalog();
        try {
            store.close();
        } catch (Exception e) {
            LOG.debug("Closing the schema store failed", e);
        }
    }
}
