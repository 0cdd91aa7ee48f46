package dev.changeflow.indexer.internal;

import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.indexer.index.StoredDocument;
import dev.changeflow.router.ChangeEvent;
import dev.changeflow.router.Op;
import dev.changeflow.router.subscription.OutageException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Turns change events into index documents and keeps the index equal to the database, whatever order the changes
 * arrive in and however often they are replayed.
 *
 * <p><b>Versions.</b> A document's version is the LSN of the change it was built from. A change older than the stored
 * document (live or tombstone) is ignored; a delete stores a tombstone with the delete's LSN, so a replayed create
 * cannot bring the row back.
 *
 * <p><b>Task documents carry their project's name</b> ({@code project_name}), copied from the project document with
 * that project's version ({@code project_version}). Changes of tasks and of projects travel on different topics and
 * may be applied in any order, by different instances, so both sides converge on the newest name:
 * <ol>
 *   <li>a project change is written first, then (unless the name did not change) every task of the project holding an
 *       older project version gets the new name;</li>
 *   <li>a task change reads its project's document, writes the task with that name, then reads the project again: if
 *       the name changed in between (a rename racing with the task write, which the rename's own pass may have
 *       missed), it applies the rename to the project's tasks itself. A retried batch whose task writes had already
 *       landed applies its projects' names again, since the attempt that wrote them may have failed before this
 *       step.</li>
 * </ol>
 * Whichever of a task write and a rename finishes second sees the other, so no task keeps a stale name.
 *
 * <p>Blocking; thread-safe (concurrent batches race only through compare-and-set in {@link VersionedWriter}).
 */
public final class ChangeIndexer {

    private final VersionedWriter writer;
    private final SearchIndex index;
    private final IndexerMetrics metrics;

    public ChangeIndexer(SearchIndex index, IndexerMetrics metrics) {
        this.index = Objects.requireNonNull(index, "index");
        this.writer = new VersionedWriter(index);
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /**
     * Applies a batch of events: events of tables that are not indexed are skipped; of several changes of one row
     * the newest wins. Durable when it returns: also where the index already held a change, since it may have been
     * written by a call still in progress (another lane, or an abandoned attempt of this same batch) and not be
     * durable yet.
     */
    public void apply(List<ChangeEvent> events) {
        Map<String, ChangeEvent> projects = newestPerRow(events, DocumentType.PROJECTS);
        Map<String, ChangeEvent> tasks = newestPerRow(events, DocumentType.TASKS);
        long reopens = index.reopens();
        boolean foundWritten = false;

        if (!projects.isEmpty()) {
            Map<String, Outcome> outcomes = writer.write(DocumentType.PROJECTS,
                    projects.values().stream().map(ChangeIndexer::documentOf).toList());
            metrics.written(DocumentType.PROJECTS, outcomes.values());
            foundWritten = outcomes.values().stream().anyMatch(o -> o != Outcome.APPLIED);
            projects.forEach((id, event) -> {
                if (outcomes.get(id) != Outcome.STALE && event.op() != Op.DELETE && renames(event)) {
                    metrics.propagated(writer.propagateProjectName(id, nameOf(event.after()), lsn(event)));
                }
            });
        }
        if (!tasks.isEmpty()) {
            Map<String, ProjectName> used = projectNames(tasks.values().stream()
                    .filter(e -> e.op() != Op.DELETE)
                    .map(e -> projectIdOf(e.after()))
                    .filter(Objects::nonNull)
                    .collect(Collectors.toCollection(TreeSet::new)));
            List<IndexedDocument> documents = tasks.values().stream()
                    .map(event -> withProject(documentOf(event), used))
                    .toList();
            Map<String, Outcome> outcomes = writer.write(DocumentType.TASKS, documents);
            metrics.written(DocumentType.TASKS, outcomes.values());
            foundWritten |= outcomes.values().stream().anyMatch(o -> o != Outcome.APPLIED);

            // A task found already written (DUPLICATE) was written by an earlier attempt of this batch, or a
            // concurrent one, which may have failed before its own recheck: its project is always propagated again
            // (a no-op for tasks that carry the project's version already).
            Set<String> recheck = new TreeSet<>();
            Set<String> redo = new TreeSet<>();
            documents.forEach(d -> {
                String projectId = d.deleted() ? null : projectIdOf(d.fields());
                Outcome outcome = outcomes.get(d.id());
                if (projectId != null && outcome == Outcome.APPLIED) {
                    recheck.add(projectId);
                } else if (projectId != null && outcome == Outcome.DUPLICATE) {
                    redo.add(projectId);
                }
            });
            recheck.addAll(redo);
            projectNames(recheck).forEach((projectId, now) -> {
                if (redo.contains(projectId) || !Objects.equals(now.name(), used.get(projectId).name())) {
                    metrics.propagated(writer.propagateProjectName(projectId, now.name(), now.version()));
                }
            });
        }
        if (foundWritten) {
            index.awaitDurable();
            if (index.reopens() != reopens) {
                // What this batch found written may have been rolled back by the reopen: do it all again.
                throw new OutageException("the search index was reopened while a batch ran; it is retried", null);
            }
        }
        metrics.indexed(events);
    }

    /** The project names as stored now, real time, per project id (name null, version 0 for an unknown project). */
    private Map<String, ProjectName> projectNames(Set<String> projectIds) {
        if (projectIds.isEmpty()) {
            return Map.of();
        }
        Map<String, StoredDocument> stored = index.get(DocumentType.PROJECTS, projectIds);
        Map<String, ProjectName> names = new HashMap<>();
        for (String id : projectIds) {
            StoredDocument project = stored.get(id);
            names.put(id, project == null ? ProjectName.UNKNOWN
                    : new ProjectName(project.document().deleted() ? null : nameOf(project.document().fields()),
                            project.document().version()));
        }
        return names;
    }

    private static IndexedDocument withProject(IndexedDocument task, Map<String, ProjectName> names) {
        if (task.deleted()) {
            return task;
        }
        ProjectName project = names.getOrDefault(projectIdOf(task.fields()), ProjectName.UNKNOWN);
        Map<String, Object> fields = new LinkedHashMap<>(task.fields());
        fields.put(DocumentType.PROJECT_NAME, project.name());
        fields.put(DocumentType.PROJECT_VERSION, project.version());
        return IndexedDocument.live(task.id(), task.version(), fields);
    }

    /** Of each row's changes in {@code events}, the one with the highest LSN. */
    private static Map<String, ChangeEvent> newestPerRow(List<ChangeEvent> events, DocumentType type) {
        Map<String, ChangeEvent> newest = new LinkedHashMap<>();
        for (ChangeEvent event : events) {
            if (event.table().equals(type.table())) {
                newest.merge(idOf(event), event, (a, b) -> Long.compareUnsigned(lsn(b), lsn(a)) >= 0 ? b : a);
            }
        }
        return newest;
    }

    /** The document a change leaves: the row after it, or a tombstone for a delete. */
    static IndexedDocument documentOf(ChangeEvent event) {
        return event.op() == Op.DELETE ? IndexedDocument.tombstone(idOf(event), lsn(event))
                : IndexedDocument.live(idOf(event), lsn(event), event.after());
    }

    /** Whether a project change may change its name as tasks see it: anything but an update keeping the name. */
    private static boolean renames(ChangeEvent event) {
        return !(event.op() == Op.UPDATE && event.before() != null
                && Objects.equals(event.before().get("name"), event.after().get("name")));
    }

    /** The document id of a row: its primary key values, joined with commas (tasks and projects have one, id). */
    static String idOf(ChangeEvent event) {
        return event.key().values().stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private static long lsn(ChangeEvent event) {
        return event.source().lsn();
    }

    private static String projectIdOf(Map<String, Object> task) {
        Object id = task.get("project_id");
        return id == null ? null : id.toString();
    }

    private static String nameOf(Map<String, Object> project) {
        Object name = project.get("name");
        return name == null ? null : name.toString();
    }

    private record ProjectName(String name, long version) {
        static final ProjectName UNKNOWN = new ProjectName(null, 0L);
    }
}
