package dev.changeflow.invalidator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.router.subscription.OutageException;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisLoadingException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;

class RedisOutagesTest {

    @Test
    void aFailedConnectionIsAnOutage() {
        assertThat(RedisOutages.isOutage(new RedisConnectionException("Unable to connect to 127.0.0.1:6379",
                new ConnectException("Connection refused")))).isTrue();
    }

    @Test
    void aCommandTimeoutIsAnOutage() {
        assertThat(RedisOutages.isOutage(new RedisCommandTimeoutException("Command timed out after 5 second(s)")))
                .isTrue();
    }

    @Test
    void aCommandRejectedWhileDisconnectedIsAnOutage() {
        assertThat(RedisOutages.isOutage(new RedisException("Currently not connected. Commands are rejected.")))
                .isTrue();
    }

    @Test
    void aCommandOnAClosedConnectionIsAnOutage() {
        assertThat(RedisOutages.isOutage(new RedisException("Connection is closed"))).isTrue();
        assertThat(RedisOutages.isOutage(new RedisException("Connection closed prematurely"))).isTrue();
    }

    @Test
    void aSocketErrorIsAnOutage() {
        assertThat(RedisOutages.isOutage(new RedisException(new IOException("Connection reset by peer")))).isTrue();
        assertThat(RedisOutages.isOutage(new ClosedChannelException())).isTrue();
    }

    @Test
    void aServerLoadingItsDataOrBusyIsAnOutage() {
        assertThat(RedisOutages.isOutage(new RedisLoadingException("LOADING Redis is loading the dataset in memory")))
                .isTrue();
        assertThat(RedisOutages.isOutage(new RedisBusyException("BUSY Redis is busy running a script."))).isTrue();
        assertThat(RedisOutages.isOutage(new RedisCommandExecutionException(
                "READONLY You can't write against a read only replica."))).isTrue();
        assertThat(RedisOutages.isOutage(new RedisCommandExecutionException("NOAUTH Authentication required.")))
                .isTrue();
    }

    @Test
    void anOutageWrappedInAnotherExceptionIsStillAnOutage() {
        assertThat(RedisOutages.isOutage(new IllegalStateException("batch failed",
                new RedisException("Currently not connected. Commands are rejected.")))).isTrue();
        assertThat(RedisOutages.isOutage(new OutageException("down", null))).isTrue();
    }

    @Test
    void anErrorReplyAboutTheCommandIsNotAnOutage() {
        assertThat(RedisOutages.isOutage(new RedisCommandExecutionException("ERR unknown command 'UNLINK'")))
                .isFalse();
        assertThat(RedisOutages.isOutage(new RedisCommandExecutionException(
                "WRONGTYPE Operation against a key holding the wrong kind of value"))).isFalse();
        assertThat(RedisOutages.isOutage(new RedisCommandExecutionException("ERR BUSYKEY Target key name already "
                + "exists."))).isFalse();
    }

    @Test
    void aRedisErrorThatDoesNotSayTheConnectionIsDownIsNotAnOutage() {
        assertThat(RedisOutages.isOutage(new RedisException("Cannot encode command"))).isFalse();
    }

    @Test
    void aBugIsNotAnOutageAndNeitherIsNull() {
        assertThat(RedisOutages.isOutage(new IllegalArgumentException("bad key"))).isFalse();
        assertThat(RedisOutages.isOutage(null)).isFalse();
    }
}
