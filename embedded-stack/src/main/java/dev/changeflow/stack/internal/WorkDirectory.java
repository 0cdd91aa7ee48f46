package dev.changeflow.stack.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory owned by one server started by this JVM, under a shared root. It records the owning JVM and the PIDs of
 * child processes, so that a later JVM can clean up after one that was killed with {@code -9}: see
 * {@link #reapLeftovers(Path)}.
 *
 * <p>Layout: {@code <root>/<kind>-<jvm pid>-<random>/} holding {@value #OWNER_FILE} ({@code pid start-instant}) and
 * one {@code <name>.pid} file per child process. Postgres's own {@code data/postmaster.pid} is honoured too.
 */
public final class WorkDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkDirectory.class);
    static final String OWNER_FILE = "owner.jvm";
    private static final Duration KILL_GRACE = Duration.ofSeconds(10);

    private final Path path;

    private WorkDirectory(Path path) {
        this.path = path;
    }

    /** Creates a fresh directory for a server of the given kind, after reaping the leftovers under {@code root}. */
    public static WorkDirectory create(Path root, String kind) {
        try {
            Files.createDirectories(root);
            reapLeftovers(root);
            ProcessHandle self = ProcessHandle.current();
            Path dir = root.resolve(kind + "-" + self.pid() + "-" + UUID.randomUUID().toString().substring(0, 8));
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(OWNER_FILE), self.pid() + " " + startInstant(self));
            return new WorkDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a work directory under " + root, e);
        }
    }

    /** The directory itself. */
    public Path path() {
        return path;
    }

    /** Records a child process so that it is stopped by a later JVM if this one dies without cleaning up. */
    public void recordChild(String name, long pid) {
        try {
            Files.writeString(path.resolve(name + ".pid"), Long.toString(pid));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes the directory and everything in it. Child processes must already be stopped. */
    @Override
    public void close() {
        deleteRecursively(path);
    }

    /**
     * Stops the child processes and deletes the directories of every server whose owning JVM is gone. Directories of
     * live JVMs are left alone. Safe to call concurrently from several JVMs: the worst case is a redundant kill of a
     * process that is already exiting.
     */
    public static void reapLeftovers(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                Path owner = dir.resolve(OWNER_FILE);
                if (!Files.isRegularFile(owner) || ownerAlive(Files.readString(owner, StandardCharsets.UTF_8))) {
                    continue;
                }
                LOG.info("Cleaning up {}, left behind by a JVM that is gone", dir);
                for (long pid : childPids(dir)) {
                    ProcessHandle.of(pid).ifPresent(WorkDirectory::stop);
                }
                deleteRecursively(dir);
            }
        }
    }

    private static boolean ownerAlive(String ownerLine) {
        String[] parts = ownerLine.trim().split(" ", 2);
        try {
            Optional<ProcessHandle> handle = ProcessHandle.of(Long.parseLong(parts[0]));
            // A recycled PID belongs to a process with another start time.
            return handle.isPresent() && (parts.length < 2 || parts[1].equals(startInstant(handle.get())));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static List<Long> childPids(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir, 3)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".pid"))
                    .map(WorkDirectory::firstLineAsPid)
                    .flatMap(Optional::stream)
                    .toList();
        }
    }

    private static Optional<Long> firstLineAsPid(Path file) {
        try {
            String first = Files.readAllLines(file).stream().findFirst().orElse("").trim();
            return Optional.of(Long.parseLong(first));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Asks a process to stop, then kills it if it is still there after a grace period. */
    static void stop(ProcessHandle process) {
        LOG.info("Stopping leftover process {} ({})", process.pid(), process.info().command().orElse("?"));
        process.destroy();
        try {
            process.onExit().get(KILL_GRACE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            process.destroyForcibly();
        }
    }

    private static String startInstant(ProcessHandle handle) {
        return handle.info().startInstant().map(Object::toString).orElse("?");
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.warn("Cannot delete {}: {}", p, e.toString());
                }
            });
        } catch (IOException e) {
            LOG.warn("Cannot delete {}: {}", dir, e.toString());
        }
    }
}
