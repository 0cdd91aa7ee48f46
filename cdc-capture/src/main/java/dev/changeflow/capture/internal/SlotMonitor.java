package dev.changeflow.capture.internal;

import dev.changeflow.db.PostgresEndpoint;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads capture's replication slot every interval and publishes it as gauges: {@value #RETAINED_BYTES} (WAL the slot
 * keeps from being recycled: current WAL position minus the slot's restart_lsn) and {@value #ACTIVE} (1 while a
 * process streams from it). A missing slot reads as 0 retained and inactive. A failed read is logged once and tried
 * again next interval.
 */
public final class SlotMonitor implements AutoCloseable {
    public static final String RETAINED_BYTES = "changeflow.capture.slot.retained.bytes";
    public static final String ACTIVE = "changeflow.capture.slot.active";
    private static final Logger LOG = LoggerFactory.getLogger(SlotMonitor.class);

    private final PostgresEndpoint endpoint;
    private final String slot;
    private final long warningBytes;
    private final AtomicLong retained = new AtomicLong();
    private final AtomicLong active = new AtomicLong();
    private final MeterRegistry registry;
    private final List<Meter> meters;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "changeflow-slot-monitor");
        t.setDaemon(true);
        return t;
    });
    private boolean failing;
    private boolean warned;

    private SlotMonitor(PostgresEndpoint endpoint, String slot, long warningBytes, MeterRegistry registry) {
        this.endpoint = endpoint;
        this.slot = slot;
        this.warningBytes = warningBytes;
        this.registry = registry;
        this.meters = List.of(
                Gauge.builder(RETAINED_BYTES, retained, AtomicLong::get).tag("slot", slot).baseUnit("bytes")
                        .description("WAL retained by the replication slot").register(registry),
                Gauge.builder(ACTIVE, active, AtomicLong::get).tag("slot", slot)
                        .description("1 while a process streams from the replication slot").register(registry));
    }

    /** Registers the gauges and reads the slot now and every {@code interval}. */
    public static SlotMonitor start(PostgresEndpoint endpoint, String slot, long warningBytes, MeterRegistry registry,
            Duration interval) {
        SlotMonitor monitor = new SlotMonitor(endpoint, slot, warningBytes, registry);
        monitor.timer.scheduleWithFixedDelay(monitor::read, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return monitor;
    }

    private void read() {
        try (Connection c = endpoint.connect(); PreparedStatement s = c.prepareStatement("SELECT active, "
                + "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint "
                + "FROM pg_replication_slots WHERE slot_name = ?")) {
            s.setString(1, slot);
            try (ResultSet rs = s.executeQuery()) {
                boolean exists = rs.next();
                active.set(exists && rs.getBoolean(1) ? 1 : 0);
                retained.set(exists ? rs.getLong(2) : 0);
            }
            if (failing) {
                LOG.info("Reading replication slot {} works again", slot);
                failing = false;
            }
            boolean above = retained.get() > warningBytes;
            if (above && !warned) {
                LOG.warn("Replication slot {} retains {} MB of WAL (warning above {} MB): is capture keeping up?",
                        slot, retained.get() >> 20, warningBytes >> 20);
            }
            warned = above;
        } catch (SQLException | RuntimeException e) {
            if (!failing) {
                LOG.warn("Cannot read replication slot {}: {}", slot, e instanceof SQLException sql
                        ? endpoint.describe(sql) : e.toString());
                failing = true;
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        meters.forEach(registry::remove);
    }
}
