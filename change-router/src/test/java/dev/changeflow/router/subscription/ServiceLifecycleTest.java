package dev.changeflow.router.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ServiceLifecycleTest {
    private final AtomicInteger released = new AtomicInteger();
    private final ServiceLifecycle lifecycle = new ServiceLifecycle("the test service", released::incrementAndGet);

    @Test
    void aStartedServiceRunsUntilClosedAndReleasesOnce() {
        assertThat(lifecycle.isRunning()).as("not before start").isFalse();
        lifecycle.start(() -> { });
        assertThat(lifecycle.state()).isEqualTo(ServiceLifecycle.State.RUNNING);
        assertThat(lifecycle.isRunning()).isTrue();

        assertThat(lifecycle.close()).isTrue();
        assertThat(lifecycle.close()).isFalse();

        assertThat(lifecycle.state()).isEqualTo(ServiceLifecycle.State.CLOSED);
        assertThat(lifecycle.isRunning()).isFalse();
        assertThat(released).hasValue(1);
        assertThat(lifecycle.whenTerminated()).isCompleted().isNotCompletedExceptionally();
    }

    @Test
    void aFailedStartReleasesWhatItOpenedAndTerminatesExceptionally() {
        assertThatThrownBy(() -> lifecycle.start(() -> {
            throw new IllegalStateException("no broker");
        })).hasMessage("no broker");

        assertThat(lifecycle.state()).isEqualTo(ServiceLifecycle.State.FAILED);
        assertThat(lifecycle.isRunning()).isFalse();
        assertThat(released).hasValue(1);
        assertThat(lifecycle.whenTerminated()).isCompletedExceptionally();
        lifecycle.close();
        assertThat(lifecycle.state()).isEqualTo(ServiceLifecycle.State.FAILED);
        assertThat(released).hasValue(1);
    }

    @Test
    void aServiceStartsOnceOnlyAndTheMessageNamesIt() {
        lifecycle.close();

        assertThatThrownBy(() -> lifecycle.start(() -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The test service cannot go from CLOSED to STARTING");
    }

    @Test
    void theRootMessageNamesTheCauseOnOneLine() {
        Exception error = new IllegalStateException("cannot connect", new java.net.ConnectException("refused"));

        assertThat(ServiceLifecycle.rootMessage(error)).isEqualTo("cannot connect: refused");
    }
}
