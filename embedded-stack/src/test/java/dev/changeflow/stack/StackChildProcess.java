package dev.changeflow.stack;

import dev.changeflow.config.Settings;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Main class run in a separate JVM by the leftover tests: starts servers, prints {@code READY}, and waits to be
 * killed.
 *
 * <ul>
 *   <li>No arguments ({@link LeftoverCleanupIT}): every local server under the stack directory given by the
 *       environment.
 *   <li>{@code persistent <postgres dir> <redis dir> <kafka dir>} ({@link LeftoverPersistentServersIT}): a persistent
 *       Postgres with a table {@code notes} holding one row, a local Redis, and a persistent Kafka with a topic
 *       {@code notes} holding one acknowledged record, all written before READY.
 * </ul>
 */
public final class StackChildProcess {
    private StackChildProcess() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 4 && args[0].equals("persistent")) {
            PostgresServer postgres = PostgresServer.startPersistent(Path.of(args[1]), 0);
            try (Connection c = postgres.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
                s.execute("INSERT INTO notes VALUES (1, 'written by the killed JVM')");
            }
            RedisServer.startLocal(Path.of(args[2]), 0);
            KafkaServer kafka = KafkaServer.startPersistent(Path.of(args[3]), 0);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
                    KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                            ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
                admin.createTopics(List.of(new NewTopic("notes", 1, (short) 1))).all().get();
                producer.send(new ProducerRecord<>("notes", "1", "written by the killed JVM")).get();
            }
        } else {
            Settings settings = Settings.fromEnvironment();
            PostgresServer.start(settings);
            KafkaServer.start(settings);
            RedisServer.start(settings);
        }
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }
}
