package dev.changeflow.capture.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Writes a burst of row changes with plain SQL while nothing streams, in transactions of {@code txSize} changes:
 * per transaction 79% task inserts (one INSERT ... SELECT generate_series), 20% updates of tasks inserted by the
 * transaction before (status, assignee, updated_at; each a full before/after image under REPLICA IDENTITY FULL) and
 * 1% project renames. Counts the rows each statement reports, so the number of change events is exact.
 */
final class BurstWriter {
    /** What a burst wrote. */
    record Burst(long changes, long taskInserts, long taskUpdates, long projectUpdates, int transactions,
            long startLsn, long endLsn, long millis) {
    }

    private final BenchWorld world;
    private final int txSize;
    private List<UUID> previous;
    private long sequence;

    BurstWriter(BenchWorld world, int txSize) {
        this.world = world;
        this.txSize = txSize;
        this.previous = new ArrayList<>(world.seedTasks);
    }

    Burst write(int changes, String label) throws SQLException {
        long startLsn = world.currentLsn();
        long start = System.nanoTime();
        long inserts = 0;
        long updates = 0;
        long projectUpdates = 0;
        int transactions = 0;
        try (Connection c = world.sql();
                PreparedStatement insert = c.prepareStatement("INSERT INTO app.tasks (project_id, title, description, "
                        + "status, priority, assignee, due_date) SELECT (?::uuid[])[1 + (g % ?)], ? || g, "
                        + "md5(g::text) || ' ' || md5((g * 7)::text), 'todo', 1 + g % 5, "
                        + "CASE WHEN g % 3 = 0 THEN 'user' || (g % 50) END, DATE '2026-12-24' + (g % 90)::int "
                        + "FROM generate_series(?::bigint, ?::bigint) g RETURNING id");
                PreparedStatement update = c.prepareStatement("UPDATE app.tasks SET status = CASE status "
                        + "WHEN 'todo' THEN 'in_progress' WHEN 'in_progress' THEN 'done' ELSE 'todo' END, "
                        + "assignee = ?, updated_at = now() WHERE id = ANY(?)");
                PreparedStatement project = c.prepareStatement("UPDATE app.projects SET name = ? || ' ' || "
                        + "substr(md5(id::text), 1, 6), updated_at = now() WHERE id = ANY(?)")) {
            c.setAutoCommit(false);
            var projectsArray = world.uuids(c, world.projects);
            int remaining = changes;
            while (remaining > 0) {
                int size = Math.min(txSize, remaining);
                int nProjects = Math.min(size / 100, world.projects.size());
                int nUpdates = Math.min(size / 5, previous.size());
                int nInserts = size - nUpdates - nProjects;

                List<UUID> inserted = new ArrayList<>(nInserts);
                if (nInserts > 0) {
                    insert.setArray(1, projectsArray);
                    insert.setInt(2, world.projects.size());
                    insert.setString(3, label + " task ");
                    insert.setLong(4, sequence + 1);
                    insert.setLong(5, sequence + nInserts);
                    sequence += nInserts;
                    try (ResultSet rs = insert.executeQuery()) {
                        while (rs.next()) {
                            inserted.add((UUID) rs.getObject(1));
                        }
                    }
                }
                int updated = 0;
                if (nUpdates > 0) {
                    update.setString(1, "user" + (transactions % 50));
                    update.setArray(2, world.uuids(c, previous.subList(0, nUpdates)));
                    updated = update.executeUpdate();
                }
                int renamed = 0;
                if (nProjects > 0) {
                    int from = (transactions * nProjects) % world.projects.size();
                    List<UUID> ids = new ArrayList<>();
                    for (int i = 0; i < nProjects; i++) {
                        ids.add(world.projects.get((from + i) % world.projects.size()));
                    }
                    project.setString(1, label + " project " + transactions);
                    project.setArray(2, world.uuids(c, ids));
                    renamed = project.executeUpdate();
                }
                c.commit();
                transactions++;
                inserts += inserted.size();
                updates += updated;
                projectUpdates += renamed;
                remaining -= inserted.size() + updated + renamed;
                if (!inserted.isEmpty()) {
                    previous = inserted;
                }
                if (inserted.size() + updated + renamed == 0) {
                    throw new IllegalStateException("a burst transaction changed no rows");
                }
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new Burst(inserts + updates + projectUpdates, inserts, updates, projectUpdates, transactions, startLsn,
                world.currentLsn(), millis);
    }
}
