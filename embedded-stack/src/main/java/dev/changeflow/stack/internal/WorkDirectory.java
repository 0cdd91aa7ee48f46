package dev.changeflow.stack.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory owned by one server started by this JVM. It records the owner and the PIDs of child processes, so
 * that a later JVM can stop what one killed with {@code -9} left running. Two kinds:
 *
 * <ul>
 *   <li>{@link #create(Path, String) Temporary}: {@code <root>/<kind>-<jvm pid>-<random>/} holding {@value #OWNER_FILE}
 *       ({@code pid start-instant}); deleted on close, and deleted with its processes by a later JVM if the owner
 *       died: see {@link #reapLeftovers(Path)}.
 *   <li>{@link #claim(Path) Persistent}: a directory the user chose, kept on close. A file lock on
 *       {@value #LOCK_FILE} marks the owner for as long as it lives (the OS drops it when the process dies), so a
 *       second owner is refused and a dead owner's leftover processes are stopped by the next claim. It never holds
 *       {@value #OWNER_FILE}, so {@link #reapLeftovers(Path)} leaves it alone even under a temporary root.
 * </ul>
 *
 * <p>Child processes are recorded as {@code <name>.pid} files ({@code pid}, then the process's start instant), and
 * Postgres's own {@code data/postmaster.pid} is honoured too. A PID is only acted on if the process it names is still
 * the one that was recorded (same start time; for a postmaster, a {@code postgres} started when its pid file says), so
 * a PID recycled after a reboot is never signalled.
 */
public final class WorkDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkDirectory.class);
    static final String OWNER_FILE = "owner.jvm";
    static final String LOCK_FILE = "owner.lock";
    private static final String POSTMASTER_PID = "postmaster.pid";
    /** Postgres writes its start time (whole seconds) into postmaster.pid a moment after the process started. */
    private static final Duration POSTMASTER_START_WINDOW = Duration.ofSeconds(60);

    private final Path path;
    private final boolean persistent;
    private final FileChannel lockChannel;
    private final AtomicBoolean closed = new AtomicBoolean();

    private WorkDirectory(Path path, boolean persistent, FileChannel lockChannel) {
        this.path = path;
        this.persistent = persistent;
        this.lockChannel = lockChannel;
    }

    /** Creates a fresh directory for a server of the given kind, after reaping the leftovers under {@code root}. */
    public static WorkDirectory create(Path root, String kind) {
        try {
            Files.createDirectories(root);
            reapLeftovers(root);
            ProcessHandle self = ProcessHandle.current();
            Path dir = root.resolve(kind + "-" + self.pid() + "-" + UUID.randomUUID().toString().substring(0, 8));
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(OWNER_FILE), ownerLine(self));
            return new WorkDirectory(dir, false, null);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a work directory under " + root, e);
        }
    }

    /**
     * Claims {@code directory} (created if missing) for a server whose data must outlive this JVM. If a previous owner
     * died without closing, the processes it left running there (recorded children, a postmaster of {@code data/}) are
     * stopped first, one log line each: asked to stop, and killed with their descendants if still there after 10 s.
     * Stale pid files are removed. {@link #close()} keeps the directory and its content and releases the claim.
     *
     * @throws IllegalStateException naming the owner if a live process (this JVM included) holds the directory
     * @throws UncheckedIOException if the directory cannot be created or locked
     */
    public static WorkDirectory claim(Path directory) {
        Path dir = directory.toAbsolutePath().normalize();
        FileChannel channel = null;
        try {
            Files.createDirectories(dir);
            channel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock = tryLock(channel, dir);
            if (lock == null) {
                String owner = new String(Files.readAllBytes(dir.resolve(LOCK_FILE)), StandardCharsets.UTF_8).trim();
                throw new IllegalStateException(dir + " is in use by "
                        + (owner.isEmpty() ? "another process" : "process " + owner.split(" ", 2)[0])
                        + "; stop that process or use another directory");
            }
            stopLeftovers(dir);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(ownerLine(ProcessHandle.current()).getBytes(StandardCharsets.UTF_8)), 0);
            return new WorkDirectory(dir, true, channel);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException("Cannot claim " + dir, e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static FileLock tryLock(FileChannel channel, Path dir) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            throw new IllegalStateException(dir + " is in use by a server of this JVM; close it first", e);
        }
    }

    /** The directory itself. */
    public Path path() {
        return path;
    }

    /** Records a child process so that it is stopped by a later JVM if this one dies without cleaning up. */
    public void recordChild(String name, long pid) {
        String start = ProcessHandle.of(pid).map(WorkDirectory::startInstant).orElse("?");
        try {
            Files.writeString(path.resolve(name + ".pid"), pid + "\n" + start + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Releases the directory; idempotent. A temporary directory is deleted with everything in it; a persistent one
     * keeps its content, loses its child records and is unlocked. Child processes must already be stopped.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (!persistent) {
            deleteRecursively(path);
            return;
        }
        try (Stream<Path> files = Files.list(path)) {
            for (Path f : files.filter(WorkDirectory::isPidFile).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            LOG.warn("Cannot remove the pid files of {}: {}", path, e.toString());
        }
        closeQuietly(lockChannel); // releases the lock
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
                for (Path pidFile : pidFiles(dir)) {
                    recordedProcess(pidFile).ifPresent(p -> Processes.stopTree(p, "leftover process"));
                }
                deleteRecursively(dir);
            }
        }
    }

    private static void stopLeftovers(Path dir) throws IOException {
        for (Path pidFile : pidFiles(dir)) {
            recordedProcess(pidFile)
                    .ifPresent(p -> Processes.stopTree(p, "process left running in " + dir + " by a previous run:"));
            // Gone now, or never the process it names: a stale file would make Postgres suspect a live postmaster.
            Files.deleteIfExists(pidFile);
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

    private static List<Path> pidFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir, 3)) {
            return files.filter(WorkDirectory::isPidFile).toList();
        }
    }

    private static boolean isPidFile(Path f) {
        return f.getFileName().toString().endsWith(".pid") && Files.isRegularFile(f);
    }

    /**
     * The live process a pid file names, if it is still the process that was recorded: a {@code <name>.pid} of ours
     * carries the start instant; Postgres's postmaster.pid carries the start time in epoch seconds on line 3.
     */
    static Optional<ProcessHandle> recordedProcess(Path pidFile) {
        List<String> lines;
        try {
            lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Optional.empty();
        }
        Optional<ProcessHandle> handle;
        try {
            handle = lines.isEmpty() ? Optional.empty() : ProcessHandle.of(Long.parseLong(lines.get(0).trim()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return handle.filter(Processes::isRunning)
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> pidFile.getFileName().toString().equals(POSTMASTER_PID)
                        ? isPostmasterOf(p, lines)
                        : lines.size() < 2 || lines.get(1).trim().equals("?")
                                || lines.get(1).trim().equals(startInstant(p)));
    }

    private static boolean isPostmasterOf(ProcessHandle p, List<String> pidFileLines) {
        boolean postgres = p.info().command().map(c -> c.endsWith("postgres")).orElse(true);
        if (!postgres || pidFileLines.size() < 3) {
            return postgres;
        }
        Optional<Instant> started = p.info().startInstant();
        try {
            Instant written = Instant.ofEpochSecond(Long.parseLong(pidFileLines.get(2).trim()));
            // The postmaster started before it wrote the file (to the second); a recycled PID started after it died.
            return started.map(s -> !s.isAfter(written.plusSeconds(2))
                    && !s.isBefore(written.minus(POSTMASTER_START_WINDOW))).orElse(true);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    private static String ownerLine(ProcessHandle self) {
        return self.pid() + " " + startInstant(self);
    }

    private static String startInstant(ProcessHandle handle) {
        return handle.info().startInstant().map(Object::toString).orElse("?");
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("Closing a lock file failed", e);
            }
        }
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
