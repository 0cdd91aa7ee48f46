package dev.changeflow.router.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.ops.ConsumerOffsets.GroupActiveException;
import dev.changeflow.router.ops.ConsumerOffsets.PartitionChange;
import dev.changeflow.router.ops.ConsumerOffsets.Plan;
import dev.changeflow.router.ops.ConsumerOffsets.Target;
import dev.changeflow.router.subscription.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ConsumerOffsetsIT {

    /** 10 records on partition 0 and 4 on partition 1; the group committed 8 and 3. */
    private static LagKit kitWithCommittedOffsets() throws Exception {
        return kitWithCommittedOffsets(Instant.now().minus(10, ChronoUnit.MINUTES));
    }

    /** The same, partition i's record n with timestamp {@code base} + n seconds. */
    private static LagKit kitWithCommittedOffsets(Instant base) throws Exception {
        LagKit kit = new LagKit(2);
        for (int i = 0; i < 10; i++) {
            kit.send(0, base.plusSeconds(i));
        }
        for (int i = 0; i < 4; i++) {
            kit.send(1, base.plusSeconds(i));
        }
        kit.commit(0, 8, 1, 3);
        return kit;
    }

    private static List<String> rows(Plan plan) {
        return plan.partitions().stream().map(p -> p.partition().partition() + ": "
                + (p.current().isPresent() ? p.current().getAsLong() : "none") + " -> " + p.target() + " ("
                + (p.change().isPresent() ? p.change().getAsLong() : "none") + ")").toList();
    }

    @Test
    void aPlanShowsTheCommittedOffsetAndTheTargetOfEachPartitionForEveryKindOfTarget() throws Exception {
        Instant base = Instant.now().minus(10, ChronoUnit.MINUTES);
        try (LagKit kit = kitWithCommittedOffsets(base)) {
            ConsumerOffsets offsets = ConsumerOffsets.of(kit.admin);

            assertThat(rows(offsets.plan(kit.group, kit.topic, Target.toEarliest())))
                    .containsExactly("0: 8 -> 0 (-8)", "1: 3 -> 0 (-3)");
            assertThat(rows(offsets.plan(kit.group, kit.topic, Target.shiftBy(-5))))
                    .as("clamped at the earliest offset").containsExactly("0: 8 -> 3 (-5)", "1: 3 -> 0 (-3)");
            assertThat(rows(offsets.plan(kit.group, kit.topic, Target.shiftBy(2))))
                    .as("clamped at the end").containsExactly("0: 8 -> 10 (2)", "1: 3 -> 4 (1)");
            Plan datetime = offsets.plan(kit.group, kit.topic, Target.toDatetime(base.plusMillis(2500)));
            assertThat(rows(datetime)).containsExactly("0: 8 -> 3 (-5)", "1: 3 -> 3 (0)");
            assertThat(datetime.partitions()).extracting(PartitionChange::earliest, PartitionChange::end)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, 10L),
                            org.assertj.core.groups.Tuple.tuple(0L, 4L));
            assertThat(datetime.changeTotal()).isEqualTo(-5);
            assertThat(datetime.groupActive()).isFalse();
            assertThat(datetime.groupState()).isEqualTo("EMPTY");
        }
    }

    @Test
    void planningChangesNoOffset() throws Exception {
        try (LagKit kit = kitWithCommittedOffsets()) {
            ConsumerOffsets offsets = ConsumerOffsets.of(kit.admin);

            offsets.plan(kit.group, kit.topic, Target.toEarliest());
            offsets.plan(kit.group, kit.topic, Target.shiftBy(-2));

            assertThat(kit.committed()).isEqualTo(Map.of(0, 8L, 1, 3L));
        }
    }

    @Test
    void applyingAPlanMovesTheCommittedOffsetsToItsTargets() throws Exception {
        try (LagKit kit = kitWithCommittedOffsets()) {
            ConsumerOffsets offsets = ConsumerOffsets.of(kit.admin);

            offsets.apply(offsets.plan(kit.group, kit.topic, Target.shiftBy(-2)));
            assertThat(kit.committed()).isEqualTo(Map.of(0, 6L, 1, 1L));

            offsets.apply(offsets.plan(kit.group, kit.topic, Target.toEarliest()));
            assertThat(kit.committed()).isEqualTo(Map.of(0, 0L, 1, 0L));
        }
    }

    @Test
    void aGroupWithoutOffsetsHasNoCurrentOffsetAndApplyingGivesItTheTargets() throws Exception {
        try (LagKit kit = new LagKit(2)) {
            kit.send(6);
            ConsumerOffsets offsets = ConsumerOffsets.of(kit.admin);

            Plan plan = offsets.plan(kit.group, kit.topic, Target.toDatetime(Instant.now().plusSeconds(3600)));
            assertThat(plan.partitions()).allSatisfy(p -> assertThat(p.current()).isEqualTo(OptionalLong.empty()));
            assertThat(plan.targetTotal()).as("no record after the time: every partition to its end").isEqualTo(6);
            assertThat(plan.groupActive()).isFalse();
            offsets.apply(plan);

            assertThat(kit.committed().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(6);
        }
    }

    @Test
    void applyingIsRefusedWhileAConsumerOfTheGroupRunsAndSucceedsOnceItStopped() throws Exception {
        try (LagKit kit = new LagKit(3)) {
            kit.send(30);
            Subscription consumer = kit.startConsumer();
            kit.awaitCaughtUp();
            ConsumerOffsets offsets = ConsumerOffsets.of(kit.admin);
            Plan plan = offsets.plan(kit.group, kit.topic, Target.shiftBy(-4));
            assertThat(plan.groupActive()).isTrue();
            assertThat(plan.changeTotal()).isEqualTo(-12);

            assertThatThrownBy(() -> offsets.apply(plan)).isInstanceOfSatisfying(GroupActiveException.class, e -> {
                assertThat(e.group()).isEqualTo(kit.group);
                assertThat(e.members()).isEqualTo(1);
                assertThat(e).hasMessage("consumer group " + kit.group + " is active (state " + e.state()
                        + ", 1 member); stop its consumers first, then reset its offsets");
            });
            Map<Integer, Long> before = kit.committed();
            assertThat(before.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(30);

            consumer.close();
            offsets.apply(plan);
            assertThat(kit.committed()).allSatisfy((partition, offset) ->
                    assertThat(offset).isEqualTo(before.get(partition) - 4));

            int handledBefore = kit.handled.get();
            kit.startConsumer();
            kit.awaitCaughtUp();
            await("the 12 records after the new offsets handled again").atMost(Duration.ofSeconds(30))
                    .until(() -> kit.handled.get() - handledBefore == 12);
        }
    }

    @Test
    void toDatetimePicksTheFirstOffsetAtOrAfterTheTimeAndTheEndWhereNoRecordIsThatRecent() throws Exception {
        try (LagKit kit = new LagKit(3)) {
            Instant base = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
            for (int i = 0; i < 6; i++) {
                kit.send(0, base.plusSeconds(10L * i)); // offsets 0..5 at base, +10 s, ..., +50 s
            }
            kit.send(1, base.minusSeconds(60)); // all older than the time
            kit.send(1, base.minusSeconds(30));
            kit.commit(0, 6, 1, 2, 2, 0);
            ConsumerOffsets offsets = ConsumerOffsets.of(kit.admin);

            Plan exact = offsets.plan(kit.group, kit.topic, Target.toDatetime(base.plusSeconds(20)));
            Plan between = offsets.plan(kit.group, kit.topic, Target.toDatetime(base.plusSeconds(21)));

            assertThat(rows(exact)).containsExactly("0: 6 -> 2 (-4)", "1: 2 -> 2 (0)", "2: 0 -> 0 (0)");
            assertThat(rows(between)).containsExactly("0: 6 -> 3 (-3)", "1: 2 -> 2 (0)", "2: 0 -> 0 (0)");
            assertThat(((Target.Datetime) exact.target()).time()).isEqualTo(base.plusSeconds(20));
        }
    }

    @Test
    void anUnknownTopicIsRefusedNamingIt() throws Exception {
        try (LagKit kit = new LagKit(1)) {
            assertThatThrownBy(() -> ConsumerOffsets.of(kit.admin).plan(kit.group, kit.id + ".nothing",
                    Target.toEarliest())).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("topic " + kit.id + ".nothing does not exist");
        }
    }
}
