package dev.changeflow.indexer;

import static org.awaitility.Awaitility.await;


import dev.changeflow.capture.CaptureService;
import dev.changeflow.capture.testing.CapturedDatabase;
import dev.changeflow.config.Settings;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.ChangeEventCodec;
import dev.changeflow.router.topics.ConsumerLag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One indexer test's world: a {@link CapturedDatabase} (own database, capture, topics {@code <id>.*-changes}), its
 * own consumer group, and its own index (a Lucene directory, or OpenSearch indices named {@code <id>-tasks},
 * {@code <id>-projects}).
 */
final class IndexerHarness implements AutoCloseable {
    /** The bearer token the indexers of these tests require on their search endpoint. */
    static final String SEARCH_TOKEN = "indexer-tests-search-token-0123456789";
    final CapturedDatabase world;
    final String id;
    final String group;
    final Admin admin;
    private final Map<String, String> indexerSettings = new HashMap<>();
    private final Path luceneDirectory;

    /** A harness whose indexer writes to an embedded Lucene index in a temporary directory. */
    static IndexerHarness lucene() throws SQLException, IOException {
        return new IndexerHarness(null);
    }

    /** A harness on a Kafka broker of the test's own, whose indexer writes to a Lucene index. */
    static IndexerHarness lucene(dev.changeflow.stack.KafkaServer kafka) throws SQLException, IOException {
        return new IndexerHarness(null, new CapturedDatabase("x", kafka));
    }

    /** A harness whose indexer writes to {@code node}, in indices of its own. */
    static IndexerHarness openSearch(OpenSearchNode node) throws SQLException, IOException {
        return new IndexerHarness(node);
    }

    private IndexerHarness(OpenSearchNode node) throws SQLException, IOException {
        this(node, new CapturedDatabase("x"));
    }

    private IndexerHarness(OpenSearchNode node, CapturedDatabase world) throws IOException {
        this.world = world;
        id = world.id;
        group = id + "-indexer";
        admin = world.admin;
        indexerSettings.putAll(world.consumerSettings());
        indexerSettings.put("CHANGEFLOW_INDEXER_GROUP", group);
        indexerSettings.put("CHANGEFLOW_INDEXER_HTTP_PORT", "0");
        indexerSettings.put("CHANGEFLOW_ADMIN_TOKEN", SEARCH_TOKEN);
        if (node == null) {
            luceneDirectory = Files.createTempDirectory(id + "-lucene");
            indexerSettings.put("CHANGEFLOW_INDEXER_ENGINE", "lucene");
            indexerSettings.put("CHANGEFLOW_INDEXER_LUCENE_DIRECTORY", luceneDirectory.toString());
        } else {
            luceneDirectory = null;
            indexerSettings.put("CHANGEFLOW_INDEXER_ENGINE", "opensearch");
            indexerSettings.put("CHANGEFLOW_OPENSEARCH_URL", node.httpUrl().toString());
            indexerSettings.put("CHANGEFLOW_INDEXER_INDEX_PREFIX", id + "-");
            indexerSettings.put("CHANGEFLOW_INDEXER_OPENSEARCH_REPLICAS", "0");
            indexerSettings.put("CHANGEFLOW_INDEXER_OPENSEARCH_REFRESH_INTERVAL", "200ms");
            indexerSettings.put("CHANGEFLOW_INDEXER_OPENSEARCH_REQUEST_TIMEOUT", "5s");
        }
    }

    /** Sets a capture setting (by environment name or key) for captures started from now on. */
    IndexerHarness withCapture(String key, String value) {
        world.withCapture(key, value);
        return this;
    }

    /** Sets an indexer setting (by environment name or key) for the indexers started from now on. */
    IndexerHarness with(String key, String value) {
        indexerSettings.put(key, value);
        return this;
    }

    Settings indexerSettings() {
        return Settings.of(Map.copyOf(indexerSettings));
    }

    String topic(String table) {
        return world.topic(table);
    }

    List<String> topics() {
        return world.topics();
    }

    /** Starts capture and waits until its slot is active (see {@link CapturedDatabase#startCapture}). */
    CaptureService startCapture() {
        return world.startCapture();
    }

    /** Creates and starts an indexer with this harness's settings; closed with the harness. */
    IndexerService startIndexer(SimpleMeterRegistry registry) {
        IndexerService indexer = world.closeLater(IndexerService.create(indexerSettings(), registry));
        indexer.start();
        return indexer;
    }

    IndexerService startIndexer() {
        return startIndexer(new SimpleMeterRegistry());
    }

    /**
     * Creates and starts an indexer on this harness's Lucene directory whose directories {@code wrapper} wraps (a
     * disk that stalls or fails); closed with the harness.
     */
    IndexerService startIndexer(io.micrometer.core.instrument.MeterRegistry registry,
            java.util.function.UnaryOperator<org.apache.lucene.store.Directory> wrapper) {
        IndexerService indexer = world.closeLater(IndexerService.create(indexerSettings(), registry,
                new dev.changeflow.indexer.internal.lucene.LuceneIndex(luceneDirectory, wrapper)));
        indexer.start();
        return indexer;
    }

    /** The Lucene index's directory (one sub-directory per document type). */
    Path luceneDirectory() {
        return luceneDirectory;
    }

    /** The indexer's settings by environment name, to start it as a process. */
    Map<String, String> indexerEnvironment() {
        return Map.copyOf(indexerSettings);
    }

    Connection sql() throws SQLException {
        return world.sql();
    }

    /**
     * What the index should hold, read from the database: per task id, its searchable columns and its project's name;
     * per project id, its name.
     */
    Map<DocumentType, Map<String, Map<String, Object>>> expectedFromDatabase() throws SQLException {
        Map<String, Map<String, Object>> tasks = new TreeMap<>();
        Map<String, Map<String, Object>> projects = new TreeMap<>();
        try (Connection c = sql(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT t.id, t.project_id, t.title, t.description, t.status, "
                    + "t.priority, t.assignee, p.name FROM app.tasks t JOIN app.projects p ON p.id = t.project_id")) {
                while (rs.next()) {
                    Map<String, Object> task = new LinkedHashMap<>();
                    task.put("project_id", rs.getString(2));
                    task.put("title", rs.getString(3));
                    task.put("description", rs.getString(4));
                    task.put("status", rs.getString(5));
                    task.put("priority", (long) rs.getInt(6));
                    task.put("assignee", rs.getString(7));
                    task.put("project_name", rs.getString(8));
                    tasks.put(rs.getString(1), task);
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT id, name FROM app.projects")) {
                while (rs.next()) {
                    projects.put(rs.getString(1), Map.of("name", rs.getString(2)));
                }
            }
        }
        return Map.of(DocumentType.TASKS, tasks, DocumentType.PROJECTS, projects);
    }

    /** The same view of what the index holds (live documents only). */
    static Map<DocumentType, Map<String, Map<String, Object>>> indexed(IndexerService indexer) {
        Map<DocumentType, Map<String, Map<String, Object>>> view = new LinkedHashMap<>();
        for (DocumentType type : DocumentType.values()) {
            Map<String, Map<String, Object>> documents = new TreeMap<>();
            for (IndexedDocument d : indexer.index().liveDocuments(type).values()) {
                Map<String, Object> fields = new LinkedHashMap<>();
                List<String> columns = type == DocumentType.TASKS
                        ? List.of("project_id", "title", "description", "status", "priority", "assignee",
                                "project_name")
                        : List.of("name");
                columns.forEach(column -> fields.put(column, d.field(column)));
                documents.put(d.id(), fields);
            }
            view.put(type, documents);
        }
        return view;
    }

    /** Waits until the index holds exactly what the database does. */
    void awaitIndexEqualsDatabase(IndexerService indexer, Duration timeout) {
        // A read may meet a writer that broke and is not reopened yet (the self-healing tests): ask again.
        await("index equal to the database").atMost(timeout).pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsInstanceOf(org.apache.lucene.store.AlreadyClosedException.class)
                .untilAsserted(() -> org.assertj.core.api.Assertions.assertThat(indexed(indexer))
                        .isEqualTo(expectedFromDatabase()));
    }

    ConsumerLag lag() throws ExecutionException, InterruptedException {
        return world.lag(group);
    }

    /** Records on the dead-letter topics of this harness's change topics. */
    long deadLetters() throws ExecutionException, InterruptedException {
        return world.deadLetters();
    }

    /** Moves the group's committed offsets back to the start of every partition (the group must be empty). */
    void rewindGroupToStart() throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
        admin.describeTopics(topics()).allTopicNames().get().values().forEach(d -> d.partitions()
                .forEach(p -> start.put(new TopicPartition(d.name(), p.partition()), new OffsetAndMetadata(0))));
        admin.alterConsumerGroupOffsets(group, start).all().get();
    }

    /** Every record of {@code table}'s change topic so far, in partition order, with its key. */
    List<ConsumerRecord<String, byte[]>> records(String table) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, world.kafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic(table)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Could not read " + topic(table) + " to its end");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    /** The change events of {@code table}'s row {@code rowId} on its topic, in order. */
    List<ChangeEvent> eventsOf(String table, UUID rowId) {
        String key = table + ":" + rowId;
        return records(table).stream().filter(r -> key.equals(r.key()))
                .map(r -> ChangeEventCodec.decode(r.value())).collect(Collectors.toList());
    }

    /** Publishes {@code event} to its table's topic, keyed as capture keys it: as if capture had sent it again. */
    void publish(ChangeEvent event) throws ExecutionException, InterruptedException {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, world.kafka.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic(event.table()), event.kafkaKey(),
                    ChangeEventCodec.encode(event))).get();
        }
    }

    /** Waits until the group has consumed everything published so far. */
    void awaitCaughtUp(Duration timeout) {
        await("indexer caught up").atMost(timeout).pollInterval(Duration.ofMillis(200))
                .until(() -> lag().total() == 0);
    }

    @Override
    public void close() throws Exception {
        // Indexers before capture (reverse start order), so no consumer waits on a stopped producer.
        world.close();
        if (luceneDirectory != null) {
            try (var paths = Files.walk(luceneDirectory)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
