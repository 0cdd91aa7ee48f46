package dev.changeflow.indexer.internal.lucene;

import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexGenerations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.lucene.store.Directory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generations of the embedded Lucene index under one directory (the configured
 * {@code changeflow.indexer.lucene-directory}):
 * <pre>
 * search-index/
 *   CURRENT          one line, "gen-2": the current generation (absent: the legacy layout below is current)
 *   gen-2/tasks/     a generation: one Lucene index per document type
 *   gen-2/projects/
 *   tasks/, projects/  the legacy layout, from before generations: current while there is no CURRENT file
 * </pre>
 * {@link #promote} replaces {@code CURRENT} by an atomic rename after syncing it, then syncs the directory, so a crash
 * leaves either the old or the new generation current, never neither. {@link #openCurrent} deletes every generation
 * that is not current (a rebuild that did not finish, or an old generation whose deletion a crash interrupted),
 * including the legacy layout once a {@code CURRENT} file exists. One process at a time (Lucene's write locks).
 */
public final class LuceneGenerations implements IndexGenerations {
    private static final Logger LOG = LoggerFactory.getLogger(LuceneGenerations.class);
    /** The pointer file naming the current generation. */
    public static final String POINTER = "CURRENT";
    private static final Pattern GENERATION = Pattern.compile("gen-([1-9][0-9]{0,17})");

    private final Path root;
    private final UnaryOperator<Directory> wrapper;

    /** Generations under {@code root} (created if missing); nothing is opened before {@link #openCurrent}. */
    public LuceneGenerations(Path root) {
        this(root, UnaryOperator.identity());
    }

    /** Generations whose Lucene directories {@code wrapper} wraps (tests that stall or fail I/O). */
    public LuceneGenerations(Path root, UnaryOperator<Directory> wrapper) {
        this.root = Objects.requireNonNull(root, "root");
        this.wrapper = Objects.requireNonNull(wrapper, "wrapper");
    }

    @Override
    public synchronized Generation openCurrent() {
        Optional<String> current;
        try {
            Files.createDirectories(root);
            current = readPointer();
            for (String stale : generationNames()) {
                if (current.isEmpty() || !current.get().equals(stale)) {
                    LOG.info("Deleting {} under {}: not the current generation (left by a rebuild)", stale, root);
                    deleteTree(root.resolve(stale));
                }
            }
            if (current.isPresent()) {
                deleteLegacy();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the generations of the Lucene index in " + root + ": " + e, e);
        }
        Generation generation = generation(current.orElse(LEGACY));
        generation.index().open();
        return generation;
    }

    @Override
    public synchronized Generation create() {
        long next;
        try {
            next = Math.max(readPointer().map(LuceneGenerations::number).orElse(0L),
                    generationNames().stream().mapToLong(LuceneGenerations::number).max().orElse(0L)) + 1;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + root + ": " + e, e);
        }
        Generation generation = generation("gen-" + next);
        generation.index().open();
        return generation;
    }

    @Override
    public synchronized void promote(Generation current, Generation next) {
        if (LEGACY.equals(next.name())) {
            throw new IllegalArgumentException("the legacy layout cannot be promoted");
        }
        Path tmp = root.resolve(POINTER + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                channel.write(java.nio.ByteBuffer.wrap((next.name() + "\n").getBytes(StandardCharsets.UTF_8)));
                channel.force(true);
            }
            Files.move(tmp, root.resolve(POINTER), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(root);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot make " + next.name() + " the current generation in " + root
                    + ": " + e, e);
        }
    }

    @Override
    public synchronized void delete(Generation generation) {
        generation.index().close();
        try {
            if (LEGACY.equals(generation.name())) {
                deleteLegacy();
            } else {
                deleteTree(root.resolve(generation.name()));
            }
        } catch (IOException e) {
            // Harmless: the next start deletes what is not current.
            LOG.warn("Could not delete generation {} under {} (the next start retries): {}", generation.name(), root,
                    e.toString());
        }
    }

    @Override
    public String describe() {
        return "lucene " + root.toAbsolutePath();
    }

    /** The current generation's name as the pointer file says, empty if there is none (legacy layout). */
    Optional<String> readPointer() throws IOException {
        try {
            String name = Files.readString(root.resolve(POINTER), StandardCharsets.UTF_8).trim();
            if (!GENERATION.matcher(name).matches()) {
                throw new IOException(root.resolve(POINTER) + " names no generation: '" + name + "'");
            }
            if (!Files.isDirectory(root.resolve(name))) {
                throw new IOException(root.resolve(POINTER) + " names " + name + ", which does not exist");
            }
            return Optional.of(name);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private Generation generation(String name) {
        Path directory = LEGACY.equals(name) ? root : root.resolve(name);
        return new Generation(name, new LuceneIndex(directory, wrapper));
    }

    private List<String> generationNames() throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> children = Files.list(root)) {
            children.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> GENERATION.matcher(n).matches()).forEach(names::add);
        }
        return names;
    }

    private void deleteLegacy() throws IOException {
        for (DocumentType type : DocumentType.values()) {
            deleteTree(root.resolve(type.table()));
        }
    }

    private static long number(String generation) {
        Matcher m = GENERATION.matcher(generation);
        return m.matches() ? Long.parseLong(m.group(1)) : 0L;
    }

    private static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(path)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a directory; the rename is still atomic.
            LOG.debug("Cannot sync directory {}: {}", directory, e.toString());
        }
    }
}
