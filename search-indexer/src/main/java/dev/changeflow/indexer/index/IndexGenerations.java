package dev.changeflow.indexer.index;

import java.util.Objects;

/**
 * The generations of a search index: complete copies of the index, one of which is <em>current</em> (the one
 * searches and live writes use, and the one a restarted indexer opens). A rebuild fills a new generation while the
 * current one keeps serving, then {@link #promote promotes} it; the old one is then {@link #delete deleted}.
 *
 * <p>Lucene keeps each generation in a directory {@code gen-<n>} under the configured directory and names the current
 * one in a pointer file; OpenSearch keeps each in indices {@code <prefix><type>-g<n>} behind aliases
 * {@code <prefix><type>}. An index from before generations existed (a plain directory, plain indices) is the current
 * generation {@link #LEGACY} until the first rebuild replaces it.
 *
 * <p>Implementations are thread-safe; only one rebuild at a time may {@link #create} and {@link #promote}.
 */
public interface IndexGenerations {

    /** The name of the generation an index from before generations is: the plain directory or indices. */
    String LEGACY = "legacy";

    /** A generation: its name ({@code gen-3}, {@link #LEGACY}) and its index. */
    record Generation(String name, SearchIndex index) {
        public Generation {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(index, "index");
        }
    }

    /**
     * Opens the current generation (creating an empty one if there is none) and removes what unfinished or finished
     * rebuilds left behind (generations that are not current). Called once, at startup.
     *
     * @return the current generation, its index open
     * @throws RuntimeException if it cannot be opened
     */
    Generation openCurrent();

    /**
     * Creates and opens a new, empty generation, not current: nothing but its creator reads or writes it.
     *
     * @throws UnsupportedOperationException if this index has a single generation (see {@link #single})
     */
    Generation create();

    /**
     * Makes {@code next} the current generation, atomically and durably: a restart opens it, and (OpenSearch) every
     * search and write through the index's usual names reaches it from now on.
     *
     * @param current the generation current until now
     * @throws RuntimeException if it could not: {@code current} stays current
     */
    void promote(Generation current, Generation next);

    /** Closes {@code generation}'s index and deletes what it stores. It must not be current. */
    void delete(Generation generation);

    /** Whether {@link #create} is supported. */
    default boolean supportsRebuild() {
        return true;
    }

    /** A short description for logs, such as {@code lucene /var/lib/changeflow/search}. */
    String describe();

    /** One index that is its own and only generation: no rebuild ({@link #create} throws). For tests. */
    static IndexGenerations single(SearchIndex index) {
        Objects.requireNonNull(index, "index");
        return new IndexGenerations() {
            @Override
            public Generation openCurrent() {
                index.open();
                return new Generation(LEGACY, index);
            }

            @Override
            public Generation create() {
                throw new UnsupportedOperationException("This indexer was given one index (" + index.describe()
                        + "), without generations: it cannot be rebuilt in place");
            }

            @Override
            public void promote(Generation current, Generation next) {
                throw new UnsupportedOperationException("no generations");
            }

            @Override
            public void delete(Generation generation) {
                throw new UnsupportedOperationException("no generations");
            }

            @Override
            public boolean supportsRebuild() {
                return false;
            }

            @Override
            public String describe() {
                return index.describe();
            }
        };
    }
}
