package dev.changeflow.router.ops;

import dev.changeflow.router.topics.ConsumerLag;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;

/**
 * The lag of consumer groups as the broker sees it, whether their consumers run or not: per group, the
 * {@link ConsumerLag} of every partition of each topic the group has committed offsets for, with totals per group and
 * topic, per group, and overall. Immutable.
 *
 * @param groups one entry per group with committed offsets on an existing topic, sorted by group
 */
public record LagReport(List<ConsumerLag> groups) {

    /**
     * The lag of one group on one topic: the sum over its partitions.
     *
     * @param partitions how many partitions the topic has
     */
    public record TopicLag(String group, String topic, int partitions, long lag) {
    }

    public LagReport {
        groups = groups.stream().sorted(Comparator.comparing(ConsumerLag::group)).toList();
    }

    /**
     * Reads the lag of every consumer group known to the cluster. Groups without committed offsets (or only on topics
     * that no longer exist) are left out. Blocking; uses the admin client's timeouts.
     *
     * @throws ExecutionException if Kafka answered with an error
     */
    public static LagReport read(Admin admin) throws InterruptedException, ExecutionException {
        List<String> groups = admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get().stream()
                .map(GroupListing::groupId).sorted().toList();
        return new LagReport(ConsumerLag.ofCommittedTopics(admin, groups));
    }

    /**
     * Reads the lag of {@code group} only. The report is empty if the group is unknown or has no committed offsets.
     *
     * @throws ExecutionException if Kafka answered with an error
     */
    public static LagReport read(Admin admin, String group) throws InterruptedException, ExecutionException {
        return new LagReport(ConsumerLag.ofCommittedTopics(admin, List.of(Objects.requireNonNull(group, "group"))));
    }

    /** The lag of {@code group}, if it is in this report. */
    public Optional<ConsumerLag> group(String group) {
        return groups.stream().filter(g -> g.group().equals(group)).findFirst();
    }

    /** Every group's lag per topic, sorted by group and topic. */
    public List<TopicLag> topics() {
        List<TopicLag> topics = new ArrayList<>();
        for (ConsumerLag group : groups) {
            for (String topic : group.topics()) {
                int partitions = (int) group.partitions().stream()
                        .filter(p -> p.partition().topic().equals(topic)).count();
                topics.add(new TopicLag(group.group(), topic, partitions, group.total(topic)));
            }
        }
        return topics;
    }

    /** Each group's total lag, in group order. */
    public Map<String, Long> totalsByGroup() {
        Map<String, Long> totals = new LinkedHashMap<>();
        groups.forEach(g -> totals.put(g.group(), g.total()));
        return totals;
    }

    /** The lag of every group together. */
    public long total() {
        return groups.stream().mapToLong(ConsumerLag::total).sum();
    }
}
