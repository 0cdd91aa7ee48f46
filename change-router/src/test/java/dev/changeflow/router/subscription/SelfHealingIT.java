package dev.changeflow.router.subscription;

import static dev.changeflow.router.subscription.SubscriptionKit.event;
import static dev.changeflow.router.subscription.SubscriptionKit.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.ChangeEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The subscription tells an outage (wait) from a resource broken for good (reopen, else fail), and reports a stall
 * instead of retrying silently.
 */
class SelfHealingIT {

    /** A resource that is closed until reopened; closing it again breaks it again. */
    static final class Resource implements Dependency {
        final AtomicBoolean closed = new AtomicBoolean();
        final AtomicInteger reopens = new AtomicInteger();
        volatile boolean reopenFails;
        volatile boolean reopenMends = true;

        Mono<Void> use() {
            return closed.get() ? Mono.error(new IllegalStateException("this resource is closed")) : Mono.empty();
        }

        @Override
        public FailureKind classify(Throwable error) {
            return "this resource is closed".equals(error.getMessage()) ? FailureKind.BROKEN : FailureKind.FAULT;
        }

        @Override
        public void reopen() {
            reopens.incrementAndGet();
            if (reopenFails) {
                throw new IllegalStateException("the disk is gone");
            }
            if (reopenMends) {
                closed.set(false);
            }
        }

        @Override
        public String describe() {
            return "the test resource";
        }
    }

    @Test
    void aResourceBrokenForGoodIsReopenedOnceForAllLanesAndNoEventIsDeadLettered() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(4)) {
            Resource resource = new Resource();
            Set<String> handled = ConcurrentHashMap.newKeySet();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            kit.start(kit.builder().options(options("changeflow.subscription.concurrency", "4"))
                    .meterRegistry(meters).dependency(resource)
                    .onEach(e -> resource.use().then(Mono.fromRunnable(() -> handled.add(e.eventId())))));
            List<ChangeEvent> first = events(0, 40);
            kit.sendMany(first);
            await("the first events handled").atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 40);

            resource.closed.set(true);
            List<ChangeEvent> second = events(40, 240);
            kit.sendMany(second);

            await("every event handled after the reopen").atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> {
                        assertThat(handled).hasSize(240);
                        assertThat(kit.lag().total()).isZero();
                    });
            assertThat(resource.reopens).as("one reopen, however many lanes saw it broken").hasValue(1);
            assertThat(meters.get("changeflow.subscription.reopens").tag("outcome", "reopened").counter().count())
                    .isEqualTo(1.0);
            assertThat(kit.deadLetters(0, Duration.ofSeconds(1))).as("nothing dead-lettered").isEmpty();
        }
    }

    @Test
    void aResourceThatCannotBeReopenedStopsTheSubscriptionWithoutDeadLetteringAnything() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(2)) {
            Resource resource = new Resource();
            resource.reopenFails = true;
            resource.closed.set(true);
            Subscription subscription = kit.start(kit.builder().options(options()).dependency(resource)
                    .onEach(e -> resource.use()));
            kit.sendMany(events(0, 10));

            await("the subscription stopped").atMost(Duration.ofSeconds(30))
                    .until(() -> subscription.whenTerminated().isDone());
            assertThat(subscription.whenTerminated()).isCompletedExceptionally();
            try {
                subscription.whenTerminated().get(1, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(BrokenResourceException.class)
                        .hasMessageContaining("cannot reopen the test resource")
                        .hasMessageContaining("the disk is gone");
            }
            assertThat(resource.reopens).as("tried once, then gave up").hasValue(1);
            assertThat(kit.lag().total()).as("nothing committed past the unhandled events").isEqualTo(10);
            assertThat(kit.deadLetters(0, Duration.ofSeconds(1))).as("nothing dead-lettered").isEmpty();
        }
    }

    @Test
    void aResourceThatBreaksAgainAfterEveryReopenStopsTheSubscriptionAfterThreeReopens() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1)) {
            Resource resource = new Resource();
            resource.closed.set(true);
            resource.reopenMends = false;
            Subscription subscription = kit.start(kit.builder().options(options()).dependency(resource)
                    .onEach(e -> resource.use()));
            kit.send(event(1, 1));

            await("the subscription stopped").atMost(Duration.ofSeconds(30))
                    .until(() -> subscription.whenTerminated().isDone());
            assertThat(subscription.whenTerminated()).isCompletedExceptionally();
            assertThat(resource.reopens).hasValue(Dependency.MAX_REOPENS_WITHOUT_PROGRESS);
            assertThat(kit.deadLetters(0, Duration.ofSeconds(1))).isEmpty();
        }
    }

    @Test
    void aPartitionThatMakesNoProgressForLongerThanTheStallLimitIsReportedWithItsLastFailureUntilItMovesAgain()
            throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1)) {
            AtomicBoolean down = new AtomicBoolean(true);
            Set<String> handled = ConcurrentHashMap.newKeySet();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            Subscription subscription = kit.start(kit.builder()
                    .options(options("changeflow.subscription.stall-limit", "1s"))
                    .meterRegistry(meters)
                    .onEach(e -> down.get() ? Mono.error(new OutageException("the search engine answers 503", null))
                            : Mono.fromRunnable(() -> handled.add(e.eventId()))));
            kit.send(event(1, 1));

            await("a stall reported").atMost(Duration.ofSeconds(30)).until(() -> subscription.stall().isPresent());
            Stall stall = subscription.stall().orElseThrow();
            assertThat(stall.partition().topic()).isEqualTo(kit.topic);
            assertThat(stall.since()).isGreaterThan(Duration.ofSeconds(1));
            assertThat(stall.describe()).startsWith(kit.group + ": stalled ")
                    .contains(" on " + kit.topic + "-0: the search engine answers 503");
            assertThat(meters.get("changeflow.subscription.stalled").gauge().value()).isEqualTo(1.0);

            down.set(false);
            await("the stall over").atMost(Duration.ofSeconds(30))
                    .until(() -> subscription.stall().isEmpty() && handled.size() == 1);
            assertThat(meters.get("changeflow.subscription.stalled").gauge().value()).isEqualTo(0.0);
        }
    }

    @Test
    void anIdlePartitionIsNeverStalledHoweverLongItWaits() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1)) {
            Set<String> handled = ConcurrentHashMap.newKeySet();
            Subscription subscription = kit.start(kit.builder()
                    .options(options("changeflow.subscription.stall-limit", "300ms"))
                    .onEach(e -> Mono.fromRunnable(() -> handled.add(e.eventId()))));
            kit.send(event(1, 1));
            await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 1 && kit.lag().total() == 0);
            // Idle for several stall limits, then an event: it is handled at once, never reported stalled.
            long idleUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            await("idle for 2 s").pollInterval(Duration.ofMillis(50)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(subscription.stall()).isEmpty();
                assertThat(System.nanoTime()).isGreaterThan(idleUntil);
            });
            kit.send(event(2, 1));
            await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 2);
            assertThat(subscription.stall()).isEmpty();
        }
    }

    @Test
    void closingTheSubscriptionNeverInterruptsAHandlerStillRunning() throws Exception {
        try (SubscriptionKit kit = new SubscriptionKit(1)) {
            java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
            AtomicBoolean interrupted = new AtomicBoolean();
            AtomicBoolean finished = new AtomicBoolean();
            Subscription subscription = kit.start(kit.builder()
                    .options(options("changeflow.subscription.shutdown-timeout", "100ms"))
                    .onEach(e -> {
                        // Blocks inside the call itself, as a handler doing synchronous I/O would, for 2 s.
                        running.countDown();
                        long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                        for (long left = until - System.nanoTime(); left > 0; left = until - System.nanoTime()) {
                            java.util.concurrent.locks.LockSupport.parkNanos(left);
                            if (Thread.currentThread().isInterrupted()) {
                                interrupted.set(true);
                                break;
                            }
                        }
                        finished.set(true);
                        return Mono.empty();
                    }));
            kit.send(event(1, 1));
            assertThat(running.await(30, TimeUnit.SECONDS)).as("the handler started").isTrue();

            // Gives up waiting after 100 ms and disposes the pipeline while the handler still runs.
            subscription.close();

            await("the handler ran to its end").atMost(Duration.ofSeconds(10)).until(finished::get);
            assertThat(interrupted).as("the close never interrupted the handler's thread").isFalse();
        }
    }

    private static List<ChangeEvent> events(int from, int to) {
        List<ChangeEvent> events = new ArrayList<>();
        for (int row = from; row < to; row++) {
            events.add(event(row, 1));
        }
        return events;
    }
}
