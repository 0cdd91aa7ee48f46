package dev.changeflow.router.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changeflow.config.ConnectionSettings;
import dev.changeflow.config.Settings;
import dev.changeflow.router.ops.LagReport;
import dev.changeflow.router.topics.ConsumerLag;
import dev.changeflow.router.topics.KafkaReachability;
import dev.changeflow.router.topics.TopicProvisioner.TopicSpec;
import dev.changeflow.router.topics.TopicSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The admin routes every process serves, whatever services it hosts:
 * <ul>
 *   <li>{@code GET /lag[?group=G][&threshold=N]}: lag per group, topic and partition as the brokers see it (committed
 *       offsets against the last stable offsets), with totals; {@code over_threshold} lists the groups whose total
 *       exceeds the threshold (default 1000).</li>
 *   <li>{@code POST /topic} with {@code {"name": "...", "partitions": N, "dead_letter": false}}: creates a topic shaped
 *       as the design requires (replication factor, min.insync.replicas, retention, lz4, segment time from the
 *       {@code changeflow.topics.*} settings). 201 created, 409 if it exists, 400 for a bad body.</li>
 *   <li>{@code POST /consumer/rebalance}: asks every consumer group of this process to rebalance; 404 in a process
 *       without consumers.</li>
 * </ul>
 */
public final class CommonAdminRoutes {
    /** Lag above which {@code GET /lag} reports a group, as the alert does. */
    public static final long DEFAULT_LAG_THRESHOLD = 1000;
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(15);

    private CommonAdminRoutes() {
    }

    public static List<AdminRoute> of(Settings settings, Supplier<List<ChangeflowService>> services) {
        return List.of(
                AdminRoute.of("GET", "/lag", request -> lag(settings, request)),
                AdminRoute.of("POST", "/topic", request -> createTopic(settings, request)),
                AdminRoute.of("POST", "/consumer/rebalance", request -> rebalance(services.get())));
    }

    private static Admin admin(Settings settings) {
        String bootstrap = settings.get(ConnectionSettings.KAFKA_BOOTSTRAP).trim();
        return Admin.create(KafkaReachability.adminConfig(Map.of("bootstrap.servers", bootstrap), KAFKA_TIMEOUT));
    }

    private static AdminRoute.Response lag(Settings settings, AdminRoute.Request request) throws Exception {
        long threshold = parseLong(request.query().getOrDefault("threshold",
                Long.toString(DEFAULT_LAG_THRESHOLD)), "threshold");
        String group = request.query().get("group");
        LagReport report;
        try (Admin admin = admin(settings)) {
            report = group == null ? LagReport.read(admin) : LagReport.read(admin, group);
        }
        return AdminRoute.Response.ok(lagJson(report, threshold));
    }

    /** The JSON shape of a lag report, shared by {@code GET /lag} and {@code changeflow lag --json}. */
    public static Map<String, Object> lagJson(LagReport report, long threshold) {
        List<Map<String, Object>> groups = new ArrayList<>();
        List<String> over = new ArrayList<>();
        for (ConsumerLag group : report.groups()) {
            List<Map<String, Object>> partitions = new ArrayList<>();
            for (ConsumerLag.PartitionLag p : group.partitions()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("topic", p.partition().topic());
                row.put("partition", p.partition().partition());
                row.put("committed", p.committed());
                row.put("end", p.end());
                row.put("lag", p.lag());
                partitions.add(row);
            }
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("group", group.group());
            g.put("total", group.total());
            g.put("partitions", partitions);
            groups.add(g);
            if (group.total() > threshold) {
                over.add(group.group());
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("total", report.total());
        json.put("threshold", threshold);
        json.put("over_threshold", over);
        json.put("groups", groups);
        return json;
    }

    private static AdminRoute.Response createTopic(Settings settings, AdminRoute.Request request) throws Exception {
        JsonNode body;
        try {
            body = AdminApi.json().readTree(request.body());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("the body must be JSON such as {\"name\": \"cdc.comments-changes\", "
                    + "\"partitions\": 12}: " + e.getOriginalMessage());
        }
        if (body == null || !body.path("name").isTextual() || !body.path("partitions").canConvertToInt()) {
            throw new IllegalArgumentException("the body needs \"name\" (text) and \"partitions\" (1-10000), such as "
                    + "{\"name\": \"cdc.comments-changes\", \"partitions\": 12}");
        }
        String name = body.get("name").asText();
        int partitions = body.get("partitions").asInt();
        if (partitions < 1 || partitions > 10_000) {
            throw new IllegalArgumentException("partitions must be from 1 to 10000, not " + partitions);
        }
        int rf = settings.get(TopicSettings.REPLICATION_FACTOR);
        int minIsr = settings.get(TopicSettings.MIN_INSYNC_REPLICAS);
        TopicSpec spec = body.path("dead_letter").asBoolean(false)
                ? TopicSpec.deadLetterTopic(name, partitions, rf, minIsr,
                        settings.get(dev.changeflow.router.subscription.SubscriptionSettings.DEAD_LETTER_RETENTION))
                : TopicSpec.changeTopic(name, partitions, rf, minIsr, settings.get(TopicSettings.RETENTION),
                        settings.get(TopicSettings.SEGMENT));
        try (Admin admin = admin(settings)) {
            admin.createTopics(List.of(new NewTopic(spec.name(), spec.partitions(), spec.replicationFactor())
                    .configs(spec.configs()))).all().get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                return AdminRoute.Response.error(409, "topic " + name + " exists");
            }
            if (e.getCause() instanceof InvalidTopicException) {
                throw new IllegalArgumentException(e.getCause().getMessage());
            }
            throw e;
        }
        return new AdminRoute.Response(201, spec);
    }

    private static AdminRoute.Response rebalance(List<ChangeflowService> services) {
        List<String> groups = new ArrayList<>();
        services.forEach(s -> groups.addAll(s.requestRebalance()));
        if (groups.isEmpty()) {
            return AdminRoute.Response.error(404, "this process hosts no consumer group");
        }
        return new AdminRoute.Response(202, Map.of("rebalance_requested", groups));
    }

    private static long parseLong(String value, String name) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, not " + value);
        }
    }
}
