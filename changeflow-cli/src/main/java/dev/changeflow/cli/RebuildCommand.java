package dev.changeflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changeflow.cli.internal.ops.OpsCommandSupport;
import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import dev.changeflow.router.service.OpsSettings;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code changeflow rebuild search}: rebuilds the search index of a running search indexer into a new generation and
 * switches to it, through the indexer's admin API ({@code POST /search/rebuild}, then {@code GET /search/rebuild}
 * until it ends), printing its progress. Exit codes: 0 switched, 1 refused or failed (a rebuild already running,
 * a missing state topic, the indexer unreachable, the rebuild failed: the old index stays current), 2 a bad setting
 * or option.
 */
@Command(name = "rebuild", mixinStandardHelpOptions = true,
        description = "Rebuild derived state from the compacted state topics.",
        subcommands = {RebuildCommand.Search.class})
public final class RebuildCommand {

    @Command(name = "search", mixinStandardHelpOptions = true,
            description = {"Builds a fresh search index (a new generation) inside the running search indexer from "
                    + "the compacted state topics, catches it up from the change topics and switches to it; "
                    + "searches keep answering from the current index until the switch, and indexing never pauses.",
                    "Use it after a mapping change or when the index is found wrong. Needs CHANGEFLOW_ADMIN_TOKEN."})
    static final class Search implements Callable<Integer> {
        private static final ObjectMapper JSON = new ObjectMapper();
        /** Failed polls in a row (the indexer restarting, a network blip) before the command gives up. */
        private static final int MAX_POLL_FAILURES = 10;

        @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Properties file with settings.")
        Path config;

        @Option(names = "--url", paramLabel = "URL", description = "The search indexer's operations endpoint "
                + "(default: http://CHANGEFLOW_HTTP_HOST:CHANGEFLOW_HTTP_PORT, 127.0.0.1 for 0.0.0.0).")
        String url;

        @Option(names = "--batch-size", paramLabel = "N", description = "Events per write to the new index "
                + "(default: the indexer's CHANGEFLOW_SUBSCRIPTION_BATCH_SIZE).")
        Integer batchSize;

        @Option(names = "--poll-interval", paramLabel = "DURATION", defaultValue = "PT1S",
                description = "How often to ask for progress, as an ISO-8601 duration (default: ${DEFAULT-VALUE}).")
        Duration pollInterval;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Optional<OpsCommandSupport> loaded = CliSettings.opsSupport("rebuild search", config, spec);
            if (loaded.isEmpty()) {
                return OpsCommandSupport.BAD_USAGE;
            }
            OpsCommandSupport ops = loaded.get();
            String token;
            URI base;
            try {
                token = ops.settings().find(OpsSettings.ADMIN_TOKEN).orElse(null);
                if (token == null) {
                    return ops.fail(OpsCommandSupport.BAD_USAGE, OpsSettings.ADMIN_TOKEN.envName()
                            + " is not set: the indexer's admin API needs it");
                }
                base = url != null ? parseUrl(url) : defaultUrl(ops.settings());
            } catch (ConfigException e) {
                return ops.badSetting(e);
            } catch (IllegalArgumentException e) {
                return ops.fail(OpsCommandSupport.BAD_USAGE, e.getMessage());
            }
            if (batchSize != null && (batchSize < 1 || batchSize > 100_000)) {
                return ops.fail(OpsCommandSupport.BAD_USAGE, "--batch-size must be from 1 to 100000, not "
                        + batchSize);
            }
            if (pollInterval.isNegative() || pollInterval.isZero()) {
                return ops.fail(OpsCommandSupport.BAD_USAGE, "--poll-interval must be positive, not " + pollInterval);
            }
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            try {
                return run(ops, http, base, token);
            } catch (InterruptedException e) {
                return ops.interrupted();
            }
        }

        private int run(OpsCommandSupport ops, HttpClient http, URI base, String token) throws InterruptedException {
            URI endpoint = base.resolve("/search/rebuild");
            HttpResponse<String> started;
            try {
                started = http.send(request(URI.create(endpoint + (batchSize == null ? "" : "?batch_size="
                        + batchSize)), token).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                return ops.fail(OpsCommandSupport.FAILED, "cannot reach the search indexer at " + base + ": "
                        + describe(e));
            }
            switch (started.statusCode()) {
                case 202 -> { }
                case 400 -> {
                    return ops.fail(OpsCommandSupport.BAD_USAGE, error(started));
                }
                case 401 -> {
                    return ops.fail(OpsCommandSupport.BAD_USAGE, base + " refused the admin token ("
                            + OpsSettings.ADMIN_TOKEN.envName() + "): " + error(started));
                }
                case 404 -> {
                    return ops.fail(OpsCommandSupport.FAILED, "no search indexer at " + base
                            + " (or its admin API is off): " + error(started));
                }
                default -> {
                    return ops.fail(OpsCommandSupport.FAILED, "refused: " + error(started));
                }
            }
            JsonNode status = parse(started.body());
            ops.out().println("changeflow rebuild search: building " + text(status, "generation", "a new generation")
                    + " to replace " + text(status, "replacing", "the current index") + " (" + base + ")");
            ops.out().flush();
            String lastLine = "";
            int failures = 0;
            while (true) {
                Thread.sleep(pollInterval.toMillis());
                HttpResponse<String> polled;
                try {
                    polled = http.send(request(endpoint, token).GET().build(), HttpResponse.BodyHandlers.ofString());
                } catch (IOException e) {
                    if (++failures >= MAX_POLL_FAILURES) {
                        return ops.fail(OpsCommandSupport.FAILED, "lost the search indexer at " + base + ": "
                                + describe(e) + " (if it restarted, the rebuild was abandoned: run it again)");
                    }
                    continue;
                }
                if (polled.statusCode() != 200) {
                    return ops.fail(OpsCommandSupport.FAILED, "GET /search/rebuild answered " + polled.statusCode()
                            + ": " + error(polled) + " (if the indexer restarted, the rebuild was abandoned)");
                }
                failures = 0;
                status = parse(polled.body());
                String phase = text(status, "phase", "?");
                String line = progress(status);
                if (!line.equals(lastLine)) {
                    ops.out().println("  " + line);
                    ops.out().flush();
                    lastLine = line;
                }
                switch (phase) {
                    case "done" -> {
                        ops.out().println("changeflow rebuild search: done, " + text(status, "generation", "?")
                                + " is current; " + text(status, "replacing", "the old index") + " is deleted"
                                + (status.path("skipped").asLong() > 0 ? " (" + status.path("skipped").asLong()
                                + " records skipped: see the indexer's log)" : ""));
                        ops.out().flush();
                        return OpsCommandSupport.OK;
                    }
                    case "failed", "cancelled" -> {
                        return ops.fail(OpsCommandSupport.FAILED, phase + ": " + text(status, "error", "(no reason)")
                                + "; " + text(status, "replacing", "the old index") + " stays current");
                    }
                    default -> { }
                }
            }
        }

        private static String progress(JsonNode s) {
            String phase = s.path("phase").asText();
            return switch (phase) {
                case "loading_state" -> "loading the state topics: " + s.path("state_offsets_done").asLong() + "/"
                        + s.path("state_offsets_total").asLong() + " offsets, " + s.path("state_records").asLong()
                        + " records";
                case "catching_up" -> "catching up from the change topics: " + s.path("change_offsets_done").asLong()
                        + "/" + s.path("change_offsets_total").asLong() + " offsets of this pass, "
                        + s.path("change_records").asLong() + " records in all";
                case "switching" -> "switching to " + s.path("generation").asText();
                default -> phase;
            };
        }

        private static HttpRequest.Builder request(URI uri, String token) {
            return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + token);
        }

        private static URI defaultUrl(Settings settings) {
            String host = settings.get(OpsSettings.HTTP_HOST).trim();
            if (host.equals("0.0.0.0") || host.equals("::") || host.isEmpty()) {
                host = "127.0.0.1";
            }
            return parseUrl("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
                    + settings.get(OpsSettings.HTTP_PORT));
        }

        /** @throws IllegalArgumentException unless an http(s) URL with a host */
        static URI parseUrl(String value) {
            try {
                URI uri = new URI(value.trim());
                if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                    throw new IllegalArgumentException("--url must be http(s)://host:port, not '" + value + "'");
                }
                return uri;
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("--url must be http(s)://host:port, not '" + value + "': "
                        + e.getMessage());
            }
        }

        private static JsonNode parse(String body) {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                return JSON.createObjectNode();
            }
        }

        private static String error(HttpResponse<String> response) {
            String message = parse(response.body()).path("error").asText(null);
            return message != null ? message : "HTTP " + response.statusCode() + " " + response.body();
        }

        private static String text(JsonNode node, String field, String otherwise) {
            JsonNode value = node.path(field);
            return value.isMissingNode() || value.isNull() ? otherwise : value.asText();
        }

        private static String describe(IOException e) {
            return e instanceof ConnectException ? "connection refused" : String.valueOf(e.getMessage() == null
                    ? e.toString() : e.getMessage());
        }
    }
}
