package dev.changeflow.router.topics;

import dev.changeflow.config.Mode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics capture writes to, with the durability our design requires, and reports existing topics that are
 * weaker than configured: fewer partitions, a lower replication factor or a lower {@code min.insync.replicas}. In
 * production mode such a topic stops startup; in dev mode it is a warning.
 */
public final class TopicProvisioner {
    private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

    /** What one topic must look like. */
    public record TopicSpec(String name, int partitions, short replicationFactor, Map<String, String> configs) {
        /** A change topic: retention, lz4, segment and min ISR as configured; the broker stamps append time. */
        public static TopicSpec changeTopic(String name, int partitions, int replicationFactor, int minInsync,
                Duration retention, Duration segment) {
            return new TopicSpec(name, partitions, (short) replicationFactor, Map.of(
                    TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minInsync),
                    TopicConfig.RETENTION_MS_CONFIG, Long.toString(retention.toMillis()),
                    TopicConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                    TopicConfig.SEGMENT_MS_CONFIG, Long.toString(segment.toMillis()),
                    // Append time lets latency be measured from commit time to the broker's clock.
                    TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"));
        }

        /**
         * The dead-letter topic of a change topic: as many partitions and replicas as its source, so that a key's
         * records keep their order there too, lz4, and its own retention.
         */
        public static TopicSpec deadLetterTopic(String name, int partitions, int replicationFactor, int minInsync,
                Duration retention) {
            return new TopicSpec(name, partitions, (short) replicationFactor, Map.of(
                    TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minInsync),
                    TopicConfig.RETENTION_MS_CONFIG, Long.toString(retention.toMillis()),
                    TopicConfig.COMPRESSION_TYPE_CONFIG, "lz4"));
        }

        /**
         * A compacted state topic (latest event per row, see {@link dev.changeflow.router.StateTopics}): as many
         * partitions as its change topic, so a key lands on the same partition number, kept forever, lz4, and
         * compaction tuned as our design documents ask: a record stays uncompacted for at least
         * {@code minCompactionLag}, a tombstone stays readable for {@code deleteRetention}, and a partition is
         * cleaned once half of it is dirty.
         */
        public static TopicSpec stateTopic(String name, int partitions, int replicationFactor, int minInsync,
                Duration segment, Duration minCompactionLag, Duration deleteRetention) {
            return new TopicSpec(name, partitions, (short) replicationFactor, Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.RETENTION_MS_CONFIG, "-1",
                    TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minInsync),
                    TopicConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                    TopicConfig.SEGMENT_MS_CONFIG, Long.toString(segment.toMillis()),
                    TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Long.toString(minCompactionLag.toMillis()),
                    TopicConfig.DELETE_RETENTION_MS_CONFIG, Long.toString(deleteRetention.toMillis()),
                    TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.5"));
        }

        /** A compacted topic for source offsets: one partition, kept forever. */
        public static TopicSpec offsetsTopic(String name, int replicationFactor, int minInsync) {
            return new TopicSpec(name, 1, (short) replicationFactor, Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minInsync)));
        }
    }

    /** A configured property an existing topic falls short of. */
    public static final class WeakTopicException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        WeakTopicException(String message) {
            super(message);
        }
    }

    private final Admin admin;
    private final Mode mode;

    public TopicProvisioner(Admin admin, Mode mode) {
        this.admin = admin;
        this.mode = mode;
    }

    /**
     * Creates missing topics and checks existing ones.
     *
     * @return the problems found with existing topics (empty if none); in dev mode they were logged as warnings
     * @throws WeakTopicException in production mode, if any existing topic is weaker than its spec
     */
    public List<String> provision(Collection<TopicSpec> specs) throws InterruptedException, ExecutionException {
        Set<String> existing = admin.listTopics().names().get();
        List<NewTopic> missing = specs.stream().filter(s -> !existing.contains(s.name()))
                .map(s -> new NewTopic(s.name(), s.partitions(), s.replicationFactor()).configs(s.configs()))
                .toList();
        if (!missing.isEmpty()) {
            try {
                admin.createTopics(missing).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            LOG.info("Created topics {}", missing.stream().map(NewTopic::name).toList());
        }
        List<TopicSpec> toCheck = specs.stream().filter(s -> existing.contains(s.name())).toList();
        List<String> problems = toCheck.isEmpty() ? List.of() : check(toCheck);
        if (!problems.isEmpty()) {
            String message = "Existing topics are weaker than configured: " + String.join("; ", problems);
            if (mode == Mode.PRODUCTION) {
                throw new WeakTopicException(message + ". Fix the topics, or set CHANGEFLOW_MODE=dev to start anyway");
            }
            LOG.warn("{} (continuing: CHANGEFLOW_MODE=dev)", message);
        }
        return problems;
    }

    /**
     * A topic as the brokers have it, next to its spec.
     *
     * @param exists false if there is no such topic (then the other fields are empty)
     * @param configs the topic's value of every config its spec sets, plus cleanup.policy
     * @param differences each way it differs from its spec (fewer partitions, lower replication factor, another
     *     config value); empty when it matches
     */
    public record TopicState(TopicSpec spec, boolean exists, int partitions, int replicationFactor,
            Map<String, String> configs, List<String> differences) {
    }

    /** Reads every topic of {@code specs} and compares it with its spec. Changes nothing. */
    public List<TopicState> inspect(Collection<TopicSpec> specs) throws InterruptedException, ExecutionException {
        Set<String> existing = admin.listTopics().names().get();
        List<String> present = specs.stream().map(TopicSpec::name).filter(existing::contains).toList();
        Map<String, TopicDescription> descriptions = present.isEmpty() ? Map.of()
                : admin.describeTopics(present).allTopicNames().get();
        Map<ConfigResource, Config> configs = present.isEmpty() ? Map.of() : admin.describeConfigs(present.stream()
                .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList()).all().get();
        List<TopicState> states = new ArrayList<>();
        for (TopicSpec spec : specs) {
            if (!existing.contains(spec.name())) {
                states.add(new TopicState(spec, false, 0, 0, Map.of(), List.of("missing")));
                continue;
            }
            TopicDescription d = descriptions.get(spec.name());
            int partitions = d.partitions().size();
            int replicas = d.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
            Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, spec.name()));
            Map<String, String> values = new java.util.TreeMap<>();
            List<String> differences = new ArrayList<>();
            if (partitions < spec.partitions()) {
                differences.add(partitions + " partitions, designed " + spec.partitions());
            }
            if (replicas < spec.replicationFactor()) {
                differences.add("replication factor " + replicas + ", designed " + spec.replicationFactor());
            }
            Set<String> keys = new java.util.TreeSet<>(spec.configs().keySet());
            keys.add(TopicConfig.CLEANUP_POLICY_CONFIG);
            for (String key : keys) {
                String actual = config.get(key) == null ? null : config.get(key).value();
                values.put(key, actual);
                String wanted = spec.configs().get(key);
                if (wanted != null && !wanted.equals(actual)) {
                    differences.add(key + "=" + actual + ", designed " + wanted);
                }
            }
            states.add(new TopicState(spec, true, partitions, replicas, values, differences));
        }
        return states;
    }

    private List<String> check(List<TopicSpec> specs) throws InterruptedException, ExecutionException {
        Map<String, TopicDescription> descriptions =
                admin.describeTopics(specs.stream().map(TopicSpec::name).toList()).allTopicNames().get();
        Map<ConfigResource, Config> configs = admin.describeConfigs(specs.stream()
                .map(s -> new ConfigResource(ConfigResource.Type.TOPIC, s.name())).toList()).all().get();
        List<String> problems = new ArrayList<>();
        for (TopicSpec spec : specs) {
            TopicDescription d = descriptions.get(spec.name());
            int partitions = d.partitions().size();
            int replicas = d.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
            if (partitions < spec.partitions()) {
                problems.add(spec.name() + " has " + partitions + " partitions, configured " + spec.partitions());
            }
            if (replicas < spec.replicationFactor()) {
                problems.add(spec.name() + " has replication factor " + replicas + ", configured "
                        + spec.replicationFactor());
            }
            String wantedIsr = spec.configs().get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
            Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, spec.name()));
            String wantedPolicy = spec.configs().get(TopicConfig.CLEANUP_POLICY_CONFIG);
            String policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG) == null ? null
                    : config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
            if (wantedPolicy != null && !wantedPolicy.equals(policy)) {
                // A state topic that deletes by time loses rows; one that is not compacted grows without end.
                problems.add(spec.name() + " has cleanup.policy " + policy + ", configured " + wantedPolicy);
            }
            String isr = config.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG).value();
            if (wantedIsr != null && Integer.parseInt(isr) < Integer.parseInt(wantedIsr)) {
                problems.add(spec.name() + " has min.insync.replicas " + isr + ", configured " + wantedIsr);
            }
        }
        return problems.stream().sorted().collect(Collectors.toList());
    }
}
