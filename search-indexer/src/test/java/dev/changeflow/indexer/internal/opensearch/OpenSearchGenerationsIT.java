package dev.changeflow.indexer.internal.opensearch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changeflow.indexer.OpenSearchNode;
import dev.changeflow.indexer.index.ConditionalWrite;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexGenerations;
import dev.changeflow.indexer.index.IndexGenerations.Generation;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.SearchIndex;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** {@link OpenSearchGenerations} on a real OpenSearch node; each test has an index prefix of its own. */
class OpenSearchGenerationsIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OpenSearchNode node = OpenSearchNode.shared();
    private final String prefix = "gens" + UUID.randomUUID().toString().replace("-", "").substring(0, 10) + "-";

    @Test
    void aPromotedGenerationIsReachedThroughTheAliasesByEveryIndexAndThePlainIndicesAreGone() throws Exception {
        OpenSearchGenerations generations = generations();
        Generation legacy = generations.openCurrent();
        assertThat(legacy.name()).isEqualTo(IndexGenerations.LEGACY);
        write(legacy.index(), "old");
        Generation next = generations.create();
        assertThat(next.name()).isEqualTo("gen-1");
        write(next.index(), "new");
        assertThat(legacy.index().liveDocuments(DocumentType.TASKS)).as("not current yet").containsOnlyKeys("old");

        generations.promote(legacy, next);

        assertThat(legacy.index().liveDocuments(DocumentType.TASKS)).as("the old index, through the aliases")
                .containsOnlyKeys("new");
        assertThat(((OpenSearchIndex) next.index()).indexName(DocumentType.TASKS)).isEqualTo(prefix + "tasks");
        generations.delete(legacy);
        assertThat(indices()).containsExactlyInAnyOrder(prefix + "tasks-g1", prefix + "projects-g1");
        Generation reopened = generations().openCurrent();
        try {
            assertThat(reopened.name()).isEqualTo("gen-1");
            assertThat(reopened.index().liveDocuments(DocumentType.TASKS)).containsOnlyKeys("new");
        } finally {
            reopened.index().close();
            next.index().close();
        }
    }

    @Test
    void aGenerationWhoseIndexWasDeletedAndCreatedAgainIsNotPromotedAndNothingChanges() throws Exception {
        OpenSearchGenerations generations = generations();
        Generation legacy = generations.openCurrent();
        Generation next = generations.create();
        try {
            assertThat(send("DELETE", "/" + prefix + "tasks-g1").statusCode()).isEqualTo(200);
            assertThat(send("PUT", "/" + prefix + "tasks-g1").statusCode()).isEqualTo(200);

            assertThatThrownBy(() -> generations.promote(legacy, next)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(prefix + "tasks-g1").hasMessageContaining("created again");
            assertThat(aliases()).as("no alias").isEmpty();
            assertThat(indices()).contains(prefix + "tasks", prefix + "projects");
        } finally {
            legacy.index().close();
            next.index().close();
        }
    }

    @Test
    void theGenerationTheAliasesPointAtIsNeverDeletedAndLeftoversGoAtTheNextStart() throws Exception {
        OpenSearchGenerations generations = generations();
        Generation legacy = generations.openCurrent();
        Generation first = generations.create();
        generations.promote(legacy, first);
        generations.delete(legacy);
        Generation abandoned = generations.create();
        assertThat(abandoned.name()).isEqualTo("gen-2");

        generations.delete(first);
        assertThat(indices()).as("gen-1 is current: kept").contains(prefix + "tasks-g1", prefix + "projects-g1");
        abandoned.index().close();

        Generation reopened = generations().openCurrent();
        try {
            assertThat(reopened.name()).isEqualTo("gen-1");
            assertThat(indices()).as("gen-2 deleted at the start")
                    .containsExactlyInAnyOrder(prefix + "tasks-g1", prefix + "projects-g1");
        } finally {
            reopened.index().close();
        }
    }

    private OpenSearchGenerations generations() {
        return new OpenSearchGenerations(node.httpUrl(), null, null, prefix, 1, 0, "1s", Duration.ofSeconds(10));
    }

    private static void write(SearchIndex index, String id) {
        assertThat(index.write(List.of(new ConditionalWrite(DocumentType.TASKS,
                IndexedDocument.live(id, 10, Map.of("id", id, "title", id)), null)))).containsExactly(true);
    }

    private Set<String> indices() throws Exception {
        Set<String> names = new TreeSet<>();
        JSON.readTree(node.get("/_cat/indices/" + prefix + "*?h=index&format=json"))
                .forEach(index -> names.add(index.get("index").asText()));
        return names;
    }

    private Set<String> aliases() throws Exception {
        Set<String> names = new TreeSet<>();
        JSON.readTree(node.get("/_cat/aliases/" + prefix + "*?h=alias&format=json"))
                .forEach(alias -> names.add(alias.get("alias").asText()));
        return names;
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(node.httpUrl().resolve(path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
