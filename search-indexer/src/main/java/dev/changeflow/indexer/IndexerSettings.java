package dev.changeflow.indexer;

import dev.changeflow.config.Setting;
import java.time.Duration;
import java.util.List;

/**
 * Every setting of the search indexer, declared once with its description, default and validation. Where the servers
 * are comes from {@link dev.changeflow.config.ConnectionSettings} (Kafka; OpenSearch when it is the engine); how the
 * group consumes, including the size and time that bound a bulk write (batch-size, batch-wait), comes from
 * {@link dev.changeflow.router.subscription.SubscriptionSettings}; topic names from
 * {@link dev.changeflow.router.RouterSettings}.
 */
public final class IndexerSettings {

    /** The search engines the indexer can write to. */
    public enum Engine {
        /** Embedded Lucene in a local directory: the default, for one instance. */
        LUCENE,
        /** An OpenSearch cluster: for production and for several indexer instances. */
        OPENSEARCH
    }

    /** Default of {@link #GROUP}. */
    public static final String DEFAULT_GROUP = "search-indexer";

    /** Default of {@link #HTTP_PORT}. */
    public static final int DEFAULT_HTTP_PORT = 8084;

    public static final Setting<Engine> ENGINE = Setting.oneOf("changeflow.indexer.engine",
            "Search engine holding the index. lucene: embedded, on disk in changeflow.indexer.lucene-directory, "
                    + "searched through this process's HTTP endpoint; one indexer instance only (the directory is "
                    + "locked). opensearch: the cluster at changeflow.opensearch.url; any number of instances.",
            Engine.class, Engine.LUCENE);

    public static final Setting<String> LUCENE_DIRECTORY = Setting.string("changeflow.indexer.lucene-directory",
            "Directory of the embedded Lucene index (one sub-directory per document type), created if missing. "
                    + "It survives restarts: the indexer resumes from its committed Kafka offsets.",
            "data/search-index")
            .withValidation("a non-blank path", v -> !v.isBlank());

    public static final Setting<String> GROUP = Setting.string("changeflow.indexer.group",
            "Kafka consumer group of the search indexer. Resetting its offsets to the beginning replays every "
                    + "change; the index stays equal to the database.",
            DEFAULT_GROUP)
            .withValidation("1 to 249 of a-z A-Z 0-9 . _ -", v -> v.matches("[a-zA-Z0-9._-]{1,249}"));

    public static final Setting<String> INDEX_PREFIX = Setting.string("changeflow.indexer.index-prefix",
            "Prefix of the OpenSearch index names: <prefix>tasks and <prefix>projects.",
            "changeflow-")
            .withValidation("1 to 100 of a-z 0-9 . _ - (OpenSearch index names are lowercase)",
                    v -> v.matches("[a-z0-9][a-z0-9._-]{0,99}"));

    public static final Setting<Integer> OPENSEARCH_SHARDS = Setting.integer("changeflow.indexer.opensearch-shards",
            "Primary shards of each OpenSearch index, when the indexer creates it (existing indices are left as "
                    + "they are).",
            1, 1, 1024);

    public static final Setting<Integer> OPENSEARCH_REPLICAS = Setting.integer(
            "changeflow.indexer.opensearch-replicas",
            "Replicas of each OpenSearch shard, when the indexer creates the index. 0 on a single-node cluster.",
            1, 0, 16);

    public static final Setting<String> OPENSEARCH_REFRESH_INTERVAL = Setting.string(
            "changeflow.indexer.opensearch-refresh-interval",
            "How often OpenSearch makes new writes searchable (index.refresh_interval), when the indexer creates "
                    + "the index: the bulk of commit-to-searchable latency. Reads the indexer makes for versioning "
                    + "are real time and do not wait for it.",
            "1s")
            .withValidation("a positive OpenSearch time value such as 200ms, 1s or 30s",
                    v -> v.matches("[1-9][0-9]*(ms|s|m)"));

    public static final Setting<Duration> OPENSEARCH_REQUEST_TIMEOUT = Setting.duration(
            "changeflow.indexer.opensearch-request-timeout",
            "How long one OpenSearch request may take; a timeout counts as an outage: the batch is retried "
                    + "without limit, never dead-lettered.",
            Duration.ofSeconds(30))
            .withValidation("a duration from 100ms to 10m",
                    d -> d.compareTo(Duration.ofMillis(100)) >= 0 && d.compareTo(Duration.ofMinutes(10)) <= 0);

    public static final Setting<String> HTTP_HOST = Setting.string("changeflow.indexer.http-host",
            "Address the search endpoint (GET /search/tasks?q=...) listens on; 0.0.0.0 for every interface.",
            "127.0.0.1")
            .withValidation("a host name or IP address", v -> !v.isBlank() && !v.contains(" "));

    public static final Setting<Integer> HTTP_PORT = Setting.integer("changeflow.indexer.http-port",
            "Port of the search endpoint; 0 picks a free port (logged at startup).",
            DEFAULT_HTTP_PORT, 0, 65535);

    public static final Setting<Integer> SEARCH_MAX_RESULTS = Setting.integer(
            "changeflow.indexer.search-max-results",
            "Most hits one search returns; a larger limit parameter is lowered to it.",
            100, 1, 10_000);

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> SETTINGS = List.of(ENGINE, LUCENE_DIRECTORY, GROUP, INDEX_PREFIX,
            OPENSEARCH_SHARDS, OPENSEARCH_REPLICAS, OPENSEARCH_REFRESH_INTERVAL, OPENSEARCH_REQUEST_TIMEOUT,
            HTTP_HOST, HTTP_PORT, SEARCH_MAX_RESULTS);

    private IndexerSettings() {
    }
}
