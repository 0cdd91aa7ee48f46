package dev.changeflow.indexer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changeflow.indexer.internal.lucene.LuceneIndex;
import dev.changeflow.router.Op;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import dev.changeflow.router.service.BearerToken;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The search endpoint over a real Lucene index: JSON results and helpful errors. */
class SearchEndpointTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path directory;
    private LuceneIndex index;
    private static final String TOKEN = "search-endpoint-test-token-0123456789";
    private SearchEndpoint endpoint;

    @BeforeEach
    void start() throws Exception {
        index = new LuceneIndex(directory);
        index.open();
        ChangeIndexer indexer = new ChangeIndexer(index, new IndexerMetrics(new SimpleMeterRegistry(),
                Clock.systemUTC()));
        indexer.apply(List.of(ChangeIndexerTest.project(Op.CREATE, "p1", null, "Apollo", 10),
                ChangeIndexerTest.task(Op.CREATE, "t1", "p1", "Write the report", 20),
                ChangeIndexerTest.task(Op.CREATE, "t2", "p1", "Review the report", 21),
                ChangeIndexerTest.task(Op.CREATE, "t3", "p1", "Plan the launch", 22),
                ChangeIndexerTest.delete("t3", "p1", 23)));
        endpoint = SearchEndpoint.start(index, "127.0.0.1", 0, 100, Optional.of(BearerToken.of(TOKEN)));
    }

    @AfterEach
    void stop() {
        endpoint.close();
        index.close();
    }

    @Test
    void aSearchReturnsTheMatchingLiveDocumentsAsJson() throws Exception {
        HttpResponse<String> response = get("/search/tasks?q=report");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("total").asLong()).isEqualTo(2);
        assertThat(body.get("hits")).extracting(hit -> hit.get("id").asText()).containsExactlyInAnyOrder("t1", "t2");
        JsonNode first = body.get("hits").get(0);
        assertThat(first.get("document").get("project_name").asText()).isEqualTo("Apollo");
        assertThat(first.get("version").asText()).isIn("20", "21");
    }

    @Test
    void theLimitBoundsTheHitsButNotTheTotal() throws Exception {
        JsonNode body = JSON.readTree(get("/search/tasks?q=project_name:apollo&limit=1").body());

        assertThat(body.get("total").asLong()).isEqualTo(2);
        assertThat(body.get("hits")).hasSize(1);
    }

    @Test
    void aQueryThatDoesNotParseIsABadRequestThatSaysWhy() throws Exception {
        HttpResponse<String> response = get("/search/tasks?q=title:(unclosed");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(response.body()).get("error").asText()).contains("Cannot parse the query");
    }

    @Test
    void aMissingQueryOrUnknownTypeIsRefused() throws Exception {
        assertThat(get("/search/tasks").statusCode()).isEqualTo(400);
        assertThat(get("/search/users?q=x").statusCode()).isEqualTo(404);
        assertThat(get("/elsewhere").statusCode()).isEqualTo(404);
    }

    @Test
    void theDocumentEndpointShowsTombstonesWithTheirVersion() throws Exception {
        JsonNode tombstone = JSON.readTree(get("/documents/tasks/t3").body());

        assertThat(tombstone.get("deleted").asBoolean()).isTrue();
        assertThat(tombstone.get("version").asText()).isEqualTo("23");
        assertThat(get("/documents/tasks/nope").statusCode()).isEqualTo(404);
    }

    @Test
    void searchingWithoutTheTokenOrWithAWrongOneIsUnauthorized() throws Exception {
        URI uri = endpoint.uri().resolve("/search/tasks?q=report");
        HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(uri).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> wrong = HTTP.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer "
                + TOKEN + "x").GET().build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> document = HTTP.send(HttpRequest.newBuilder(endpoint.uri().resolve("/documents/tasks/t1"))
                .header("Authorization", "Basic " + TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());

        assertThat(List.of(none.statusCode(), wrong.statusCode(), document.statusCode())).containsOnly(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("Bearer"));
        assertThat(wrong.body()).doesNotContain("Write the report");
    }

    @Test
    void withoutAConfiguredTokenSearchIsOffNotOpen() throws Exception {
        try (SearchEndpoint off = SearchEndpoint.start(index, "127.0.0.1", 0, 100, Optional.empty())) {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(off.uri().resolve(
                    "/search/tasks?q=report")).header("Authorization", "Bearer " + TOKEN).GET().build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(404);
            assertThat(response.body()).contains("CHANGEFLOW_ADMIN_TOKEN").doesNotContain("Write the report");
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        URI uri = endpoint.uri().resolve(path);
        return HTTP.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + TOKEN).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
