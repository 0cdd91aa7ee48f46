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
import dev.changeflow.invalidator.internal.RulesFile;
import dev.changeflow.invalidator.internal.RulesFile.InvalidRulesException;
import dev.changeflow.invalidator.internal.RulesValidator;
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
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
 * <p>Meters: {@code changeflow.invalidator.keys.requested}, {@code changeflow.invalidator.keys.unlinked} and the
 * timer {@code changeflow.invalidator.commit.to.invalidated} (from a change's commit in Postgres to the end of the
 * UNLINK of its keys), besides the subscription's own {@code changeflow.subscription.*}. Thread-safe.
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
        this.rules = loadRules(settings);
        Map<String, List<RulesValidator.Column>> columns = readColumns(settings);
        try {
            RulesValidator.check(rules, SchemaMigrations.SCHEMA, columns);
        } catch (InvalidRulesException e) {
            throw rulesProblem(settings, e.getMessage());
        }
        this.topics = selectTopics(settings, rules);
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
                    .onBatch(unlinker)
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

    private static InvalidationRules loadRules(Settings settings) {
        Optional<String> file = settings.find(InvalidatorSettings.RULES_FILE);
        try {
            return file.isPresent() ? RulesFile.read(Path.of(file.get()))
                    : RulesFile.readResource(InvalidatorSettings.DEFAULT_RULES_RESOURCE);
        } catch (InvalidRulesException e) {
            throw rulesProblem(settings, e.getMessage());
        }
    }

    private static ConfigException rulesProblem(Settings settings, String problem) {
        return ConfigException.unusable(InvalidatorSettings.RULES_FILE,
                settings.raw(InvalidatorSettings.RULES_FILE).orElse(null), problem);
    }

    private static Map<String, List<RulesValidator.Column>> readColumns(Settings settings) {
        PostgresEndpoint endpoint = PostgresEndpoint.from(settings);
        try (Connection connection = endpoint.connect()) {
            return RulesValidator.columnsOf(connection, SchemaMigrations.SCHEMA);
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
