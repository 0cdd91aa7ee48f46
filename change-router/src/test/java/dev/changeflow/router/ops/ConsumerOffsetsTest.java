package dev.changeflow.router.ops;

import static dev.changeflow.router.ops.ConsumerOffsets.targetOffset;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.router.ops.ConsumerOffsets.PartitionChange;
import dev.changeflow.router.ops.ConsumerOffsets.Plan;
import dev.changeflow.router.ops.ConsumerOffsets.Target;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class ConsumerOffsetsTest {
    private static final OptionalLong AT_80 = OptionalLong.of(80);
    private static final OptionalLong NONE = OptionalLong.empty();

    @Test
    void toEarliestGoesToTheFirstOffsetStillInThePartition() {
        assertThat(targetOffset(Target.toEarliest(), AT_80, 10, 100, -1)).isEqualTo(10);
        assertThat(targetOffset(Target.toEarliest(), NONE, 10, 100, -1)).isEqualTo(10);
    }

    @Test
    void toDatetimeGoesToTheOffsetKafkaFoundForTheTime() {
        assertThat(targetOffset(Target.toDatetime(Instant.EPOCH), AT_80, 10, 100, 42)).isEqualTo(42);
    }

    @Test
    void toDatetimeGoesToTheEndWhenNoRecordIsAtOrAfterTheTime() {
        assertThat(targetOffset(Target.toDatetime(Instant.EPOCH), AT_80, 10, 100, -1)).isEqualTo(100);
    }

    @Test
    void shiftByMovesFromTheCommittedOffsetBackOrForward() {
        assertThat(targetOffset(Target.shiftBy(-30), AT_80, 10, 100, -1)).isEqualTo(50);
        assertThat(targetOffset(Target.shiftBy(15), AT_80, 10, 100, -1)).isEqualTo(95);
        assertThat(targetOffset(Target.shiftBy(0), AT_80, 10, 100, -1)).isEqualTo(80);
    }

    @Test
    void shiftByIsClampedIntoTheEarliestAndEndOffsets() {
        assertThat(targetOffset(Target.shiftBy(-1000), AT_80, 10, 100, -1)).isEqualTo(10);
        assertThat(targetOffset(Target.shiftBy(1000), AT_80, 10, 100, -1)).isEqualTo(100);
        assertThat(targetOffset(Target.shiftBy(Long.MIN_VALUE), AT_80, 10, 100, -1)).isEqualTo(10);
        assertThat(targetOffset(Target.shiftBy(Long.MAX_VALUE), AT_80, 10, 100, -1)).isEqualTo(100);
    }

    @Test
    void shiftByWithoutACommittedOffsetCountsFromTheEarliestOffset() {
        assertThat(targetOffset(Target.shiftBy(5), NONE, 10, 100, -1)).isEqualTo(15);
        assertThat(targetOffset(Target.shiftBy(-5), NONE, 10, 100, -1)).isEqualTo(10);
    }

    @Test
    void aCommittedOffsetBelowTheLogStartIsBroughtIntoRange() {
        assertThat(targetOffset(Target.shiftBy(-1), OptionalLong.of(3), 10, 100, -1)).isEqualTo(10);
    }

    @Test
    void anInstantIsParsedInUtcOrWithAnOffset() {
        assertThat(ConsumerOffsets.parseInstant("2026-11-21T09:00:00Z")).isEqualTo(Instant.parse("2026-11-21T09:00:00Z"));
        assertThat(ConsumerOffsets.parseInstant("2026-11-21T10:00:00+01:00"))
                .isEqualTo(Instant.parse("2026-11-21T09:00:00Z"));
        assertThat(ConsumerOffsets.parseInstant("2026-11-21T09:00:00.250Z"))
                .isEqualTo(Instant.parse("2026-11-21T09:00:00.250Z"));
    }

    @Test
    void aDatetimeWithoutAnOffsetOrNotADatetimeIsRefusedNamingTheAcceptedForms() {
        for (String bad : List.of("2026-11-21T09:00:00", "2026-11-21", "yesterday", "1763715600000")) {
            assertThatThrownBy(() -> ConsumerOffsets.parseInstant(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad + "'").hasMessageContaining(ConsumerOffsets.DATETIME_FORMS);
        }
    }

    @Test
    void aPlanSumsTheChangesOfPartitionsThatHaveACommittedOffset() {
        Plan plan = new Plan("g", "t", Target.shiftBy(-10), "EMPTY", 0, List.of(
                new PartitionChange(new TopicPartition("t", 0), OptionalLong.of(50), 40, 0, 60),
                new PartitionChange(new TopicPartition("t", 1), OptionalLong.of(5), 0, 0, 7),
                new PartitionChange(new TopicPartition("t", 2), NONE, 0, 0, 0)));

        assertThat(plan.changeTotal()).isEqualTo(-15);
        assertThat(plan.currentTotal()).isEqualTo(55);
        assertThat(plan.targetTotal()).isEqualTo(40);
        assertThat(plan.partitions().get(2).change()).isEmpty();
        assertThat(plan.groupActive()).isFalse();
    }

    @Test
    void onlyAnEmptyDeadOrUnknownGroupWithoutMembersCountsAsInactive() {
        assertThat(ConsumerOffsets.isInactive("EMPTY", 0)).isTrue();
        assertThat(ConsumerOffsets.isInactive("DEAD", 0)).isTrue();
        assertThat(ConsumerOffsets.isInactive("UNKNOWN GROUP", 0)).isTrue();
        assertThat(ConsumerOffsets.isInactive("STABLE", 1)).isFalse();
        assertThat(ConsumerOffsets.isInactive("PREPARING_REBALANCE", 0)).isFalse();
    }

    @Test
    void theRefusalNamesTheGroupItsStateAndMembersAndSaysWhatToDo() {
        assertThat(new ConsumerOffsets.GroupActiveException("search-indexer", "STABLE", 2, null))
                .hasMessage("consumer group search-indexer is active (state STABLE, 2 members); stop its consumers "
                        + "first, then reset its offsets");
    }
}
