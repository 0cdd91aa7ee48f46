package dev.changeflow.capture;

import static org.awaitility.Awaitility.await;

import dev.changeflow.stack.KafkaServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Capture in exactly-once mode while its Kafka broker is down for a while (a broker of its own, restarted on the same
 * port and data): transactions that cannot complete are retried, never skipped, and nothing is published twice.
 */
class CaptureKafkaOutageIT {

    @Test
    void captureWaitsOutAKafkaOutageAndStillDeliversEveryChangeExactlyOnce(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path data = dir.resolve("kafka");
        KafkaServer kafka = KafkaServer.startPersistent(data, port);
        try (CaptureHarness h = new CaptureHarness(kafka); Connection connection = h.sql();
                ContinuousWrites writes = new ContinuousWrites(connection, "outage")) {
            h.startCapture();
            writes.start();
            CaptureCrashIT.awaitOffsetsStored(h);
            h.awaitMore(300, Duration.ofSeconds(60));

            kafka.close();
            int atOutage = writes.count();
            await("writes during the outage").atMost(Duration.ofSeconds(60))
                    .until(() -> writes.count() > atOutage + 1500);
            kafka = KafkaServer.startPersistent(data, port);

            int afterOutage = writes.count();
            await("writes after the outage").atMost(Duration.ofSeconds(60))
                    .until(() -> writes.count() > afterOutage + 500);
            writes.stop();
            ContinuousWrites.assertEachEventOnce(
                    ContinuousWrites.awaitAllDelivered(h, writes.committed(), Duration.ofMinutes(2)));
        } finally {
            kafka.close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
