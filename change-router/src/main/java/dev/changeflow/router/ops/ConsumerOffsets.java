package dev.changeflow.router.ops;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedMemberEpochException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.StaleMemberEpochException;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Moves the committed offsets of a consumer group on one topic, in two steps: {@link #plan} computes, per partition,
 * the committed offset now and where it would go, changing nothing; {@link #apply} writes a plan, and only while the
 * group has no members (a running consumer would overwrite the offsets with its own on its next commit, and Kafka
 * refuses the change anyway).
 *
 * <pre>{@code
 * try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
 *     ConsumerOffsets offsets = ConsumerOffsets.of(admin);
 *     ConsumerOffsets.Plan plan = offsets.plan("search-indexer", "cdc.tasks-changes",
 *             ConsumerOffsets.Target.toDatetime(Instant.parse("2026-11-21T09:00:00Z")));
 *     plan.partitions().forEach(p -> System.out.println(p.partition() + " " + p.current() + " -> " + p.target()));
 *     offsets.apply(plan); // throws GroupActiveException while a consumer of the group runs
 * }
 * }</pre>
 *
 * <p>Offsets are read as a read_committed consumer sees them (the end is the last stable offset). Every method blocks
 * and uses the admin client's timeouts; the admin client stays the caller's to close. Thread-safe.
 */
public final class ConsumerOffsets {
    /** The forms {@link #parseInstant} accepts, for messages. */
    public static final String DATETIME_FORMS = "an ISO-8601 instant such as 2026-11-21T09:00:00Z, or with an offset "
            + "such as 2026-11-21T10:00:00+01:00";

    private static final ListOffsetsOptions READ_COMMITTED = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);

    private final Admin admin;

    private ConsumerOffsets(Admin admin) {
        this.admin = admin;
    }

    /** Offsets read and written through {@code admin}, which the caller keeps and closes. */
    public static ConsumerOffsets of(Admin admin) {
        return new ConsumerOffsets(Objects.requireNonNull(admin, "admin"));
    }

    /** Where to move a group's offsets. */
    public sealed interface Target {
        /** To the first offset still in each partition. */
        static Target toEarliest() {
            return new Earliest();
        }

        /**
         * To the first record whose timestamp is at or after {@code time}, per partition; a partition without such a
         * record goes to its end (nothing to reprocess there).
         */
        static Target toDatetime(Instant time) {
            return new Datetime(time);
        }

        /**
         * By {@code records} from the committed offset (negative: back, to reprocess; positive: forward, to skip),
         * clamped into the partition's earliest and end offsets. A partition without a committed offset shifts from
         * its earliest offset.
         */
        static Target shiftBy(long records) {
            return new ShiftBy(records);
        }

        /** How an operator writes this target: {@code to-earliest}, {@code to-datetime <instant>}, {@code shift-by <n>}. */
        String describe();

        /** See {@link #toEarliest()}. */
        record Earliest() implements Target {
            @Override
            public String describe() {
                return "to-earliest";
            }
        }

        /** See {@link #toDatetime(Instant)}. */
        record Datetime(Instant time) implements Target {
            public Datetime {
                Objects.requireNonNull(time, "time");
            }

            @Override
            public String describe() {
                return "to-datetime " + time;
            }
        }

        /** See {@link #shiftBy(long)}. */
        record ShiftBy(long records) implements Target {
            @Override
            public String describe() {
                return "shift-by " + records;
            }
        }
    }

    /**
     * One partition of a plan.
     *
     * @param current the group's committed offset when planned; empty if it had none
     * @param target where the offset goes
     * @param earliest the partition's first offset when planned
     * @param end the partition's last stable offset when planned
     */
    public record PartitionChange(TopicPartition partition, OptionalLong current, long target, long earliest,
            long end) {
        public PartitionChange {
            Objects.requireNonNull(partition, "partition");
            Objects.requireNonNull(current, "current");
        }

        /** {@code target - current}: negative means records are processed again; empty without a current offset. */
        public OptionalLong change() {
            return current.isPresent() ? OptionalLong.of(target - current.getAsLong()) : OptionalLong.empty();
        }
    }

    /**
     * What {@link #apply} would do, as read when planned. Immutable.
     *
     * @param groupState the group's state when planned ({@code EMPTY}, {@code STABLE}, ...; {@code UNKNOWN GROUP} if
     *     Kafka did not know the group)
     * @param members the group's members when planned
     * @param partitions every partition of the topic, by partition number
     */
    public record Plan(String group, String topic, Target target, String groupState, int members,
            List<PartitionChange> partitions) {
        public Plan {
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(groupState, "groupState");
            partitions = List.copyOf(partitions);
        }

        /** Whether applying would be refused because the group was active when planned. */
        public boolean groupActive() {
            return !isInactive(groupState, members);
        }

        /** The sum of the current offsets that exist. */
        public long currentTotal() {
            return partitions.stream().mapToLong(p -> p.current().orElse(0)).sum();
        }

        /** The sum of the targets. */
        public long targetTotal() {
            return partitions.stream().mapToLong(PartitionChange::target).sum();
        }

        /** The sum of the changes of the partitions with a current offset. */
        public long changeTotal() {
            return partitions.stream().mapToLong(p -> p.change().orElse(0)).sum();
        }
    }

    /**
     * Thrown instead of moving the offsets of a group that has members. The message names the group, its state and
     * member count, and says to stop its consumers first.
     */
    public static final class GroupActiveException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String group;
        private final String state;
        private final int members;

        public GroupActiveException(String group, String state, int members, Throwable cause) {
            super("consumer group " + group + " is active (state " + state + ", " + members
                    + (members == 1 ? " member" : " members") + "); stop its consumers first, then reset its offsets",
                    cause);
            this.group = group;
            this.state = state;
            this.members = members;
        }

        public String group() {
            return group;
        }

        public String state() {
            return state;
        }

        public int members() {
            return members;
        }
    }

    /**
     * Computes where {@code target} would move {@code group}'s offsets on every partition of {@code topic}. Changes
     * nothing. The group may be active (see {@link Plan#groupActive()}) or unknown to Kafka.
     *
     * @return the plan, never null
     * @throws IllegalArgumentException naming {@code topic} if it does not exist
     * @throws ExecutionException if Kafka answered with another error
     */
    public Plan plan(String group, String topic, Target target) throws InterruptedException, ExecutionException {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(target, "target");
        List<TopicPartition> partitions = partitionsOf(topic);
        GroupStatus status = status(group);
        Map<TopicPartition, OffsetAndMetadata> committed = committed(group, partitions);
        Map<TopicPartition, Long> earliest = offsets(partitions, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = offsets(partitions, OffsetSpec.latest());
        Map<TopicPartition, Long> atTime = target instanceof Target.Datetime d
                ? offsets(partitions, OffsetSpec.forTimestamp(d.time().toEpochMilli()))
                : Map.of();
        List<PartitionChange> changes = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata c = committed.get(tp);
            OptionalLong current = c == null ? OptionalLong.empty() : OptionalLong.of(c.offset());
            long first = earliest.get(tp);
            long last = end.get(tp);
            changes.add(new PartitionChange(tp, current,
                    targetOffset(target, current, first, last, atTime.getOrDefault(tp, -1L)), first, last));
        }
        return new Plan(group, topic, target, status.state(), status.members(), changes);
    }

    /**
     * Writes {@code plan}'s targets as the group's committed offsets, after checking, right before, that the group has
     * no members and that its offsets on the plan's partitions are still those the plan was made from.
     *
     * @return {@code plan}
     * @throws GroupActiveException if the group has members now, or Kafka refused the change because it does
     * @throws IllegalStateException if the group's committed offsets changed since the plan was made (plan again)
     * @throws ExecutionException if Kafka answered with another error
     */
    public Plan apply(Plan plan) throws InterruptedException, ExecutionException {
        Objects.requireNonNull(plan, "plan");
        GroupStatus status = status(plan.group());
        if (!isInactive(status.state(), status.members())) {
            throw new GroupActiveException(plan.group(), status.state(), status.members(), null);
        }
        List<TopicPartition> partitions = plan.partitions().stream().map(PartitionChange::partition).toList();
        Map<TopicPartition, OffsetAndMetadata> committed = committed(plan.group(), partitions);
        Map<TopicPartition, OffsetAndMetadata> targets = new LinkedHashMap<>();
        for (PartitionChange p : plan.partitions()) {
            OffsetAndMetadata now = committed.get(p.partition());
            OptionalLong current = now == null ? OptionalLong.empty() : OptionalLong.of(now.offset());
            if (!current.equals(p.current())) {
                throw new IllegalStateException("the committed offset of consumer group " + plan.group() + " on "
                        + p.partition() + " changed since the plan was made (" + text(p.current()) + " then, "
                        + text(current) + " now); plan again");
            }
            targets.put(p.partition(), new OffsetAndMetadata(p.target()));
        }
        try {
            admin.alterConsumerGroupOffsets(plan.group(), targets).all().get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof UnknownMemberIdException || cause instanceof GroupNotEmptyException
                    || cause instanceof StaleMemberEpochException || cause instanceof FencedMemberEpochException) {
                GroupStatus after = status(plan.group());
                throw new GroupActiveException(plan.group(), after.state(), after.members(), cause);
            }
            throw e;
        }
        return plan;
    }

    /**
     * Where {@code target} puts one partition. Pure.
     *
     * @param current the committed offset, if any
     * @param earliest the partition's first offset
     * @param end the partition's last stable offset
     * @param offsetAtTime for {@link Target.Datetime}: Kafka's answer to {@code forTimestamp}, -1 if no record is at
     *     or after the time
     * @return an offset in {@code [earliest, end]}
     */
    static long targetOffset(Target target, OptionalLong current, long earliest, long end, long offsetAtTime) {
        long wanted;
        if (target instanceof Target.Earliest) {
            wanted = earliest;
        } else if (target instanceof Target.Datetime) {
            wanted = offsetAtTime < 0 ? end : offsetAtTime;
        } else {
            long from = current.orElse(earliest);
            long by = ((Target.ShiftBy) target).records();
            long sum = from + by;
            // Saturate instead of overflowing: the clamp below brings it into range.
            if (((from ^ sum) & (by ^ sum)) < 0) {
                sum = by < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
            }
            wanted = sum;
        }
        return Math.max(earliest, Math.min(end, wanted));
    }

    /**
     * Parses an instant as operators write it: {@value #DATETIME_FORMS}.
     *
     * @throws IllegalArgumentException saying which forms are accepted
     */
    public static Instant parseInstant(String text) {
        Objects.requireNonNull(text, "text");
        try {
            return OffsetDateTime.parse(text.trim(), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not a date and time; give " + DATETIME_FORMS, e);
        }
    }

    static boolean isInactive(String state, int members) {
        return members == 0 && Set.of(GroupStatus.UNKNOWN_GROUP, GroupState.EMPTY.name(), GroupState.DEAD.name())
                .contains(state);
    }

    private record GroupStatus(String state, int members) {
        static final String UNKNOWN_GROUP = "UNKNOWN GROUP";
    }

    private GroupStatus status(String group) throws InterruptedException, ExecutionException {
        try {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get();
            return new GroupStatus(d.groupState().name(), d.members().size());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return new GroupStatus(GroupStatus.UNKNOWN_GROUP, 0);
            }
            throw e;
        }
    }

    private List<TopicPartition> partitionsOf(String topic) throws InterruptedException, ExecutionException {
        TopicDescription description;
        try {
            description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalArgumentException("topic " + topic + " does not exist", e.getCause());
            }
            throw e;
        }
        List<TopicPartition> partitions = new ArrayList<>();
        description.partitions().forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        partitions.sort(Comparator.comparingInt(TopicPartition::partition));
        return partitions;
    }

    private Map<TopicPartition, OffsetAndMetadata> committed(String group, List<TopicPartition> partitions)
            throws InterruptedException, ExecutionException {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                Map.of(group, new ListConsumerGroupOffsetsSpec().topicPartitions(partitions)))
                .partitionsToOffsetAndMetadata(group).get();
        // Partitions without an offset may be present with null; drop them so "absent" means "none".
        Map<TopicPartition, OffsetAndMetadata> present = new HashMap<>();
        committed.forEach((tp, offset) -> {
            if (offset != null) {
                present.put(tp, offset);
            }
        });
        return present;
    }

    private Map<TopicPartition, Long> offsets(List<TopicPartition> partitions, OffsetSpec spec)
            throws InterruptedException, ExecutionException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, ListOffsetsResultInfo> answer = admin.listOffsets(request, READ_COMMITTED).all().get();
        Map<TopicPartition, Long> offsets = new HashMap<>();
        answer.forEach((tp, info) -> offsets.put(tp, info.offset()));
        return offsets;
    }

    private static String text(OptionalLong offset) {
        return offset.isPresent() ? Long.toString(offset.getAsLong()) : "none";
    }
}
