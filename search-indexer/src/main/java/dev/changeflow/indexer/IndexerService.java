package dev.changeflow.indexer;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.indexer.IndexerSettings.Engine;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexGenerations;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.indexer.internal.ChangeIndexer;
import dev.changeflow.indexer.internal.GenerationSwitch;
import dev.changeflow.indexer.internal.IndexerMetrics;
import dev.changeflow.indexer.internal.SearchEndpoint;
import dev.changeflow.indexer.internal.lucene.LuceneGenerations;
import dev.changeflow.indexer.internal.opensearch.OpenSearchGenerations;
import dev.changeflow.indexer.internal.rebuild.SearchRebuild;
import dev.changeflow.router.RouterSettings;
import dev.changeflow.router.StateTopics;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.service.AdminRoute;
import dev.changeflow.router.service.BearerToken;
import dev.changeflow.router.subscription.BlockingWork;
import dev.changeflow.router.subscription.Dependency;
import dev.changeflow.router.subscription.FailureKind;
import dev.changeflow.router.subscription.ServiceLifecycle;
import dev.changeflow.router.subscription.SubscriberService;
import dev.changeflow.router.subscription.Subscription;
import dev.changeflow.router.subscription.SubscriptionOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The search indexer: a member of a Kafka consumer group on the change topics of {@code tasks} and {@code projects}
 * that keeps a search index equal to the database, and serves searches over HTTP.
 *
 * <p><b>Guarantees.</b> Each batch of events becomes one or a few bulk writes; its offsets are committed only once
 * the writes are durable. Every document carries the LSN of its change as its version, and an older change never
 * replaces a newer one; a delete leaves a versioned tombstone (a document, not the engine's delete, so OpenSearch's
 * {@code index.gc_deletes} cannot make it forget). Replaying the topics from the start, in any interleaving, leaves
 * the index as it was. Task documents carry their project's name; a rename updates them (see
 * {@link ChangeIndexer}). While the engine is unreachable or overloaded, batches are retried without limit and
 * nothing is dead-lettered; an event the engine refuses for itself goes to the dead-letter topic after the retries.
 *
 * <p>Lifecycle, each step once: {@link #create} validates every setting (nothing is connected); {@link #start} opens
 * the index (creating missing indices), starts the HTTP endpoint and joins the group; {@link #close} leaves the group
 * after finishing the batches in hand, then stops the endpoint and closes the index. Thread-safe.
 *
 * <p><b>Rebuild.</b> The index has generations ({@link IndexGenerations}): {@link #rebuild} builds a new one from the
 * compacted state topics and the change topics while the current one keeps serving, then switches to it (see
 * {@link SearchRebuild}); {@code POST /search/rebuild} and {@code GET /search/rebuild} on the process's admin API
 * ({@link #adminRoutes}) start it and report on it.
 *
 * <p>Meters: {@code changeflow.indexer.*} (see {@link IndexerMetrics}) and the subscription's
 * {@code changeflow.subscription.*}.
 */
public final class IndexerService extends SubscriberService {
    private static final Logger LOG = LoggerFactory.getLogger(IndexerService.class);

    private final Settings settings;
    private final MeterRegistry registry;
    private final String group;
    private final String bootstrap;
    private final List<String> topics;
    private final SubscriptionOptions options;
    private final List<String> stateTopics;
    private final GenerationSwitch index;
    private final BlockingWork work;
    private volatile SearchEndpoint endpoint;
    /** The last rebuild started, guarded by {@code this}. */
    private SearchRebuild rebuild;

    /** @param index the index to write, or null for the one the settings name */
    private IndexerService(Settings settings, MeterRegistry registry, SearchIndex index) {
        super("the search indexer", "Search indexer");
        this.settings = settings;
        this.registry = Objects.requireNonNull(registry, "registry");
        // Every setting that does not parse fails here, before anything is connected.
        IndexerSettings.SETTINGS.forEach(settings::find);
        this.group = settings.get(IndexerSettings.GROUP);
        this.bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim();
        this.options = SubscriptionOptions.from(settings);
        this.topics = topicsOf(settings);
        this.stateTopics = stateTopicsOf(settings);
        IndexGenerations generations = index != null ? IndexGenerations.single(index) : generationsOf(settings);
        this.index = new GenerationSwitch(generations, new IndexerMetrics(registry, Clock.systemUTC()),
                new IndexerMetrics(new SimpleMeterRegistry(), Clock.systemUTC()));
        this.work = BlockingWork.create("indexer", options.concurrency());
    }

    /**
     * A service on {@code index} instead of the one the settings name: for tests that break the index's I/O. It has
     * one generation: {@link #rebuild} is refused.
     */
    static IndexerService create(Settings settings, MeterRegistry registry, SearchIndex index) {
        return new IndexerService(Objects.requireNonNull(settings, "settings"), registry,
                Objects.requireNonNull(index, "index"));
    }

    /**
     * Validates {@code settings}; connects to nothing.
     *
     * @throws ConfigException one line naming the setting at fault: invalid, missing (Kafka bootstrap; OpenSearch URL
     *     when OpenSearch is the engine), or a topic pattern that does not name a topic
     */
    public static IndexerService create(Settings settings, MeterRegistry registry) {
        return new IndexerService(Objects.requireNonNull(settings, "settings"), registry, null);
    }

    /**
     * Opens the index, starts the search endpoint and joins the consumer group; consuming goes on in the background.
     * Nothing is left running if it fails.
     *
     * @throws ConfigException naming the setting at fault if the engine cannot be reached or the index directory
     *     cannot be opened, or the HTTP port is taken
     * @throws IllegalStateException if Kafka does not answer or a topic does not exist within the subscription's
     *     startup timeout, or if the service was already started or closed
     */
    @Override
    public void start() {
        start(() -> {
            openIndex();
            endpoint = startEndpoint();
            Subscription subscription = Subscription.builder(bootstrap, group)
                    .topics(topics)
                    // Never interrupted: a timed-out batch finishes on its thread and its result is dropped.
                    .onBatch(events -> work.run(() -> index.apply(events)))
                    .dependency(new IndexDependency(index))
                    .meterRegistry(registry)
                    .options(options)
                    .start();
            LOG.info("Search indexer started: group {} on {}, index {}, search at {}/search/tasks?q=...",
                    group, topics, index.describe(), endpoint.uri());
            return subscription;
        });
    }

    /** The consumer group. */
    @Override
    public String group() {
        return group;
    }

    /** The topics consumed: those of the tasks and projects tables. */
    public List<String> topics() {
        return topics;
    }

    /** {@code indexer}. */
    @Override
    public String name() {
        return "indexer";
    }

    /**
     * The index written, to read documents back (checks, tests): always the current generation, also after a
     * rebuild switched generations.
     */
    public SearchIndex index() {
        return index;
    }

    /** The name of the current generation of the index, such as {@code gen-2} or {@code legacy}. */
    public String generation() {
        return index.live().name();
    }

    /**
     * Starts rebuilding the index into a new generation ({@link SearchRebuild}) and returns once the change topics'
     * end offsets are noted: every change committed to them before this returns is in the rebuilt index. The rebuild
     * goes on in the background; see {@link #rebuildStatus}.
     *
     * @param batchSize events per write to the new generation; null for {@code changeflow.subscription.batch-size}
     * @throws IllegalStateException if the indexer is not running, a rebuild is running already, or a state topic
     *     does not exist (the message says which)
     * @throws UnsupportedOperationException if the index has no generations (an index given to {@link #create})
     * @throws RuntimeException if Kafka does not answer
     */
    public synchronized RebuildStatus rebuild(Integer batchSize) {
        if (state() != ServiceLifecycle.State.RUNNING) {
            throw new IllegalStateException("the search indexer is not running (" + state() + ")");
        }
        if (rebuild != null && !rebuild.finished()) {
            throw new IllegalStateException("a rebuild is running already: " + rebuild.status().phase().json()
                    + " into " + rebuild.status().generation());
        }
        rebuild = SearchRebuild.start(new SearchRebuild.Spec(bootstrap, topics, stateTopics, index,
                batchSize != null ? batchSize : options.batchSize()));
        return rebuild.status();
    }

    /** The last rebuild since this indexer started, running or finished; empty if there was none. */
    public synchronized Optional<RebuildStatus> rebuildStatus() {
        return Optional.ofNullable(rebuild).map(SearchRebuild::status);
    }

    /**
     * The admin routes of the search indexer (bearer token required, like every admin route):
     * <ul>
     *   <li>{@code POST /search/rebuild[?batch_size=N]}: starts a rebuild ({@link #rebuild}); 202 with its status
     *       once the start offsets are noted, 409 if one is running, the indexer is not running, a state topic is
     *       missing or the index has no generations, 503 if Kafka does not answer, 400 for a bad batch size.</li>
     *   <li>{@code GET /search/rebuild}: the last rebuild's {@link RebuildStatus#toJson status}; 404 if none ran
     *       since the indexer started.</li>
     * </ul>
     */
    @Override
    public List<AdminRoute> adminRoutes() {
        return List.of(
                AdminRoute.of("POST", "/search/rebuild", request -> {
                    Integer batchSize = batchSizeOf(request.query().get("batch_size"));
                    try {
                        return new AdminRoute.Response(202, rebuild(batchSize).toJson());
                    } catch (IllegalStateException | UnsupportedOperationException e) {
                        return AdminRoute.Response.error(409, e.getMessage());
                    } catch (RuntimeException e) {
                        return AdminRoute.Response.error(503, "Kafka did not answer: " + ServiceLifecycle.rootMessage(e));
                    }
                }),
                AdminRoute.of("GET", "/search/rebuild", request -> rebuildStatus()
                        .map(s -> AdminRoute.Response.ok(s.toJson()))
                        .orElseGet(() -> AdminRoute.Response.error(404, "no rebuild since the indexer started"))));
    }

    private static Integer batchSizeOf(String value) {
        if (value == null) {
            return null;
        }
        try {
            int size = Integer.parseInt(value.trim());
            if (size >= 1 && size <= 100_000) {
                return size;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("batch_size must be a whole number from 1 to 100000, not '" + value + "'");
    }

    /**
     * The base URL of the search endpoint, such as {@code http://127.0.0.1:8084}.
     *
     * @throws IllegalStateException before {@link #start} succeeded
     */
    public URI searchUri() {
        SearchEndpoint e = endpoint;
        if (e == null) {
            throw new IllegalStateException("The search indexer has not started");
        }
        return e.uri();
    }

    /**
     * Stops the endpoint, waits for batches still running (abandoned by a timeout or by the subscription's close),
     * then closes the index (the subscription is closed first).
     */
    @Override
    protected void releaseClients() {
        SearchRebuild running;
        synchronized (this) {
            running = rebuild;
        }
        if (running != null) {
            running.cancel(options.shutdownTimeout());
        }
        SearchEndpoint e = endpoint;
        if (e != null) {
            e.close();
        }
        work.close(options.shutdownTimeout());
        index.close();
    }

    /** The index as the subscription's dependency: its engine classifies failures and reopens what broke. */
    private record IndexDependency(SearchIndex index) implements Dependency {
        @Override
        public FailureKind classify(Throwable error) {
            return index.classify(error);
        }

        @Override
        public void reopen() {
            index.reopen();
        }

        @Override
        public String describe() {
            return "the search index (" + index.describe() + ")";
        }
    }

    private void openIndex() {
        try {
            index.open();
        } catch (RuntimeException e) {
            if (settings.get(IndexerSettings.ENGINE) == Engine.OPENSEARCH) {
                throw ConfigException.unusable(ConnectionSettings.OPENSEARCH_URL,
                        settings.raw(ConnectionSettings.OPENSEARCH_URL).orElse(null),
                        "cannot open the search indices at " + index.describe() + ": " + ServiceLifecycle.rootMessage(e));
            }
            throw ConfigException.unusable(IndexerSettings.LUCENE_DIRECTORY,
                    settings.get(IndexerSettings.LUCENE_DIRECTORY), "cannot open the Lucene index: " + ServiceLifecycle.rootMessage(e));
        }
    }

    private SearchEndpoint startEndpoint() {
        String host = settings.get(IndexerSettings.HTTP_HOST);
        int port = settings.get(IndexerSettings.HTTP_PORT);
        try {
            return SearchEndpoint.start(index, host, port, settings.get(IndexerSettings.SEARCH_MAX_RESULTS),
                    BearerToken.from(settings));
        } catch (IOException | RuntimeException e) {
            throw ConfigException.unusable(IndexerSettings.HTTP_PORT, Integer.toString(port),
                    "cannot listen on " + host + ":" + port + ": " + ServiceLifecycle.rootMessage(e));
        }
    }

    private static IndexGenerations generationsOf(Settings settings) {
        return switch (settings.get(IndexerSettings.ENGINE)) {
            case LUCENE -> new LuceneGenerations(Path.of(settings.get(IndexerSettings.LUCENE_DIRECTORY)));
            case OPENSEARCH -> {
                URI url = settings.find(ConnectionSettings.OPENSEARCH_URL).orElseThrow(() ->
                        ConfigException.unusable(ConnectionSettings.OPENSEARCH_URL, null,
                                "required when " + IndexerSettings.ENGINE.key() + " is opensearch"));
                try {
                    yield new OpenSearchGenerations(url, settings.find(ConnectionSettings.OPENSEARCH_USER).orElse(null),
                            settings.find(ConnectionSettings.OPENSEARCH_PASSWORD).orElse(null),
                            settings.get(IndexerSettings.INDEX_PREFIX),
                            settings.get(IndexerSettings.OPENSEARCH_SHARDS),
                            settings.get(IndexerSettings.OPENSEARCH_REPLICAS),
                            settings.get(IndexerSettings.OPENSEARCH_REFRESH_INTERVAL),
                            settings.get(IndexerSettings.OPENSEARCH_REQUEST_TIMEOUT));
                } catch (IllegalArgumentException e) {
                    // The adapter's checks never echo credentials; the URL is shown masked.
                    throw ConfigException.unusable(ConnectionSettings.OPENSEARCH_URL,
                            settings.raw(ConnectionSettings.OPENSEARCH_URL).orElse(null), e.getMessage());
                }
            }
        };
    }

    /** The state topics, projects first: task documents then find their project's name. */
    private static List<String> stateTopicsOf(Settings settings) {
        StateTopics state;
        try {
            state = StateTopics.fromSettings(settings);
        } catch (IllegalArgumentException e) {
            throw ConfigException.unusable(RouterSettings.STATE_TOPICS, settings.get(RouterSettings.STATE_TOPICS),
                    e.getMessage());
        }
        return java.util.stream.Stream.of(DocumentType.PROJECTS, DocumentType.TASKS)
                .map(t -> state.topicFor(t.table())).distinct().toList();
    }

    private static List<String> topicsOf(Settings settings) {
        TopicRouter router = TopicRouter.fromSettings(settings);
        try {
            return Arrays.stream(DocumentType.values()).map(t -> router.topicFor(t.table())).distinct().toList();
        } catch (IllegalArgumentException e) {
            throw ConfigException.unusable(RouterSettings.TOPIC_REGEX, settings.get(RouterSettings.TOPIC_REGEX),
                    e.getMessage());
        }
    }
}
