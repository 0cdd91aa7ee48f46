package dev.changeflow.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.stack.internal.WorkDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkDirectoryTest {

    @Test
    void aRecordedChildOfAPreviousOwnerIsStoppedWhenTheDirectoryIsClaimedAgain(@TempDir Path dir) throws Exception {
        Process leftover = new ProcessBuilder("sleep", "300").start();
        try {
            WorkDirectory previous = WorkDirectory.claim(dir);
            previous.recordChild("worker", leftover.pid());
            // The previous owner "dies": its lock goes away, its pid file stays.
            Path pidFile = dir.resolve("worker.pid");
            byte[] record = Files.readAllBytes(pidFile);
            previous.close();
            Files.write(pidFile, record);

            try (WorkDirectory next = WorkDirectory.claim(dir)) {
                assertThat(next.path()).isEqualTo(dir.toAbsolutePath().normalize());
                assertThat(leftover.waitFor(10, TimeUnit.SECONDS)).as("leftover stopped").isTrue();
                assertThat(pidFile).doesNotExist();
            }
        } finally {
            leftover.destroyForcibly();
        }
    }

    @Test
    void aPidFileWhoseProcessStartedAtAnotherTimeIsLeftAloneAsARecycledPid(@TempDir Path dir) throws Exception {
        Process unrelated = new ProcessBuilder("sleep", "300").start();
        try {
            Files.writeString(dir.resolve("redis.pid"), unrelated.pid() + "\n2001-01-01T00:00:00Z\n");
            Files.createDirectories(dir.resolve("data"));
            // A postmaster.pid written long before the process named in it started.
            Files.writeString(dir.resolve("data").resolve("postmaster.pid"),
                    unrelated.pid() + "\n" + dir.resolve("data") + "\n978307200\n5432\n");

            try (WorkDirectory claimed = WorkDirectory.claim(dir)) {
                assertThat(claimed.path()).isEqualTo(dir.toAbsolutePath().normalize());
                assertThat(unrelated.isAlive()).isTrue();
                assertThat(dir.resolve("data").resolve("postmaster.pid")).as("stale pid file").doesNotExist();
            }
        } finally {
            unrelated.destroyForcibly();
        }
    }

    @Test
    void aDirectoryClaimedByThisJvmIsRefusedUntilReleasedAndItsContentIsKept(@TempDir Path dir) throws Exception {
        WorkDirectory first = WorkDirectory.claim(dir);
        Files.writeString(dir.resolve("data.txt"), "kept");

        assertThatThrownBy(() -> WorkDirectory.claim(dir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("in use");
        first.close();
        first.close();

        try (WorkDirectory second = WorkDirectory.claim(dir)) {
            assertThat(second.path()).isEqualTo(dir.toAbsolutePath().normalize());
            assertThat(dir.resolve("data.txt")).hasContent("kept");
        }
    }
}
