package dev.changeflow.router.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.UncheckedIOException;
import java.net.ConnectException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;

class OutagesTest {

    @Test
    void aRefusedConnectionDeepInTheCauseChainIsAnOutage() {
        Throwable wrapped = new IllegalStateException("write failed",
                new UncheckedIOException(new java.io.IOException("io", new ConnectException("refused"))));

        assertThat(Outages.isOutage(wrapped)).isTrue();
    }

    @Test
    void kafkasRetriableErrorsAndTimeoutsAreOutages() {
        assertThat(Outages.isOutage(new NotLeaderOrFollowerException("moving"))).isTrue();
        assertThat(Outages.isOutage(new org.apache.kafka.common.errors.TimeoutException("slow"))).isTrue();
        assertThat(Outages.isOutage(new java.util.concurrent.TimeoutException("handler took too long"))).isTrue();
    }

    @Test
    void anOutageExceptionFromAHandlerIsAnOutage() {
        assertThat(Outages.isOutage(new OutageException("search engine down", null))).isTrue();
    }

    @Test
    void aBugOrABadRecordIsNotAnOutage() {
        assertThat(Outages.isOutage(new IllegalArgumentException("bad row"))).isFalse();
        assertThat(Outages.isOutage(new RecordTooLargeException("too big"))).isFalse();
        assertThat(Outages.isOutage(null)).isFalse();
    }
}
