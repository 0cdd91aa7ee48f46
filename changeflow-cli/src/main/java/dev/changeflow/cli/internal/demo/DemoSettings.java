package dev.changeflow.cli.internal.demo;

import dev.changeflow.config.Setting;
import java.time.Duration;
import java.util.List;

/**
 * Settings of {@code changeflow demo}. The demo's operations endpoint and search use
 * {@code CHANGEFLOW_HTTP_PORT} (8080) and {@code CHANGEFLOW_INDEXER_HTTP_PORT} (8084).
 */
public final class DemoSettings {

    public static final Setting<String> DIR = Setting.string("changeflow.demo.dir",
            "Directory of the demo's data (Postgres, Kafka, search index) and logs; kept between runs, so a restart "
                    + "resumes where it stopped. Delete it to start afresh.",
            ".changeflow/demo");

    public static final Setting<Integer> POSTGRES_PORT = Setting.integer("changeflow.demo.postgres-port",
            "Port of the demo's Postgres; 0 picks a free port.", 15432, 0, 65535);

    public static final Setting<Integer> KAFKA_PORT = Setting.integer("changeflow.demo.kafka-port",
            "Port of the demo's Kafka broker (for kcat and other clients); 0 picks a free port.", 19092, 0, 65535);

    public static final Setting<Integer> REDIS_PORT = Setting.integer("changeflow.demo.redis-port",
            "Port of the demo's Redis; 0 picks a free port.", 16379, 0, 65535);

    public static final Setting<Integer> RATE = Setting.integer("changeflow.demo.rate",
            "Row changes per second the demo's workload writes to tasks and projects; 0 writes nothing (write your "
                    + "own through the printed Postgres URL).", 20, 0, 5000);

    public static final Setting<Duration> REFRESH = Setting.duration("changeflow.demo.refresh",
            "How often the demo's status board is redrawn in a terminal (without a terminal, one line every 10 "
                    + "refreshes).", Duration.ofSeconds(1));

    /** Every setting above, in documentation order. */
    public static final List<Setting<?>> ALL = List.of(DIR, POSTGRES_PORT, KAFKA_PORT, REDIS_PORT, RATE, REFRESH);

    private DemoSettings() {
    }
}
