package dev.changeflow.indexer.index;

import dev.changeflow.indexer.internal.lucene.LuceneIndex;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@link SearchIndex} contract against the embedded Lucene index, on disk. */
class LuceneIndexContractTest extends SearchIndexContract {

    @TempDir
    static Path root;

    @Override
    protected SearchIndex newIndex(String name) {
        return new LuceneIndex(root.resolve(name));
    }

    @Test
    void aSecondIndexOnTheSameDirectoryIsRefusedWhileTheFirstIsOpen() {
        LuceneIndex second = new LuceneIndex(root.resolve(name()));

        assertThatThrownBy(second::open).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("Cannot open the Lucene index in");
    }
}
