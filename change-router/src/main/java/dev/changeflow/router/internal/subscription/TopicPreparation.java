package dev.changeflow.router.internal.subscription;

import dev.changeflow.config.Mode;
import dev.changeflow.router.TopicRouter;
import dev.changeflow.router.topics.KafkaReachability;
import dev.changeflow.router.topics.TopicProvisioner;
import dev.changeflow.router.topics.TopicProvisioner.TopicSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Before a subscription starts: Kafka answers, the subscribed topics exist (waiting for them up to the startup
 * timeout, since capture creates them), and each has a dead-letter topic shaped like it. For a subscription of state
 * topics it also measures how far each partition can be read now (see {@link #prepare}).
 */
final class TopicPreparation {
    private TopicPreparation() {
    }

    /**
     * Prepares {@code topics}; with {@code measureEnds}, returns, for each of their partitions that holds something a
     * {@code read_committed} reader has not necessarily read, its end offset for such a reader (the last stable
     * offset), measured now. A partition whose end is at or below its start offset (nothing to read) is left out.
     * Without {@code measureEnds}, returns an empty map.
     */
    static Map<TopicPartition, Long> prepare(Map<String, Object> clientProperties, List<String> topics,
            Duration timeout, Duration deadLetterRetention, boolean measureEnds) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(KafkaReachability.adminConfig(clientProperties, timeout))) {
            KafkaReachability.check(admin, String.valueOf(clientProperties.get("bootstrap.servers")), timeout);
            Set<String> missing = missing(admin, topics);
            while (!missing.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Topics " + missing + " do not exist after waiting "
                            + timeout.toSeconds() + " s; capture creates them on its first start "
                            + "(topic auto-creation is off)");
                }
                TimeUnit.MILLISECONDS.sleep(250);
                missing = missing(admin, topics);
            }
            Map<String, TopicDescription> sources = admin.describeTopics(topics).allTopicNames().get();
            Map<ConfigResource, Config> configs = admin.describeConfigs(topics.stream()
                    .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all().get();
            List<TopicSpec> deadLetters = new ArrayList<>();
            for (String topic : topics) {
                TopicDescription source = sources.get(topic);
                int replicas = source.partitions().get(0).replicas().size();
                int minIsr = Integer.parseInt(configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic))
                        .get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG).value());
                deadLetters.add(TopicSpec.deadLetterTopic(TopicRouter.deadLetterTopicFor(topic),
                        source.partitions().size(), replicas, minIsr, deadLetterRetention));
            }
            // Dead-letter topics made weaker by hand are reported, not fatal: the source topics are capture's to check.
            new TopicProvisioner(admin, Mode.DEV).provision(deadLetters);
            return measureEnds ? readableEnds(admin, sources) : Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while preparing topics", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not prepare topics " + topics + ": " + e.getCause(), e.getCause());
        }
    }

    private static Map<TopicPartition, Long> readableEnds(Admin admin, Map<String, TopicDescription> topics)
            throws InterruptedException, ExecutionException {
        Map<TopicPartition, OffsetSpec> starts = new HashMap<>();
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        topics.forEach((name, description) -> description.partitions().forEach(p -> {
            TopicPartition tp = new TopicPartition(name, p.partition());
            starts.put(tp, OffsetSpec.earliest());
            ends.put(tp, OffsetSpec.latest());
        }));
        Map<TopicPartition, ListOffsetsResultInfo> start = admin.listOffsets(starts).all().get();
        // read_committed: the last stable offset, the end a read_committed consumer reads up to.
        Map<TopicPartition, ListOffsetsResultInfo> end = admin.listOffsets(ends,
                new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get();
        Map<TopicPartition, Long> readable = new HashMap<>();
        end.forEach((tp, info) -> {
            if (info.offset() > start.get(tp).offset()) {
                readable.put(tp, info.offset());
            }
        });
        return readable;
    }

    private static Set<String> missing(Admin admin, List<String> topics)
            throws InterruptedException, ExecutionException {
        Set<String> existing = admin.listTopics().names().get();
        Set<String> missing = new HashSet<>(topics);
        missing.removeAll(existing);
        return missing;
    }
}
