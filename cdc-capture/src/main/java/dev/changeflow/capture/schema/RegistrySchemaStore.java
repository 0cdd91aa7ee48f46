package dev.changeflow.capture.schema;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers row schemas in a schema registry through the Confluent Schema Registry REST API (Confluent, Karapace,
 * Apicurio's {@code /apis/ccompat/v7}), as JSON Schemas under subject {@code <topic>-value}.
 *
 * <p>Each subject's compatibility level is set to the table's mode, so that the registry shows and enforces it for
 * anyone else registering. Capture itself never stops on a change that breaks the mode: when the registry answers
 * 409 (incompatible), it sets the subject's level to {@code NONE}, registers, and sets the level back, so the change
 * is published under a new version (and flagged by capture, see {@code RowSchemaVersions}). Connection failures and
 * 5xx answers are outages ({@link SchemaStore.Unavailable}); other 4xx answers are {@link SchemaStore.Refused}.
 */
public final class RegistrySchemaStore implements SchemaStore {
    private static final Logger LOG = LoggerFactory.getLogger(RegistrySchemaStore.class);
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    /** @param base the registry's base URL, such as {@code http://registry:8080/apis/ccompat/v7} */
    public RegistrySchemaStore(URI base) {
        String text = base.toString();
        this.base = URI.create(text.endsWith("/") ? text : text + "/");
    }

    @Override
    public List<SchemaVersion> load(List<String> subjects) {
        List<SchemaVersion> versions = new ArrayList<>();
        for (String subject : subjects) {
            Answer list = call("GET", "subjects/" + encode(subject) + "/versions", null);
            if (list.status == 404) {
                continue;
            }
            list.requireOk("listing the versions of " + subject);
            for (JsonNode v : list.body) {
                Answer one = call("GET", "subjects/" + encode(subject) + "/versions/" + v.asInt(), null);
                one.requireOk("reading version " + v.asInt() + " of " + subject);
                versions.add(fromRegistry(subject, one.body, null, List.of()));
            }
        }
        return versions;
    }

    @Override
    public SchemaVersion register(SchemaVersion candidate) {
        String subject = encode(candidate.subject());
        Map<String, String> body = Map.of("schemaType", "JSON", "schema", candidate.schema());
        Answer existing = call("POST", "subjects/" + subject, body);
        if (existing.status == 200) {
            return fromRegistry(candidate.subject(), existing.body, candidate.compatibility(), candidate.breaking());
        }
        setCompatibility(subject, candidate.compatibility());
        Answer registered = call("POST", "subjects/" + subject + "/versions", body);
        if (registered.status == 409) {
            LOG.warn("Schema registry refuses the new schema of {} under {} (409); registering it with the subject's "
                    + "compatibility set to NONE for this one registration, then back to {}", candidate.subject(),
                    candidate.compatibility(), candidate.compatibility());
            setCompatibility(subject, "NONE");
            try {
                registered = call("POST", "subjects/" + subject + "/versions", body);
            } finally {
                setCompatibility(subject, candidate.compatibility());
            }
        }
        registered.requireOk("registering a schema under " + candidate.subject());
        Answer lookup = call("POST", "subjects/" + subject, body);
        lookup.requireOk("looking up the schema just registered under " + candidate.subject());
        return fromRegistry(candidate.subject(), lookup.body, candidate.compatibility(), candidate.breaking());
    }

    private void setCompatibility(String encodedSubject, String mode) {
        call("PUT", "config/" + encodedSubject, Map.of("compatibility", mode))
                .requireOk("setting the compatibility of " + encodedSubject + " to " + mode);
    }

    private static SchemaVersion fromRegistry(String subject, JsonNode body, String mode, List<String> breaking) {
        String schema = body.path("schema").asText();
        String table = "";
        try {
            table = SchemaVersions.JSON.readTree(schema).path("x-changeflow-table").asText("");
        } catch (IOException e) {
            // Not one of ours: keep it without a table.
        }
        return new SchemaVersion(subject, body.path("version").asInt(), body.path("id").asInt(), table, schema,
                mode, breaking, Instant.now());
    }

    private record Answer(int status, JsonNode body, String text) {
        void requireOk(String what) {
            if (status / 100 == 2) {
                return;
            }
            if (status >= 500 || status == 408 || status == 429) {
                throw new Unavailable("Schema registry answered " + status + " " + text + " while " + what, null);
            }
            throw new Refused("Schema registry refused " + what + ": " + status + " " + text);
        }
    }

    private Answer call(String method, String path, Object body) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT)
                    .header("Accept", CONTENT_TYPE + ", application/json");
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(SchemaVersions.JSON.writeValueAsBytes(body)));
            if (body != null) {
                request.header("Content-Type", CONTENT_TYPE);
            }
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            try {
                json = SchemaVersions.JSON.readTree(response.body());
            } catch (IOException e) {
                // Not JSON (a proxy's error page): the text says what happened.
            }
            String text = response.body().length() > 300 ? response.body().substring(0, 300) : response.body();
            return new Answer(response.statusCode(), json, text);
        } catch (IOException e) {
            throw new Unavailable("Schema registry at " + base + " unreachable: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable("Interrupted while calling the schema registry", e);
        }
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        // HttpClient has no close on Java 17; its threads end with it.
    }
}
