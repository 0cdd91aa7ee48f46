package dev.changeflow.capture.internal;

import dev.changeflow.capture.schema.SchemaStore;
import dev.changeflow.capture.schema.SchemaVersion;
import dev.changeflow.router.RowSchemaRef;
import dev.changeflow.router.schema.CompatibilityMode;
import dev.changeflow.router.schema.SchemaCompatibility;
import dev.changeflow.router.schema.ShapeChange;
import dev.changeflow.router.schema.TableShape;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The row schema versions of the captured tables: which version a shape is, registering new shapes, and flagging a
 * change that breaks its table's compatibility mode. Used by capture's engine thread only.
 *
 * <p>A shape equal to a registered version of its subject is that version (a rolled-back migration returns to its
 * old version, as a schema registry does). A new shape is registered, then compared with the shape published just
 * before it. A difference that breaks the table's mode never stops capture: the new version is used, and the change
 * is flagged by the counter {@code changeflow.capture.schema.incompatible.changes{table,mode}}, a WARN log line
 * naming the table, the columns and the mode, and a second line naming the consumer groups of the table's topic
 * (looked up in the background). The gauge {@code changeflow.capture.schema.version{table}} is the version in use.
 *
 * <p>An outage of the store ({@link SchemaStore.Unavailable}) is retried with backoff (200 ms doubling to 10 s) for
 * as long as it lasts, holding the batch: events are never published without their version. A store that refuses a
 * schema for good ({@link SchemaStore.Refused}) leaves those events without {@code rowSchema}, counted by
 * {@code changeflow.capture.schema.unregistered} and logged.
 */
public final class RowSchemaVersions {
    private static final Logger LOG = LoggerFactory.getLogger(RowSchemaVersions.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    private final SchemaStore store;
    private final Function<String, CompatibilityMode> modes;
    private final MeterRegistry registry;
    private final ConsumerGroupsOfTopic consumers;
    private final Map<String, List<SchemaVersion>> versions = new HashMap<>();
    /** Per subject, the shape published last, and its version. */
    private final Map<String, SchemaVersion> current = new HashMap<>();
    private final Map<String, AtomicInteger> versionGauges = new ConcurrentHashMap<>();

    /** Looks up, in the background, the consumer groups reading a topic, and hands them to a callback. */
    @FunctionalInterface
    public interface ConsumerGroupsOfTopic {
        void lookUp(String topic, java.util.function.Consumer<List<String>> then);
    }

    /**
     * @param subjects the subjects of the captured tables' topics, whose versions are loaded now
     * @param modes the compatibility mode of a bare table name
     */
    public RowSchemaVersions(SchemaStore store, List<String> subjects, Function<String, CompatibilityMode> modes,
            MeterRegistry registry, ConsumerGroupsOfTopic consumers) throws InterruptedException {
        this.store = store;
        this.modes = modes;
        this.registry = registry;
        this.consumers = consumers;
        for (SchemaVersion v : retrying(() -> store.load(subjects), "loading row schema versions")) {
            versions.computeIfAbsent(v.subject(), s -> new ArrayList<>()).add(v);
        }
        versions.forEach((subject, list) -> {
            list.sort(java.util.Comparator.comparingInt(SchemaVersion::version));
            current.put(subject, list.get(list.size() - 1));
        });
    }

    /**
     * The version of {@code shape} for events of {@code table} (bare name) on {@code topic}, registering it if new,
     * or null if the store refused it for good.
     */
    public RowSchemaRef refFor(String table, String topic, TableShape shape) throws InterruptedException {
        String subject = RowSchemaRef.subjectOf(topic);
        String schema = shape.toJsonSchema();
        SchemaVersion previous = current.get(subject);
        if (previous != null && previous.schema().equals(schema)) {
            return ref(previous);
        }
        CompatibilityMode mode = modes.apply(table);
        List<ShapeChange> breaking = previous == null ? List.of()
                : SchemaCompatibility.breaking(TableShape.fromJsonSchema(previous.schema()), shape, mode);
        SchemaVersion known = versions.getOrDefault(subject, List.of()).stream()
                .filter(v -> v.schema().equals(schema)).findFirst().orElse(null);
        SchemaVersion version;
        if (known != null) {
            version = known;
        } else {
            SchemaVersion candidate = new SchemaVersion(subject, 0, 0, shape.table(), schema, mode.name(),
                    breaking.stream().map(ShapeChange::description).toList(), Instant.now());
            try {
                version = retrying(() -> store.register(candidate), "registering the row schema of " + shape.table());
            } catch (SchemaStore.Refused e) {
                registry.counter("changeflow.capture.schema.unregistered", Tags.of("table", table)).increment();
                LOG.error("Row schema of {} not registered, its events go out without rowSchema until it is: {}",
                        shape.table(), e.getMessage());
                return null;
            }
            versions.computeIfAbsent(subject, s -> new ArrayList<>()).add(version);
        }
        current.put(subject, version);
        versionGauges.computeIfAbsent(table, t -> registry.gauge("changeflow.capture.schema.version",
                Tags.of("table", t), new AtomicInteger())).set(version.version());
        if (previous == null) {
            LOG.info("Row schema of {}: {} version {} (id {})", shape.table(), subject, version.version(),
                    version.id());
        } else if (breaking.isEmpty()) {
            LOG.info("Row schema of {} changed compatibly under {}: {} version {} -> {}", shape.table(), mode, subject,
                    previous.version(), version.version());
        } else {
            flag(table, topic, shape.table(), mode, previous, version, breaking);
        }
        return ref(version);
    }

    private void flag(String table, String topic, String qualified, CompatibilityMode mode, SchemaVersion previous,
            SchemaVersion version, List<ShapeChange> breaking) {
        Counter.builder("changeflow.capture.schema.incompatible.changes")
                .description("Changes of a table's row schema that break its compatibility mode")
                .tags("table", table, "mode", mode.name()).register(registry).increment();
        List<String> columns = breaking.stream().map(ShapeChange::column).filter(java.util.Objects::nonNull)
                .distinct().toList();
        String what = breaking.stream().map(ShapeChange::description).reduce((a, b) -> a + "; " + b).orElse("");
        LOG.warn("Incompatible schema change of {} under {}: columns {}: {}. {} version {} -> {}; capture goes on "
                + "publishing with the new version", qualified, mode, columns, what, version.subject(),
                previous.version(), version.version());
        consumers.lookUp(topic, groups -> LOG.warn("Consumers affected by the incompatible schema change of {} "
                + "(version {}): consumer groups of {}: {}", qualified, version.version(), topic,
                groups.isEmpty() ? "none found" : String.join(", ", groups)));
    }

    private static RowSchemaRef ref(SchemaVersion version) {
        return new RowSchemaRef(version.subject(), version.version(), version.id());
    }

    private interface Call<T> {
        T run();
    }

    private static <T> T retrying(Call<T> call, String what) throws InterruptedException {
        long backoff = 200;
        while (true) {
            try {
                return call.run();
            } catch (SchemaStore.Unavailable e) {
                LOG.warn("{} failed, retrying in {} ms: {}", what, backoff, e.getMessage());
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
            }
        }
    }
}
