package dev.changeflow.router.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BlockingWorkTest {

    @Test
    void aTimeoutNeverInterruptsRunningWorkWhichFinishesAndIsDropped() throws Exception {
        try (BlockingWork work = BlockingWork.create("test", 1)) {
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean interrupted = new AtomicBoolean();
            AtomicBoolean finished = new AtomicBoolean();

            Throwable timedOut = work.run(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    interrupted.set(true);
                }
                finished.set(true);
            }).timeout(Duration.ofMillis(100)).map(v -> (Throwable) null).onErrorResume(e -> reactor.core.publisher.Mono.just(e))
                    .block(Duration.ofSeconds(10));

            assertThat(timedOut).isInstanceOf(TimeoutException.class);
            assertThat(work.abandonedRunning()).isEqualTo(1);
            release.countDown();
            await("the abandoned work finished").atMost(Duration.ofSeconds(10)).until(finished::get);
            assertThat(interrupted).as("never interrupted").isFalse();
            await().atMost(Duration.ofSeconds(10)).until(() -> work.abandonedRunning() == 0);
        }
    }

    @Test
    void workCancelledBeforeItStartedIsSkipped() throws Exception {
        try (BlockingWork work = BlockingWork.create("test", 1)) {
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger ran = new AtomicInteger();
            var blocker = work.run(() -> {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }).subscribe();
            work.run(ran::incrementAndGet).timeout(Duration.ofMillis(50)).onErrorResume(e -> reactor.core.publisher.Mono.empty())
                    .block(Duration.ofSeconds(10));
            release.countDown();
            work.run(ran::incrementAndGet).block(Duration.ofSeconds(10));

            assertThat(ran).as("only the work still wanted ran").hasValue(1);
            blocker.dispose();
        }
    }

    @Test
    void whatTheWorkThrowsIsTheMonosError() {
        try (BlockingWork work = BlockingWork.create("test", 2)) {
            Throwable error = work.run(() -> {
                throw new IllegalStateException("boom");
            }).map(v -> (Throwable) null).onErrorResume(e -> reactor.core.publisher.Mono.just(e))
                    .block(Duration.ofSeconds(10));
            assertThat(error).isInstanceOf(IllegalStateException.class).hasMessage("boom");
        }
    }

    @Test
    void closeWaitsForRunningWork() {
        BlockingWork work = BlockingWork.create("test", 1);
        AtomicBoolean finished = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(1);
        work.run(() -> {
            started.countDown();
            long until = System.nanoTime() + Duration.ofMillis(300).toNanos();
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            finished.set(true);
        }).subscribe();
        try {
            started.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        work.close(Duration.ofSeconds(10));
        assertThat(finished).isTrue();
    }
}
