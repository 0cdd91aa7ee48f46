package dev.changeflow.router.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.service.OpsEndpoint;
import dev.changeflow.router.subscription.Subscription;
import dev.changeflow.router.topics.ConsumerLag;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LagIT {
    private static final Duration INTERVAL = Duration.ofMillis(200);

    private static Map<String, Object> client(LagKit kit) {
        return Map.of("bootstrap.servers", kit.kafka.bootstrapServers());
    }

    /** The value of {@code changeflow.consumer.lag} of the kit's group and topic, or null if there is no such gauge. */
    private static Double lagGauge(MeterRegistry registry, LagKit kit) {
        Gauge gauge = registry.find(LagMonitor.CONSUMER_LAG).tag("group", kit.group).tag("topic", kit.topic).gauge();
        return gauge == null ? null : gauge.value();
    }

    private static long reportedLag(LagKit kit) throws Exception {
        return LagReport.read(kit.admin, kit.group).group(kit.group).map(ConsumerLag::total).orElse(-1L);
    }

    @Test
    void lagGrowsWhileTheConsumerIsStoppedAndReturnsToZeroAfterItRestarts() throws Exception {
        try (LagKit kit = new LagKit(3);
                PrometheusMeterRegistryCloser prometheus = new PrometheusMeterRegistryCloser()) {
            LagMonitor monitor = LagMonitor.start(client(kit), prometheus.registry, INTERVAL);
            kit.closeLater(monitor);
            kit.send(20);
            Subscription consumer = kit.startConsumer();
            kit.awaitCaughtUp();
            assertThat(reportedLag(kit)).isZero();
            await("the lag gauge at 0 while the consumer keeps up").atMost(Duration.ofSeconds(10))
                    .until(() -> Double.valueOf(0).equals(lagGauge(prometheus.registry, kit)));

            consumer.close();
            kit.send(57);

            await("the report shows the 57 records published while stopped").atMost(Duration.ofSeconds(10))
                    .until(() -> reportedLag(kit) == 57);
            ConsumerLag lag = LagReport.read(kit.admin, kit.group).group(kit.group).orElseThrow();
            assertThat(lag.partitions()).hasSize(3)
                    .allSatisfy(p -> assertThat(p.lag()).isEqualTo(p.end() - p.committed()));
            assertThat(lag.partitions().stream().mapToLong(ConsumerLag.PartitionLag::lag).sum()).isEqualTo(57);
            await("the lag gauge at 57 with no consumer running").atMost(Duration.ofSeconds(10))
                    .until(() -> Double.valueOf(57).equals(lagGauge(prometheus.registry, kit)));
            assertThat(prometheus.registry.scrape()).contains("changeflow_consumer_lag{group=\"" + kit.group
                    + "\",topic=\"" + kit.topic + "\"} 57.0");
            assertThat(prometheus.registry.get(LagMonitor.LAST_READ_AGE).gauge().value())
                    .as("the gauges were read moments ago, not kept from long ago").isLessThan(5.0);

            kit.startConsumer();
            kit.awaitCaughtUp();
            assertThat(reportedLag(kit)).isZero();
            await("the lag gauge back at 0").atMost(Duration.ofSeconds(10))
                    .until(() -> Double.valueOf(0).equals(lagGauge(prometheus.registry, kit)));
            assertThat(kit.handled).hasValue(77);

            monitor.close();
            assertThat(lagGauge(prometheus.registry, kit)).as("closing the monitor removes its gauges").isNull();
        }
    }

    @Test
    void theReportHasEveryGroupWithCommittedOffsetsWithTotalsPerTopicAndGroup() throws Exception {
        try (LagKit kit = new LagKit(2)) {
            String other = kit.id + ".projects-changes";
            kit.createTopic(other, 1);
            for (int i = 0; i < 5; i++) {
                kit.send(0, Instant.now());
                kit.send(1, Instant.now());
                kit.sendTo(other, 0, Instant.now());
            }
            kit.commit(0, 1, 1, 5); // lag 4 + 0 on the tasks topic, nothing committed on the projects topic
            kit.admin.alterConsumerGroupOffsets(kit.group + "-2", Map.of(
                    new org.apache.kafka.common.TopicPartition(other, 0),
                    new org.apache.kafka.clients.consumer.OffsetAndMetadata(2))).all().get();

            LagReport all = LagReport.read(kit.admin);
            LagReport one = LagReport.read(kit.admin, kit.group);

            assertThat(all.topics()).filteredOn(t -> t.group().startsWith(kit.id)).containsExactly(
                    new LagReport.TopicLag(kit.group, kit.topic, 2, 4),
                    new LagReport.TopicLag(kit.group + "-2", other, 1, 3));
            assertThat(all.totalsByGroup()).containsEntry(kit.group, 4L).containsEntry(kit.group + "-2", 3L);
            assertThat(one.groups()).singleElement().satisfies(g -> assertThat(g.group()).isEqualTo(kit.group));
            assertThat(one.total()).isEqualTo(4);
            assertThat(LagReport.read(kit.admin, kit.id + "-unknown").groups()).isEmpty();
        }
    }

    @Test
    void theMonitorCountsDeadLettersAndRemovesTheGaugesOfAGroupThatIsDeleted() throws Exception {
        try (LagKit kit = new LagKit(1);
                PrometheusMeterRegistryCloser prometheus = new PrometheusMeterRegistryCloser()) {
            String dlt = kit.topic + ".dlt";
            kit.createTopic(dlt, 2);
            kit.sendTo(dlt, 0, Instant.now());
            kit.sendTo(dlt, 1, Instant.now());
            kit.sendTo(dlt, 1, Instant.now());
            kit.send(3);
            kit.commit(0, 1);

            LagMonitor monitor = LagMonitor.start(client(kit), prometheus.registry, INTERVAL);
            kit.closeLater(monitor);
            await("the dead-letter gauge at 3").atMost(Duration.ofSeconds(10)).until(() -> {
                Gauge g = prometheus.registry.find(LagMonitor.DLT_RECORDS).tag("topic", dlt).gauge();
                return g != null && g.value() == 3;
            });
            await("the lag gauge at 2").atMost(Duration.ofSeconds(10))
                    .until(() -> Double.valueOf(2).equals(lagGauge(prometheus.registry, kit)));

            kit.admin.deleteConsumerGroups(List.of(kit.group)).all().get();
            await("the lag gauge of the deleted group removed").atMost(Duration.ofSeconds(10))
                    .until(() -> lagGauge(prometheus.registry, kit) == null);

            monitor.close();
            assertThat(prometheus.registry.find(LagMonitor.DLT_RECORDS).tag("topic", dlt).gauge())
                    .as("closing removes the gauges").isNull();
        }
    }

    @Test
    void aMonitorThatCannotReachKafkaWarnsOnceKeepsTryingAndStopsWhenClosed() throws Exception {
        int deadPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(LagMonitor.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events =
                new ch.qos.logback.core.read.ListAppender<>();
        events.start();
        ch.qos.logback.classic.Level level = logger.getLevel();
        logger.addAppender(events);
        logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
        try (PrometheusMeterRegistryCloser prometheus = new PrometheusMeterRegistryCloser()) {
            LagMonitor monitor = LagMonitor.start(Map.of("bootstrap.servers", "127.0.0.1:" + deadPort),
                    prometheus.registry, Duration.ofMillis(100));

            await("a second failed attempt").atMost(Duration.ofSeconds(40)).until(() -> events.list.stream()
                    .anyMatch(e -> e.getFormattedMessage().startsWith("Still cannot read consumer lag")));
            long started = System.nanoTime();
            monitor.close();

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            assertThat(events.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .singleElement().satisfies(e -> assertThat(e.getFormattedMessage())
                            .startsWith("Cannot read consumer lag from Kafka: ")
                            .contains(LagMonitor.CONSUMER_LAG + " and " + LagMonitor.DLT_RECORDS));
            assertThat(prometheus.registry.find(LagMonitor.CONSUMER_LAG).gauges()).isEmpty();
        } finally {
            logger.detachAppender(events);
            logger.setLevel(level);
        }
    }

    /** A Prometheus registry as the operations endpoint makes it, closed after the test. */
    private static final class PrometheusMeterRegistryCloser implements AutoCloseable {
        final PrometheusMeterRegistry registry = OpsEndpoint.newRegistry();

        @Override
        public void close() {
            registry.close();
        }
    }
}
