package dev.changeflow.indexer.internal.opensearch;

import dev.changeflow.indexer.index.ConditionalWrite;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.InvalidQueryException;
import dev.changeflow.indexer.index.Revision;
import dev.changeflow.indexer.index.SearchHits;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.indexer.index.StoredDocument;
import dev.changeflow.indexer.internal.DocumentJson;
import dev.changeflow.router.subscription.OutageException;
import dev.changeflow.router.subscription.FailureKind;
import dev.changeflow.router.subscription.Outages;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.impl.auth.BasicCredentialsProvider;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.util.Timeout;
import org.opensearch.client.json.jackson.JacksonJsonpMapper;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch._types.ErrorCause;
import org.opensearch.client.opensearch._types.FieldValue;
import org.opensearch.client.opensearch._types.OpenSearchException;
import org.opensearch.client.opensearch._types.ShardStatistics;
import org.opensearch.client.opensearch._types.SortOrder;
import org.opensearch.client.opensearch._types.mapping.DynamicMapping;
import org.opensearch.client.opensearch._types.mapping.DynamicTemplate;
import org.opensearch.client.opensearch._types.mapping.Property;
import org.opensearch.client.opensearch._types.mapping.TypeMapping;
import org.opensearch.client.opensearch._types.query_dsl.Operator;
import org.opensearch.client.opensearch._types.query_dsl.Query;
import org.opensearch.client.opensearch._types.query_dsl.TextQueryType;
import org.opensearch.client.opensearch.core.BulkResponse;
import org.opensearch.client.opensearch.core.MgetResponse;
import org.opensearch.client.opensearch.core.SearchRequest;
import org.opensearch.client.opensearch.core.SearchResponse;
import org.opensearch.client.opensearch.core.bulk.BulkOperation;
import org.opensearch.client.opensearch.core.bulk.BulkResponseItem;
import org.opensearch.client.opensearch.core.get.GetResult;
import org.opensearch.client.opensearch.core.mget.MultiGetError;
import org.opensearch.client.opensearch.core.mget.MultiGetResponseItem;
import org.opensearch.client.opensearch.core.search.Hit;
import org.opensearch.client.opensearch.indices.RefreshResponse;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5Transport;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5TransportBuilder;
import org.opensearch.client.transport.httpclient5.ResponseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link SearchIndex} on an OpenSearch cluster (2.x), over HTTP with the opensearch-java client.
 *
 * <p><b>Indices.</b> One per {@link DocumentType}, named {@code <indexPrefix><table>} (for example
 * {@code changeflow-tasks}), created by {@link #open()} if missing, with the configured shards, replicas and refresh
 * interval and a mapping naming each of {@link DocumentType#fields()} as {@code text} (standard analyzer) or
 * {@code keyword}, plus {@value #VERSION_FIELD} ({@code long}), {@value #DELETED_FIELD} ({@code boolean}) and, for
 * tasks, {@value DocumentType#PROJECT_VERSION} ({@code long}).
 *
 * <p><b>Columns the mapping does not name</b> ({@link DocumentType#isDynamicColumn}), such as one a migration adds
 * while the indexer runs, are mapped on their first value by dynamic templates ({@code dynamic: true}): whatever that
 * value's JSON type (string, integer, decimal, boolean; each element of an array), as {@code text} with the standard
 * analyzer, which takes every later value as its string form. No type is ever guessed from a first value (no
 * {@code long} that a later {@code "about 3"} would not fit, no date detection), so a retyped column never makes a
 * document unfit for its index. Fields named with {@link DocumentType#RESERVED_PREFIX} are mapped as disabled objects:
 * kept in {@code _source}, never parsed nor indexed. The documents' {@code _source} is unchanged: values read back as
 * written. Existing indices keep their settings; {@link #open()} updates their mapping to this one's dynamic part
 * (indices created with {@code dynamic: false} by earlier versions included), which indexes the new columns of
 * documents written from then on. An index deleted while the indexer runs would be recreated by the next write through
 * OpenSearch's automatic index creation, with a guessed mapping: clusters should exclude the prefix from
 * {@code action.auto_create_index} (for example {@code -changeflow-*,+*}). {@link OpenSearchGenerations} makes the
 * names {@code <indexPrefix><table>} aliases of a generation's indices {@code <indexPrefix><table>-g<n>}; this class
 * reads and writes through whichever the name is.
 *
 * <p><b>Documents.</b> The {@code _source} of a document is its fields, in order, then {@value #VERSION_FIELD} and
 * {@value #DELETED_FIELD}; both names are reserved. Values read back as written: integers as {@link Long}, decimals as
 * {@link java.math.BigDecimal} with their scale ({@code 12.50} stays {@code 12.50}), strings, booleans, nulls, lists.
 * A {@link Revision} is the document's {@code _seq_no} and {@code _primary_term}. Live documents are expected to carry
 * their id in the {@code id} field (the row's primary key column): paging ({@link #tasksOfProject},
 * {@link #liveDocuments}) and ties between equal scores sort by it.
 *
 * <p><b>Consistency.</b> {@link #get} is a real-time multi-get. {@link #write} is one {@code _bulk} request without
 * refresh: {@code if_seq_no}/{@code if_primary_term} for an expected revision, {@code op_type=create} for none.
 * {@link #tasksOfProject} and {@link #liveDocuments} refresh their index first, so they see every write that returned
 * before they were called; each call costs a refresh. {@link #search} does not refresh: near-real-time.
 *
 * <p><b>Failures.</b> Every failure is classified by {@link #isOutage}, the one place that decides, and thrown as an
 * {@link OpenSearchUnavailableException} (an {@link OutageException}: retry the whole call) or an
 * {@link OpenSearchRefusedException} (permanent for the documents involved), except unparsable queries, which throw
 * {@link InvalidQueryException}. Credentials are never logged nor put in messages.
 *
 * <p>Thread-safe. Lifecycle: constructed (no I/O), {@link #open()} (retry it after an outage), calls, {@link #close()}.
 */
public final class OpenSearchIndex implements SearchIndex {
    /** Field of every stored document: its {@link IndexedDocument#version()}, a long (unsigned LSN, stored signed). */
    public static final String VERSION_FIELD = DocumentJson.VERSION;
    /** Field of every stored document: {@code true} for a tombstone. */
    public static final String DELETED_FIELD = DocumentJson.DELETED;

    private static final Logger LOG = LoggerFactory.getLogger(OpenSearchIndex.class);

    /**
     * How fields the mapping does not name are mapped on their first value, first match wins: the reserved ones as
     * disabled objects (any value accepted, none indexed), every other one as standard-analysed text, whatever the JSON
     * type of that first value. An object value (a composite column; tasks and projects have none) is left to
     * OpenSearch's default object mapping, its leaves mapped by these templates; such a column turning into a scalar,
     * or back, would be refused.
     */
    private static final List<Map<String, DynamicTemplate>> DYNAMIC_TEMPLATES = List.of(
            Map.of("cf_reserved", DynamicTemplate.of(t -> t
                    .match(DocumentType.RESERVED_PREFIX + "*")
                    .mapping(p -> p.object(o -> o.enabled(false))))),
            columnsAsText("string"),
            columnsAsText("long"),
            columnsAsText("double"),
            columnsAsText("boolean"));

    private static final String ID_FIELD = "id";
    private static final String PROJECT_ID_FIELD = "project_id";
    private static final int PAGE_SIZE = 1_000;
    private static final int MAX_REASON_LENGTH = 600;
    private static final Pattern INDEX_PREFIX = Pattern.compile("[a-z0-9][a-z0-9_.-]*");
    /** What httpclient5 says once its I/O reactor has stopped or its pool is shut down: it never recovers. */
    private static final Pattern BROKEN_CLIENT = Pattern.compile(
            "(?i)I/O reactor (status: )?(STOPPED|SHUT_DOWN|SHUTTING_DOWN|has been shut down)|pool (is )?shut down");

    /**
     * Error types that mean OpenSearch cannot serve the request now rather than that the request is wrong; they
     * matter where OpenSearch reports no HTTP status (mget items, shard failures) or a 4xx one (blocks answer 403).
     */
    private static final Set<String> OUTAGE_TYPES = Set.of(
            "cluster_block_exception",
            "no_shard_available_action_exception",
            "unavailable_shards_exception",
            "primary_missing_action_exception",
            "shard_not_found_exception",
            "illegal_index_shard_state_exception",
            "index_shard_closed_exception",
            "shard_not_in_primary_mode_exception",
            "node_not_connected_exception",
            "node_disconnected_exception",
            "node_closed_exception",
            "connect_transport_exception",
            "send_request_transport_exception",
            "receive_timeout_transport_exception",
            "rejected_execution_exception",
            "es_rejected_execution_exception",
            "circuit_breaking_exception",
            "cluster_manager_not_discovered_exception",
            "master_not_discovered_exception",
            "not_cluster_manager_exception",
            "process_cluster_event_timeout_exception",
            "task_cancelled_exception");

    /** How long {@link #search} asks again while the indices it resolved have just been deleted. */
    static final Duration VANISHED_RETRY = Duration.ofSeconds(2);

    /**
     * Error types OpenSearch answers (with 404 or 503) for a request on indices deleted while it ran: the index, or
     * its shards, are gone; a search whose every shard was closed under it fails as a whole.
     */
    private static final Set<String> VANISHED_TYPES = Set.of(
            "index_not_found_exception",
            "shard_not_found_exception",
            "index_closed_exception",
            "search_phase_execution_exception");

    /** Error types of a search query that does not parse or does not fit its field (4xx, or a shard failure). */
    private static final Set<String> QUERY_ERROR_TYPES = Set.of(
            "query_shard_exception",
            "query_parsing_exception",
            "parse_exception",
            "number_format_exception");

    private enum State { NEW, OPEN, CLOSED }

    private final String description;
    private final String address;
    private final int shards;
    private final int replicas;
    private final String refreshInterval;
    private final String indexPrefix;
    /** The names requests address, per type: the indices', or the aliases' after {@link #addressThroughAliases}. */
    private volatile Map<DocumentType, String> indexNames;
    private final java.util.function.Supplier<Connection> connector;
    private volatile Connection connection;
    private final java.util.concurrent.atomic.AtomicLong reopens = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);

    /**
     * Prepares a client for the cluster at {@code url}; connects only on {@link #open()}.
     *
     * @param url {@code http://} or {@code https://} address of the cluster, without credentials (a path is used as
     *     prefix of every request path)
     * @param username basic-authentication user, or null for none
     * @param password basic-authentication password, or null for none; never logged
     * @param indexPrefix lowercase prefix of every index name, such as {@code changeflow-}
     * @param shards primary shards of a created index, at least 1
     * @param replicas replicas of a created index, at least 0
     * @param refreshInterval {@code index.refresh_interval} of a created index, such as {@code 1s}: how soon a write
     *     becomes searchable
     * @param requestTimeout how long to wait to connect and for each response; a request that times out is an outage
     * @throws IllegalArgumentException naming the parameter and the value given if one is out of range
     */
    public OpenSearchIndex(URI url, String username, String password, String indexPrefix, int shards, int replicas,
            String refreshInterval, Duration requestTimeout) {
        this(url, username, password, indexPrefix, "", shards, replicas, refreshInterval, requestTimeout);
    }

    /**
     * As the public constructor, for the indices of one generation ({@link OpenSearchGenerations}): each named
     * {@code <indexPrefix><table><indexSuffix>}, such as {@code changeflow-tasks-g3}; an empty suffix names the plain
     * indices or the aliases {@code <indexPrefix><table>}.
     */
    OpenSearchIndex(URI url, String username, String password, String indexPrefix, String indexSuffix, int shards,
            int replicas, String refreshInterval, Duration requestTimeout) {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(indexSuffix, "indexSuffix");
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || url.getHost() == null) {
            throw new IllegalArgumentException("OpenSearch url must be http://host:port or https://host:port, not "
                    + withoutUserInfo(url));
        }
        if (url.getUserInfo() != null) {
            // Not echoed: it may hold a password.
            throw new IllegalArgumentException("OpenSearch url must not carry credentials; give the username and "
                    + "password separately");
        }
        if ((username == null) != (password == null)) {
            throw new IllegalArgumentException("OpenSearch username and password must be given together or not at all");
        }
        if (indexPrefix == null || !INDEX_PREFIX.matcher(indexPrefix).matches()) {
            throw new IllegalArgumentException("OpenSearch index prefix must match " + INDEX_PREFIX + ", not '"
                    + indexPrefix + "'");
        }
        if (shards < 1) {
            throw new IllegalArgumentException("OpenSearch shards must be at least 1, not " + shards);
        }
        if (replicas < 0) {
            throw new IllegalArgumentException("OpenSearch replicas must be at least 0, not " + replicas);
        }
        if (refreshInterval == null || refreshInterval.isBlank()) {
            throw new IllegalArgumentException("OpenSearch refresh interval must be a time such as 1s, not '"
                    + refreshInterval + "'");
        }
        if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("OpenSearch request timeout must be positive, not " + requestTimeout);
        }
        this.shards = shards;
        this.replicas = replicas;
        this.refreshInterval = refreshInterval;
        this.indexPrefix = indexPrefix;
        this.indexNames = names(indexSuffix);
        this.address = withoutUserInfo(url);
        this.description = "opensearch " + address + " (" + indexPrefix + "*" + indexSuffix + ")";

        HttpHost host = new HttpHost(scheme, url.getHost(), url.getPort());
        Timeout timeout = Timeout.of(requestTimeout);
        ApacheHttpClient5TransportBuilder builder = ApacheHttpClient5TransportBuilder.builder(host)
                // Exact numbers: 12.50 reads back as BigDecimal 12.50, every integer as Long.
                .setMapper(new JacksonJsonpMapper(DocumentJson.newMapper()))
                .setRequestConfigCallback(config -> config
                        .setConnectionRequestTimeout(timeout)
                        .setResponseTimeout(timeout))
                .setConnectionConfigCallback(config -> config.setConnectTimeout(timeout));
        if (username != null) {
            builder.setHttpClientConfigCallback(http -> {
                BasicCredentialsProvider credentials = new BasicCredentialsProvider();
                credentials.setCredentials(new AuthScope(host),
                        new UsernamePasswordCredentials(username, password.toCharArray()));
                return http.setDefaultCredentialsProvider(credentials);
            });
        }
        String path = url.getRawPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            builder.setPathPrefix(path);
        }
        this.connector = () -> {
            ApacheHttpClient5Transport transport = builder.build();
            return new Connection(transport, new OpenSearchClient(transport));
        };
        this.connection = connector.get();
    }

    /** One HTTP client and the OpenSearch client on it; replaced whole by {@link #reopen}. */
    private record Connection(ApacheHttpClient5Transport transport, OpenSearchClient client) {
        void close() {
            try {
                transport.close();
            } catch (IOException | RuntimeException e) {
                // Nothing left to release that a failed close could still release.
            }
        }
    }

    private OpenSearchClient client() {
        return connection.client();
    }

    private Map<DocumentType, String> names(String suffix) {
        Map<DocumentType, String> names = new EnumMap<>(DocumentType.class);
        for (DocumentType type : DocumentType.values()) {
            names.put(type, indexPrefix + type.table() + suffix);
        }
        return java.util.Collections.unmodifiableMap(names);
    }

    /**
     * From now on, every request addresses the names {@code <indexPrefix><table>} (the aliases) instead of this
     * generation's indices. Called once the aliases point at those indices, so both name the same indices and a
     * request may use either: later switches by any indexer are then followed with no change here.
     */
    void addressThroughAliases() {
        indexNames = names("");
    }

    /** A request with this index's client, its failures classified as every request's (see {@link #isOutage}). */
    @FunctionalInterface
    interface ClientCall<T> {
        T run(OpenSearchClient client) throws IOException;
    }

    /**
     * Runs {@code request} with this index's HTTP client, in any state but closed: for {@link OpenSearchGenerations}'
     * requests on indices and aliases.
     *
     * @throws OpenSearchUnavailableException if OpenSearch is unavailable
     * @throws OpenSearchRefusedException if OpenSearch refused the request
     */
    <T> T request(String what, ClientCall<T> request) {
        return call(what, () -> request.run(client()));
    }

    /**
     * Replaces the HTTP client: the old one is closed (requests still running on it fail, and their callers retry)
     * and a new one built with the same settings. The indices and their documents are untouched.
     *
     * @throws IllegalStateException if the index is not open
     */
    @Override
    public synchronized void reopen() {
        if (state.get() != State.OPEN) {
            throw new IllegalStateException("OpenSearch index is " + state.get() + ", cannot reopen");
        }
        Connection old = connection;
        connection = connector.get();
        reopens.incrementAndGet();
        old.close();
    }

    @Override
    public long reopens() {
        return reopens.get();
    }

    /**
     * Closes the HTTP client while the index stays open, leaving it as a stopped I/O reactor would: every request
     * then fails until {@link #reopen}. For tests of the indexer's self-healing; never called by Changeflow.
     */
    public void breakClientForTests() {
        connection.close();
    }

    /**
     * Returns at once: OpenSearch answers a write only after its translog is fsynced ({@code
     * index.translog.durability=request}, the default).
     */
    @Override
    public void awaitDurable() {
    }

    /**
     * {@link FailureKind#BROKEN} when this process's HTTP client can no longer send anything while the index is open:
     * its I/O reactor stopped (an unexpected error on one of its threads ends it for good) or its connection pool was
     * shut down. Else as {@link #isOutage} says: {@link FailureKind#OUTAGE} or {@link FailureKind#FAULT}.
     */
    @Override
    public FailureKind classify(Throwable error) {
        if (state.get() == State.OPEN) {
            for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof IllegalStateException && t.getMessage() != null
                        && BROKEN_CLIENT.matcher(t.getMessage()).find()) {
                    return FailureKind.BROKEN;
                }
            }
        }
        return isOutage(error) ? FailureKind.OUTAGE : FailureKind.FAULT;
    }

    /**
     * Creates each missing index with its settings and mapping; an index that exists, or that another process creates
     * at the same time, keeps its settings and fields' mappings and gets the dynamic templates (see the class comment).
     *
     * @throws OpenSearchUnavailableException if OpenSearch is unavailable; call again later
     * @throws OpenSearchRefusedException if OpenSearch refuses (no permission, invalid settings)
     * @throws IllegalStateException if already open or closed
     */
    @Override
    public synchronized void open() {
        open(false);
    }

    /**
     * Creates every index, with its settings and mapping, and opens: for a new generation, whose indices must be new.
     *
     * @throws OpenSearchRefusedException if one exists already (the indices created before it are left: the caller
     *     deletes them), or OpenSearch refuses
     * @throws OpenSearchUnavailableException if OpenSearch is unavailable
     */
    synchronized void openNew() {
        open(true);
    }

    private void open(boolean onlyNew) {
        if (state.get() != State.NEW) {
            throw new IllegalStateException("OpenSearch index is " + state.get() + ", can only open once");
        }
        for (DocumentType type : DocumentType.values()) {
            String index = indexNames.get(type);
            if (onlyNew) {
                create(type, index, false);
                continue;
            }
            boolean exists = call("checking index " + index,
                    () -> client().indices().exists(e -> e.index(index)).value());
            if (exists) {
                updateDynamicMapping(index);
            } else {
                create(type, index, true);
            }
        }
        if (!state.compareAndSet(State.NEW, State.OPEN)) {
            throw new IllegalStateException("OpenSearch index was closed while it opened");
        }
    }

    private void create(DocumentType type, String index, boolean existingIsFine) {
        Map<String, Property> properties = new LinkedHashMap<>();
        type.fields().forEach((field, kind) -> properties.put(field, switch (kind) {
            case TEXT -> Property.of(p -> p.text(t -> t.analyzer("standard")));
            case KEYWORD -> Property.of(p -> p.keyword(k -> k));
        }));
        properties.put(VERSION_FIELD, Property.of(p -> p.long_(l -> l)));
        properties.put(DELETED_FIELD, Property.of(p -> p.boolean_(b -> b)));
        if (type == DocumentType.TASKS) {
            properties.put(DocumentType.PROJECT_VERSION, Property.of(p -> p.long_(l -> l)));
        }
        TypeMapping mapping = TypeMapping.of(m -> m
                .dynamic(DynamicMapping.True)
                .dateDetection(false)
                .dynamicTemplates(DYNAMIC_TEMPLATES)
                .properties(properties));
        try {
            call("creating index " + index, () -> client().indices().create(c -> c
                    .index(index)
                    .settings(s -> s
                            .numberOfShards(shards)
                            .numberOfReplicas(replicas)
                            .refreshInterval(t -> t.time(refreshInterval)))
                    .mappings(mapping)));
        } catch (OpenSearchRefusedException e) {
            if (!existingIsFine || !(e.getCause() instanceof OpenSearchException created
                    && "resource_already_exists_exception".equals(created.error().type()))) {
                throw e;
            }
            // Another indexer created it in between: theirs has the same mapping.
        }
    }

    /**
     * Gives the existing index (or the indices behind the alias) {@code index} the dynamic part of the mapping
     * {@link #create} gives a new one, leaving its fields' mappings as they are: so that an index created by an earlier
     * version, with {@code dynamic: false}, indexes new columns too. Idempotent. A refusal (no permission to update
     * mappings) is logged and leaves the index as it was: the named fields are indexed as before, the other columns
     * only from the next rebuild or once the mapping is updated; an outage fails the open, to be retried.
     */
    private void updateDynamicMapping(String index) {
        try {
            call("updating the mapping of " + index, () -> client().indices().putMapping(p -> p
                    .index(index)
                    .dynamic(DynamicMapping.True)
                    .dateDetection(false)
                    .dynamicTemplates(DYNAMIC_TEMPLATES)));
        } catch (OpenSearchRefusedException e) {
            LOG.warn("Columns added to the rows will not be searchable in {} until its mapping is updated: {}", index,
                    e.getMessage());
        }
    }

    /**
     * The name requests about {@code type} address: the index (or alias) {@code changeflow-tasks}, or a generation's
     * index {@code changeflow-tasks-g3} until {@link #addressThroughAliases}.
     */
    public String indexName(DocumentType type) {
        return indexNames.get(type);
    }

    /**
     * Real-time multi-get of {@code ids} (duplicates ignored); no request for an empty collection.
     *
     * @throws OpenSearchUnavailableException if OpenSearch or a shard holding one of the ids is unavailable
     */
    @Override
    public Map<String, StoredDocument> get(DocumentType type, Collection<String> ids) {
        requireOpen();
        Objects.requireNonNull(type, "type");
        if (ids.isEmpty()) {
            return Map.of();
        }
        String index = indexNames.get(type);
        List<String> distinct = List.copyOf(new LinkedHashSet<>(ids));
        MgetResponse<Source> response = call("getting " + distinct.size() + " documents from " + index,
                () -> client().mget(m -> m.index(index).ids(distinct), Source.class));
        Map<String, StoredDocument> found = new LinkedHashMap<>();
        List<OpenSearchFailure> failures = new ArrayList<>();
        for (MultiGetResponseItem<Source> item : response.docs()) {
            if (item.isFailure()) {
                MultiGetError error = item.failure();
                failures.add(failure(0, error.error(), error.index() + "/" + error.id()));
            } else {
                GetResult<Source> result = item.result();
                if (result.found()) {
                    found.put(result.id(), new StoredDocument(document(index, result.id(), result.source()),
                            new Revision(result.seqNo(), result.primaryTerm())));
                }
            }
        }
        throwIfFailed("getting documents from " + index, failures);
        return found;
    }

    /**
     * One {@code _bulk} request of every write, without refresh; durable when it returns (the translog is fsynced per
     * request, OpenSearch's default {@code index.translog.durability}). A version conflict is a {@code false}; any
     * other failure of a write fails the whole call, after the other writes of the request may have been applied,
     * which is harmless since each is conditional.
     *
     * @throws OpenSearchUnavailableException if OpenSearch is unavailable or could not apply a write for a reason of
     *     its own (overloaded, shard unavailable, blocked)
     * @throws OpenSearchRefusedException if OpenSearch refused a write (a document that does not fit the mapping);
     *     the message names the index, the document id and the reason
     * @throws IllegalArgumentException if a document uses a reserved field name
     */
    @Override
    public List<Boolean> write(List<ConditionalWrite> writes) {
        requireOpen();
        if (writes.isEmpty()) {
            return List.of();
        }
        List<BulkOperation> operations = new ArrayList<>(writes.size());
        Map<DocumentType, String> names = indexNames;
        for (ConditionalWrite write : writes) {
            String index = names.get(write.type());
            IndexedDocument document = write.document();
            Map<String, Object> source = source(index, document);
            Revision expected = write.expected();
            operations.add(expected == null
                    ? BulkOperation.of(o -> o.create(c -> c.index(index).id(document.id()).document(source)))
                    : BulkOperation.of(o -> o.index(i -> i.index(index).id(document.id()).document(source)
                            .ifSeqNo(expected.seqNo()).ifPrimaryTerm(expected.primaryTerm()))));
        }
        BulkResponse response = call("writing " + writes.size() + " documents",
                () -> client().bulk(b -> b.operations(operations)));
        List<BulkResponseItem> items = response.items();
        if (items.size() != writes.size()) {
            throw new OpenSearchRefusedException("OpenSearch answered " + items.size() + " results for a bulk of "
                    + writes.size() + " writes", null);
        }
        List<Boolean> applied = new ArrayList<>(items.size());
        List<OpenSearchFailure> failures = new ArrayList<>();
        for (BulkResponseItem item : items) {
            if (item.error() == null) {
                applied.add(true);
            } else if (item.status() == 409) {
                applied.add(false);
            } else {
                applied.add(false);
                failures.add(failure(item.status(), item.error(), item.index() + "/" + item.id()));
            }
        }
        throwIfFailed("writing " + failures.size() + " of " + writes.size() + " documents", failures);
        return List.copyOf(applied);
    }

    /**
     * Refreshes the tasks index, then pages through the live tasks of the project by id.
     *
     * @throws OpenSearchUnavailableException if OpenSearch or a shard of the tasks index is unavailable
     */
    @Override
    public List<StoredDocument> tasksOfProject(String projectId) {
        requireOpen();
        Objects.requireNonNull(projectId, "projectId");
        String index = indexNames.get(DocumentType.TASKS);
        refresh(index);
        List<StoredDocument> tasks = new ArrayList<>();
        Query ofProject = Query.of(q -> q.term(t -> t.field(PROJECT_ID_FIELD).value(FieldValue.of(projectId))));
        forEachLiveHit(index, ofProject, hit -> tasks.add(new StoredDocument(document(index, hit.id(), hit.source()),
                new Revision(hit.seqNo(), hit.primaryTerm()))));
        return tasks;
    }

    /**
     * A {@code query_string} query on {@link DocumentType#defaultFields()} with {@code AND} as default operator and
     * {@code cross_fields} type (each term must be found, in any of the default fields: {@code report apollo} finds a
     * report of project Apollo), live documents only, best {@code limit} by score then id, exact total.
     * Near-real-time: no refresh. A search that finds the indices it was sent to gone (a switch of generations deletes
     * the indices the aliases pointed at, and a search that resolved them just before fails) is sent again, for up to
     * {@link #VANISHED_RETRY}: it then resolves the aliases anew.
     *
     * @throws InvalidQueryException if the query does not parse or does not fit a field (a word in a number field)
     * @throws OpenSearchUnavailableException if OpenSearch or a shard of the index is unavailable
     * @throws IllegalArgumentException if {@code limit} is negative
     */
    @Override
    public SearchHits search(DocumentType type, String query, int limit) {
        requireOpen();
        Objects.requireNonNull(query, "query");
        if (limit < 0) {
            throw new IllegalArgumentException("Search limit must be at least 0, not " + limit);
        }
        String index = indexNames.get(type);
        SearchRequest request = SearchRequest.of(s -> s
                .index(index)
                .size(limit)
                .trackTotalHits(t -> t.enabled(true))
                .query(q -> q.bool(b -> b
                        .must(m -> m.queryString(qs -> qs
                                .query(query)
                                .fields(type.defaultFields())
                                // Term-centric, as Lucene's multi-field parser: each term in any default field.
                                // The default (best_fields) would want all terms in one field.
                                .type(TextQueryType.CrossFields)
                                .defaultOperator(Operator.And)))
                        .mustNot(notTombstone())))
                .sort(o -> o.score(sc -> sc.order(SortOrder.Desc)))
                .sort(o -> o.field(f -> f.field(ID_FIELD).order(SortOrder.Asc))));
        SearchResponse<Source> response;
        try {
            response = searchAgainIfVanished("searching " + index, () -> client().search(request, Source.class));
        } catch (OpenSearchRefusedException e) {
            if (e.getCause() instanceof OpenSearchException refused && isQueryError(refused.error())) {
                throw invalidQuery(type, query, refused.error(), e);
            }
            throw e;
        }
        List<OpenSearchFailure> shardFailures = shardFailures(index, response.shards());
        if (!shardFailures.isEmpty() && !isOutage(shardFailures.get(0))
                && QUERY_ERROR_TYPES.contains(shardFailures.get(0).type())) {
            throw new InvalidQueryException("Cannot search " + type.table() + " for '" + query + "': "
                    + shardFailures.get(0).getMessage(), shardFailures.get(0));
        }
        throwIfFailed("searching " + index, shardFailures);
        List<SearchHits.Hit> hits = new ArrayList<>();
        for (Hit<Source> hit : response.hits().hits()) {
            hits.add(new SearchHits.Hit(document(index, hit.id(), hit.source()),
                    hit.score() == null ? 0 : hit.score()));
        }
        return new SearchHits(response.hits().total().value(), hits);
    }

    /**
     * Refreshes the index, then pages through all its live documents by id.
     *
     * @throws OpenSearchUnavailableException if OpenSearch or a shard of the index is unavailable
     */
    @Override
    public Map<String, IndexedDocument> liveDocuments(DocumentType type) {
        requireOpen();
        String index = indexNames.get(type);
        refresh(index);
        Map<String, IndexedDocument> documents = new LinkedHashMap<>();
        forEachLiveHit(index, Query.of(q -> q.matchAll(a -> a)),
                hit -> documents.put(hit.id(), document(index, hit.id(), hit.source())));
        return documents;
    }

    /**
     * Whether {@code error}, or any of its causes, means OpenSearch is unavailable rather than refusing the request.
     * Outages:
     * <ul>
     *   <li>an {@link OutageException} (so every {@link OpenSearchUnavailableException}), and whatever
     *       {@link Outages#isOutage} recognises (refused or timed-out connections, unknown hosts);</li>
     *   <li>any other {@link IOException} of the transport (connection reset or closed, no response), except an HTTP
     *       error response, which its status decides;</li>
     *   <li>HTTP status 408, 429 and every 5xx. 500 included: OpenSearch answers it for failures of its own (a node
     *       closing, a shard failing); retrying is safe since writes are conditional, and a 500 that persists then
     *       stalls the indexer visibly instead of dropping a change the index would miss for good;</li>
     *   <li>whatever the status, error types saying that the cluster cannot serve now: cluster blocks (a read-only or
     *       write block, 403 or 429), unavailable or relocating shards, missing cluster manager, rejected execution,
     *       circuit breakers, disconnected nodes.</li>
     * </ul>
     * Not outages: other 4xx answers (a document that does not fit the mapping, an invalid query, a missing index,
     * authentication or permission failures), a closed client, null.
     */
    @Override
    public boolean isOutage(Throwable error) {
        if (Outages.isOutage(error)) {
            return true;
        }
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OpenSearchFailure failure) {
                if (isOutageStatus(failure.status()) || OUTAGE_TYPES.contains(failure.type())) {
                    return true;
                }
            } else if (t instanceof OpenSearchException answered) {
                return isOutageStatus(answered.status()) || hasOutageType(answered.error());
            } else if (t instanceof ResponseException answered) {
                return isOutageStatus(answered.status());
            } else if (t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    private static boolean isOutageStatus(int status) {
        return status == 408 || status == 429 || status >= 500;
    }

    private static boolean hasOutageType(ErrorCause error) {
        for (ErrorCause cause = error; cause != null; cause = cause.causedBy()) {
            if (OUTAGE_TYPES.contains(cause.type())) {
                return true;
            }
        }
        return false;
    }

    /** {@code opensearch http://host:port (prefix*)}, without credentials. */
    @Override
    public String describe() {
        return description;
    }

    /** Closes the HTTP client; idempotent. Calls after this throw {@link IllegalStateException}. */
    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.CLOSED) {
            return;
        }
        connection.close();
    }

    @Override
    public String toString() {
        return describe();
    }

    private void requireOpen() {
        State current = state.get();
        if (current != State.OPEN) {
            throw new IllegalStateException("OpenSearch index is " + current + ": " + (current == State.NEW
                    ? "call open() first" : "closed"));
        }
    }

    private void refresh(String index) {
        RefreshResponse response = call("refreshing " + index, () -> client().indices().refresh(r -> r.index(index)));
        List<OpenSearchFailure> failures = shardFailures(index, response.shards());
        if (response.shards().failed() > 0 && failures.isEmpty()) {
            failures.add(new OpenSearchFailure(503, "refresh_failed", index,
                    response.shards().failed() + " of " + response.shards().total() + " shards failed to refresh"));
        }
        throwIfFailed("refreshing " + index, failures);
    }

    /** Every live document matching {@code query}, in pages sorted by id, with sequence numbers. */
    private void forEachLiveHit(String index, Query query, Consumer<Hit<Source>> consumer) {
        List<FieldValue> after = null;
        while (true) {
            List<FieldValue> searchAfter = after;
            SearchRequest request = SearchRequest.of(s -> {
                s.index(index)
                        .size(PAGE_SIZE)
                        .seqNoPrimaryTerm(true)
                        .trackTotalHits(t -> t.enabled(false))
                        .query(q -> q.bool(b -> b.filter(query).mustNot(notTombstone())))
                        .sort(o -> o.field(f -> f.field(ID_FIELD).order(SortOrder.Asc)));
                if (searchAfter != null) {
                    s.searchAfter(searchAfter);
                }
                return s;
            });
            SearchResponse<Source> response = call("searching " + index, () -> client().search(request, Source.class));
            throwIfFailed("searching " + index, shardFailures(index, response.shards()));
            List<Hit<Source>> hits = response.hits().hits();
            hits.forEach(consumer);
            if (hits.size() < PAGE_SIZE) {
                return;
            }
            after = hits.get(hits.size() - 1).sort();
        }
    }

    private static Query notTombstone() {
        return Query.of(q -> q.term(t -> t.field(DELETED_FIELD).value(FieldValue.of(true))));
    }

    private static Map<String, Object> source(String index, IndexedDocument document) {
        try {
            return DocumentJson.sourceOf(document);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("In index " + index + ": " + e.getMessage(), e);
        }
    }

    private static IndexedDocument document(String index, String id, Map<String, Object> source) {
        try {
            return DocumentJson.fromSource(id, source);
        } catch (IllegalStateException e) {
            throw new OpenSearchRefusedException("In index " + index + ": " + e.getMessage(), null);
        }
    }

    private static List<OpenSearchFailure> shardFailures(String index, ShardStatistics shards) {
        List<OpenSearchFailure> failures = new ArrayList<>();
        if (shards != null && shards.failed() > 0) {
            shards.failures().forEach(f -> failures.add(failure(0, f.reason(),
                    (f.index() == null ? index : f.index()) + " shard " + f.shard())));
        }
        return failures;
    }

    private static OpenSearchFailure failure(int status, ErrorCause error, String where) {
        return new OpenSearchFailure(status, error == null ? null : error.type(), where, reason(error));
    }

    /**
     * Throws if there are failures: an outage if any of them is one (the caller retries everything), else a refusal
     * naming each failure.
     */
    private void throwIfFailed(String what, List<OpenSearchFailure> failures) {
        if (failures.isEmpty()) {
            return;
        }
        OpenSearchFailure outage = failures.stream().filter(this::isOutage).findFirst().orElse(null);
        if (outage != null) {
            throw new OpenSearchUnavailableException("OpenSearch " + address + " is unavailable " + what + ": "
                    + outage.getMessage(), outage);
        }
        StringBuilder message = new StringBuilder("OpenSearch refused ").append(what).append(':');
        failures.stream().limit(5).forEach(f -> message.append("\n  ").append(f.getMessage()));
        if (failures.size() > 5) {
            message.append("\n  and ").append(failures.size() - 5).append(" more");
        }
        OpenSearchRefusedException refused = new OpenSearchRefusedException(message.toString(), failures.get(0));
        failures.stream().skip(1).limit(4).forEach(refused::addSuppressed);
        throw refused;
    }

    /** Runs a read as {@link #call} does, again while it fails because its indices vanished under it. */
    private <T> T searchAgainIfVanished(String what, Call<T> read) {
        long deadline = System.nanoTime() + VANISHED_RETRY.toNanos();
        long pause = 25;
        while (true) {
            try {
                return call(what, read);
            } catch (OpenSearchUnavailableException | OpenSearchRefusedException e) {
                if (!vanished(e) || System.nanoTime() + pause * 1_000_000 > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new OpenSearchUnavailableException("Interrupted while " + what, interrupted);
            }
            pause = Math.min(200, pause * 2);
        }
    }

    /** Whether OpenSearch answered that the indices of the request were deleted while it ran (see {@link #search}). */
    private static boolean vanished(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OpenSearchException answered) {
                return (answered.status() == 404 || answered.status() == 503)
                        && VANISHED_TYPES.contains(answered.error().type());
            }
            if (t instanceof ResponseException answered) {
                String body = String.valueOf(answered.getMessage());
                return (answered.status() == 404 || answered.status() == 503)
                        && VANISHED_TYPES.stream().anyMatch(type -> body.contains("\"type\":\"" + type + "\""));
            }
        }
        return false;
    }

    @FunctionalInterface
    private interface Call<T> {
        T run() throws IOException;
    }

    /**
     * Runs a request, turning every failure into an outage or a refusal (see {@link #isOutage}). A request that meets
     * an HTTP client broken for good ({@link #classify} says BROKEN) replaces the client, unless another request did
     * already, and runs once more: so a search heals the client as a write does, even when nothing is written. A
     * client that breaks again is left to the subscription's healer, which gives up after repeated breakage.
     */
    private <T> T call(String what, Call<T> call) {
        Connection used = connection;
        try {
            return call.run();
        } catch (IOException | RuntimeException e) {
            if (classify(e) != FailureKind.BROKEN) {
                throw failure(what, e);
            }
            replaceIfStill(used);
            try {
                return call.run();
            } catch (IOException | RuntimeException again) {
                throw failure(what, again);
            }
        }
    }

    /** Replaces the client if {@code broken} is still the current one (see {@link #reopen}). */
    private synchronized void replaceIfStill(Connection broken) {
        if (connection == broken && state.get() == State.OPEN) {
            reopen();
        }
    }

    /** What a failed request is: the index closed, an outage (see {@link #isOutage}) or a refusal. */
    private RuntimeException failure(String what, Exception e) {
        if (e instanceof IllegalStateException && state.get() == State.CLOSED) {
            return new IllegalStateException("OpenSearch index is closed", e);
        }
        if (isOutage(e)) {
            return new OpenSearchUnavailableException("OpenSearch " + address + " is unavailable " + what + ": "
                    + message(e), e);
        }
        return new OpenSearchRefusedException("OpenSearch refused " + what + ": " + message(e), e);
    }

    private static String message(Throwable e) {
        if (e instanceof OpenSearchException answered) {
            return answered.status() + " " + answered.error().type() + ": " + reason(answered.error());
        }
        if (e instanceof ResponseException answered) {
            // The first line: method, URL and status; the body follows and can be long.
            String message = String.valueOf(answered.getMessage());
            return truncate(message);
        }
        return truncate(e.toString());
    }

    /** The reason of {@code error} and of its causes, as far as they add something. */
    private static String reason(ErrorCause error) {
        if (error == null) {
            return "no reason given";
        }
        StringBuilder reason = new StringBuilder(String.valueOf(error.reason()));
        int depth = 0;
        for (ErrorCause cause = error.causedBy(); cause != null && depth < 4; cause = cause.causedBy(), depth++) {
            if (cause.reason() != null && !reason.toString().contains(cause.reason())) {
                reason.append("; caused by ").append(cause.type()).append(": ").append(cause.reason());
            }
        }
        return truncate(reason.toString());
    }

    private static String truncate(String text) {
        return text.length() <= MAX_REASON_LENGTH ? text : text.substring(0, MAX_REASON_LENGTH) + "...";
    }

    private static boolean isQueryError(ErrorCause error) {
        for (ErrorCause cause = error; cause != null; cause = cause.causedBy()) {
            if (QUERY_ERROR_TYPES.contains(cause.type())
                    || cause.rootCause().stream().anyMatch(root -> QUERY_ERROR_TYPES.contains(root.type()))) {
                return true;
            }
        }
        return false;
    }

    private static InvalidQueryException invalidQuery(DocumentType type, String query, ErrorCause error,
            Throwable cause) {
        // The deepest cause says where the query breaks: 'Encountered "<EOF>" at line 1, column 15.', then a long
        // list of what the parser expected instead, left out.
        ErrorCause deepest = error;
        while (deepest.causedBy() != null) {
            deepest = deepest.causedBy();
        }
        String detail = deepest.reason() != null ? deepest.reason() : reason(error);
        int lineEnd = detail.indexOf('\n');
        return new InvalidQueryException("Cannot search " + type.table() + " for '" + query + "': "
                + truncate(lineEnd < 0 ? detail : detail.substring(0, lineEnd)), cause);
    }

    /** A dynamic template mapping new fields whose first value has the JSON type {@code jsonType} as text. */
    private static Map<String, DynamicTemplate> columnsAsText(String jsonType) {
        return Map.of("columns_" + jsonType + "_as_text", DynamicTemplate.of(t -> t
                .matchMappingType(jsonType)
                .mapping(p -> p.text(x -> x.analyzer("standard")))));
    }

    /** A stored {@code _source}: fields in order, numbers exact (see the mapper's settings). */
    static final class Source extends LinkedHashMap<String, Object> {
        private static final long serialVersionUID = 1L;
    }

    /** The URL to show in descriptions and messages: scheme, host, port and path, never user information. */
    private static String withoutUserInfo(URI url) {
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
                + (url.getRawPath() == null ? "" : url.getRawPath());
    }
}
