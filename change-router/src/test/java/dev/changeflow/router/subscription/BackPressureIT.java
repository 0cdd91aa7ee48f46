package dev.changeflow.router.subscription;

import static dev.changeflow.router.subscription.SubscriptionKit.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * A slow handler in front of a large backlog: consumption slows down, the number of records fetched and unfinished
 * stays under the configured bound, no partition's backlog starves the other lanes, and the member keeps its place in the group although handling the backlog takes
 * far longer than {@code max.poll.interval.ms} (the consumer keeps polling while paused).
 */
class BackPressureIT {

    private static final int BACKLOG = 200_000;
    private static final int MAX_IN_FLIGHT = 512;

    @Test
    void aSlowHandlerOverALargeBacklogKeepsInFlightRecordsUnderTheBoundAndStaysInTheGroup() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(8)) {
            kit.sendBacklog(BACKLOG, 10_000);
            AtomicInteger handled = new AtomicInteger();
            AtomicInteger running = new AtomicInteger();
            AtomicInteger mostRunning = new AtomicInteger();
            Set<String> members = ConcurrentHashMap.newKeySet();
            Subscription subscription = kit.start(kit.builder()
                    .options(options("changeflow.subscription.max-in-flight", Integer.toString(MAX_IN_FLIGHT),
                            "changeflow.subscription.concurrency", "4",
                            "changeflow.subscription.batch-size", "1"))
                    // Far less than the time the backlog needs at 10 ms a record: only polling while paused keeps
                    // this member in the group.
                    .kafkaProperty("max.poll.interval.ms", 3000)
                    .onEach(e -> Mono.delay(Duration.ofMillis(10))
                            .doOnSubscribe(x -> mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max))
                            .doOnNext(x -> {
                                running.decrementAndGet();
                                handled.incrementAndGet();
                            }).then()));

            await("the subscription busy on the backlog").atMost(Duration.ofSeconds(30))
                    .until(() -> handled.get() > 100);
            members.addAll(memberIds(kit));
            int handledAtStart = handled.get();
            // Watch for well over max.poll.interval.ms, sampling the in-flight count.
            AtomicInteger samples = new AtomicInteger();
            await("8 s of watching").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                    .until(() -> {
                        assertThat(subscription.inFlight()).isLessThanOrEqualTo(MAX_IN_FLIGHT);
                        return samples.incrementAndGet() >= 400;
                    });
            members.addAll(memberIds(kit));

            assertThat(subscription.peakInFlight()).as("peak in-flight records")
                    .isLessThanOrEqualTo(MAX_IN_FLIGHT).isGreaterThan(0);
            assertThat(handled.get()).as("still handling").isGreaterThan(handledAtStart);
            assertThat(mostRunning).as("partitions handled concurrently, up to the configured concurrency")
                    .hasValue(4);
            assertThat(handled.get()).as("the backlog is far from drained").isLessThan(BACKLOG / 2);
            assertThat(members).as("the same single member throughout: no eviction, no rebalance").hasSize(1);
            assertThat(subscription.assignment()).hasSize(8);
        }
    }

    private static Set<String> memberIds(SubscriptionKit kit) throws Exception {
        ConsumerGroupDescription group = kit.admin.describeConsumerGroups(Set.of(kit.group)).all().get().get(kit.group);
        return group.members().stream().map(MemberDescription::consumerId).collect(java.util.stream.Collectors.toSet());
    }
}
