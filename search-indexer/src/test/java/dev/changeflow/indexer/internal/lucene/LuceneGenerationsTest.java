package dev.changeflow.indexer.internal.lucene;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.indexer.index.ConditionalWrite;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexGenerations;
import dev.changeflow.indexer.index.IndexGenerations.Generation;
import dev.changeflow.indexer.index.IndexedDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LuceneGenerationsTest {
    @TempDir
    Path root;

    @Test
    void aDirectoryWithoutPointerFileIsTheLegacyGenerationAndKeepsItsDocuments() throws Exception {
        try (LuceneIndex plain = new LuceneIndex(root)) {
            plain.open();
            write(plain, "t1");
        }
        Generation current = new LuceneGenerations(root).openCurrent();
        try {
            assertThat(current.name()).isEqualTo(IndexGenerations.LEGACY);
            assertThat(current.index().liveDocuments(DocumentType.TASKS)).containsOnlyKeys("t1");
        } finally {
            current.index().close();
        }
    }

    @Test
    void aPromotedGenerationIsWhatTheNextStartOpensAndTheLegacyLayoutIsDeleted() throws Exception {
        LuceneGenerations generations = new LuceneGenerations(root);
        Generation legacy = generations.openCurrent();
        write(legacy.index(), "old");
        Generation next = generations.create();
        assertThat(next.name()).isEqualTo("gen-1");
        write(next.index(), "new");
        generations.promote(legacy, next);
        generations.delete(legacy);
        next.index().close();

        assertThat(Files.readString(root.resolve(LuceneGenerations.POINTER)).trim()).isEqualTo("gen-1");
        assertThat(children()).containsExactlyInAnyOrder("CURRENT", "gen-1");
        Generation reopened = new LuceneGenerations(root).openCurrent();
        try {
            assertThat(reopened.name()).isEqualTo("gen-1");
            assertThat(reopened.index().liveDocuments(DocumentType.TASKS)).containsOnlyKeys("new");
        } finally {
            reopened.index().close();
        }
    }

    @Test
    void aGenerationLeftByAnUnfinishedRebuildIsDeletedAtTheNextStartAndNumbersMoveOn() throws Exception {
        LuceneGenerations generations = new LuceneGenerations(root);
        Generation legacy = generations.openCurrent();
        Generation abandoned = generations.create();
        write(abandoned.index(), "half");
        abandoned.index().close();
        legacy.index().close();

        LuceneGenerations restarted = new LuceneGenerations(root);
        Generation current = restarted.openCurrent();
        assertThat(current.name()).isEqualTo(IndexGenerations.LEGACY);
        assertThat(children()).doesNotContain("gen-1");
        Generation next = restarted.create();
        assertThat(next.name()).isEqualTo("gen-1");
        next.index().close();
        current.index().close();
    }

    @Test
    void aPointerFileNamingNoGenerationFailsTheStartWithTheFileNamed() throws Exception {
        Files.writeString(root.resolve(LuceneGenerations.POINTER), "gen-7\n");
        assertThatThrownBy(() -> new LuceneGenerations(root).openCurrent())
                .hasMessageContaining("CURRENT").hasMessageContaining("gen-7");
    }

    private static void write(dev.changeflow.indexer.index.SearchIndex index, String id) {
        assertThat(index.write(List.of(new ConditionalWrite(DocumentType.TASKS,
                IndexedDocument.live(id, 10, Map.of("title", id)), null)))).containsExactly(true);
    }

    private List<String> children() throws Exception {
        try (Stream<Path> children = Files.list(root)) {
            return children.map(p -> p.getFileName().toString()).toList();
        }
    }
}
