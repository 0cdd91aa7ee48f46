package dev.changeflow.capture.internal;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer groups that have committed offsets on a topic, looked up in the background on a daemon thread (a
 * schema change must not wait for it): the consumers an incompatible change affects.
 */
public final class TopicConsumers implements RowSchemaVersions.ConsumerGroupsOfTopic {
    private static final Logger LOG = LoggerFactory.getLogger(TopicConsumers.class);
    private static final ExecutorService LOOKUPS = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "changeflow-schema-consumers");
        t.setDaemon(true);
        return t;
    });
    private final String bootstrap;

    public TopicConsumers(String bootstrap) {
        this.bootstrap = bootstrap;
    }

    @Override
    public void lookUp(String topic, Consumer<List<String>> then) {
        LOOKUPS.execute(() -> {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                TreeSet<String> groups = new TreeSet<>();
                for (GroupListing g : admin.listGroups(ListGroupsOptions.forConsumerGroups()).all()
                        .get(20, TimeUnit.SECONDS)) {
                    var offsets = admin.listConsumerGroupOffsets(g.groupId()).partitionsToOffsetAndMetadata()
                            .get(20, TimeUnit.SECONDS);
                    if (offsets.keySet().stream().anyMatch(tp -> tp.topic().equals(topic))) {
                        groups.add(g.groupId());
                    }
                }
                then.accept(List.copyOf(groups));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception | LinkageError e) {
                LOG.warn("Could not look up the consumer groups of {}: {}", topic, e.toString());
            }
        });
    }
}
