package dev.changeflow.invalidator;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.db.PostgresEndpoint;
import dev.changeflow.db.SchemaMigrations;
import dev.changeflow.invalidator.internal.InvalidationRules;
import dev.changeflow.invalidator.internal.InvalidatorMetrics;
import dev.changeflow.invalidator.internal.RedisConnector;
import dev.changeflow.invalidator.internal.RedisUnlinker;
import dev.changeflow.invalidator.internal.RulesFile.InvalidRulesException;
import dev.changeflow.invalidator.internal.RulesRevalidator;
import dev.changeflow.invalidator.internal.RulesValidator;
import dev.changeflow.invalidator.internal.ObservedShapes;
import dev.changeflow.invalidator.internal.TopicSelection;
import dev.changeflow.router.RouterSettings;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.subscription.ServiceLifecycle;
import dev.changeflow.router.subscription.SubscriberService;
import dev.changeflow.router.subscription.Subscription;
import dev.changeflow.router.subscription.SubscriptionOptions;
import io.lettuce.core.RedisException;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache invalidator: a member of a Kafka consumer group on the change topics that deletes, with UNLINK, the Redis
 * keys each change makes stale, as named by the invalidation rules. Instances with the same group share the
 * partitions; any of them can stop and the others take its partitions over.
 *
 * <p>Lifecycle, each step once: {@link #create} validates every setting and checks the rules against the tables in
 * Postgres (nothing is left connected); {@link #start} connects to Redis and joins the group; {@link #close} leaves
 * the group after finishing the batches in hand, then disconnects from Redis. An unexpected transition throws
 * {@link IllegalStateException}.
 *
 * <p>Delivery is at least once and invalidation idempotent: an event is committed only after the UNLINK of its keys
 * succeeded. While Redis is unreachable or not answering, batches are retried without limit and nothing is
 * dead-lettered; the group's lag grows and drains once Redis is back.
 *
 * <p>Tables may change shape while it runs (a migration adds, drops or renames a column). Whenever the columns of a
 * table's rows change, its rules are checked again: a key template that names a column the rows no longer have
 * yields no key and is reported (the gauge {@code changeflow.invalidator.rules.broken{table,template}} at 1, a WARN
 * line), until the column is back (gauge 0, an INFO line) or the rules are fixed and the service restarted. The
 * table's other templates keep their keys; no event fails for it.
 *
 * <p>Meters: {@code changeflow.invalidator.keys.requested}, {@code changeflow.invalidator.keys.unlinked}, the
 * timer {@code changeflow.invalidator.commit.to.invalidated} (from a change's commit in Postgres to the end of the
 * UNLINK of its keys) and the gauges {@code changeflow.invalidator.rules.broken}, besides the subscription's own
 * {@code changeflow.subscription.*}. Thread-safe.
 */
public final class InvalidatorService extends SubscriberService {
    private static final Logger LOG = LoggerFactory.getLogger(InvalidatorService.class);

    private final Settings settings;
    private final MeterRegistry registry;
    private final InvalidationRules rules;
    private final List<String> topics;
    private final String group;
    private final String bootstrap;
    private final URI redisUrl;
    private final SubscriptionOptions options;
    /** The tables' columns as checked at startup, where the shapes the rules are re-validated against start. */
    private final Catalog catalog;
    private volatile RedisConnector redis;

    private InvalidatorService(Settings settings, MeterRegistry registry) {
        super("the cache invalidator", "Cache invalidator");
        this.settings = settings;
        this.registry = Objects.requireNonNull(registry, "registry");
        // Every setting that does not parse fails here, before anything is connected.
        InvalidatorSettings.SETTINGS.forEach(settings::find);
        this.group = settings.get(InvalidatorSettings.GROUP);
        this.bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim();
        this.redisUrl = settings.get(ConnectionSettings.REDIS_URL);
        this.options = SubscriptionOptions.from(settings);
        this.rules = CacheRules.load(settings).rules();
        Catalog catalog = readCatalog(settings);
        try {
            RulesValidator.check(rules, SchemaMigrations.SCHEMA, catalog.columns());
        } catch (InvalidRulesException e) {
            throw CacheRules.problem(settings, e.getMessage());
        }
        this.topics = selectTopics(settings, rules);
        this.catalog = catalog;
    }

    /**
     * Validates {@code settings}, reads the rules and checks them against the columns of the {@code app} tables in
     * Postgres; connects to nothing else.
     *
     * @throws ConfigException one line naming the setting at fault: an invalid or missing setting; rules that do not
     *     parse or name an unknown table or column (naming the rules file, the table, the template and the column,
     *     and listing the columns there are); Postgres unreachable; topics that do not match the rules' tables
     */
    public static InvalidatorService create(Settings settings, MeterRegistry registry) {
        return new InvalidatorService(Objects.requireNonNull(settings, "settings"), registry);
    }

    /**
     * Connects to Redis and joins the consumer group; consuming goes on in the background. Nothing is left running
     * if it fails.
     *
     * @throws ConfigException naming {@code CHANGEFLOW_REDIS_URL} if Redis cannot be reached or refuses the
     *     connection
     * @throws IllegalStateException if Kafka does not answer or a topic does not exist within the subscription's
     *     startup timeout, or if the service was already started or closed
     */
    @Override
    public void start() {
        start(() -> {
            redis = connectRedis();
            RedisConnector connector = redis;
            RedisUnlinker unlinker = new RedisUnlinker(rules, connector::reactive,
                    settings.get(InvalidatorSettings.UNLINK_CHUNK_SIZE),
                    new InvalidatorMetrics(registry, Clock.systemUTC()));
            Subscription subscription = Subscription.builder(bootstrap, group)
                    .topics(topics)
                    .onBatch(new RulesRevalidator(catalog.shapes(rules), SchemaMigrations.SCHEMA, registry, unlinker))
                    .dependency(connector)
                    .meterRegistry(registry)
                    .options(options)
                    .start();
            LOG.info("Cache invalidator started: group {} on {}, rules {} ({} tables, {} key templates), Redis {}",
                    group, topics, rules.source(), rules.tables().size(), rules.templateCount(), redis.maskedUrl());
            return subscription;
        });
    }

    /** The consumer group. */
    @Override
    public String group() {
        return group;
    }

    /** The topics consumed, as chosen at {@link #create}. */
    public List<String> topics() {
        return topics;
    }

    /** {@code invalidator}. */
    @Override
    public String name() {
        return "invalidator";
    }

    /** The Redis connector in use; null before {@link #start}. For tests that break its connection. */
    RedisConnector redisConnector() {
        return redis;
    }

    /** Closes Redis (the subscription is closed first). */
    @Override
    protected void releaseClients() {
        RedisConnector r = redis;
        if (r != null) {
            r.close();
        }
    }

    private RedisConnector connectRedis() {
        try {
            return RedisConnector.connect(redisUrl, settings.get(InvalidatorSettings.REDIS_COMMAND_TIMEOUT),
                    settings.get(InvalidatorSettings.REDIS_RECONNECT_MAX_DELAY));
        } catch (RedisException e) {
            throw ConfigException.unusable(ConnectionSettings.REDIS_URL,
                    settings.raw(ConnectionSettings.REDIS_URL).orElse(null),
                    "cannot connect to Redis: " + ServiceLifecycle.rootMessage(e));
        }
    }

    /** The columns of the tables, and the WAL position just before they were read (if the server gives one). */
    private record Catalog(Map<String, List<RulesValidator.Column>> columns, OptionalLong lsn) {
        ObservedShapes shapes(InvalidationRules rules) {
            if (lsn.isEmpty()) {
                return new ObservedShapes(rules);
            }
            Map<String, List<String>> names = new LinkedHashMap<>();
            columns.forEach((table, list) -> names.put(table, list.stream().map(RulesValidator.Column::name).toList()));
            return new ObservedShapes(rules, names, lsn.getAsLong());
        }
    }

    private static Catalog readCatalog(Settings settings) {
        PostgresEndpoint endpoint = PostgresEndpoint.from(settings);
        try (Connection connection = endpoint.connect()) {
            OptionalLong lsn = RulesValidator.walPosition(connection);
            return new Catalog(RulesValidator.columnsOf(connection, SchemaMigrations.SCHEMA), lsn);
        } catch (SQLException e) {
            throw ConfigException.unusable(ConnectionSettings.POSTGRES_URL,
                    settings.raw(ConnectionSettings.POSTGRES_URL).orElse(null),
                    "cannot read the columns of schema " + SchemaMigrations.SCHEMA + " to check the invalidation "
                            + "rules: " + endpoint.describe(e));
        }
    }

    private static List<String> selectTopics(Settings settings, InvalidationRules rules) {
        Map<String, String> topicOf;
        try {
            topicOf = TopicSelection.topicsOf(rules, TopicRouter.fromSettings(settings));
        } catch (IllegalArgumentException e) {
            throw ConfigException.unusable(RouterSettings.TOPIC_REGEX, settings.get(RouterSettings.TOPIC_REGEX),
                    e.getMessage());
        }
        Optional<String> configured = settings.find(InvalidatorSettings.TOPICS);
        try {
            return TopicSelection.select(topicOf, configured);
        } catch (IllegalArgumentException e) {
            throw ConfigException.unusable(InvalidatorSettings.TOPICS, configured.orElse(null), e.getMessage());
        }
    }
}
