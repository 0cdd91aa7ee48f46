package dev.changeflow.indexer.internal;

import dev.changeflow.indexer.index.ConditionalWrite;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.indexer.index.StoredDocument;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes documents so that the index only ever moves forward: a document replaces the stored one only if its version
 * (the LSN of its change) is higher, whether the stored one is live or a tombstone. The one place where versions are
 * compared.
 *
 * <p>Each round reads the stored documents in real time, decides, and writes by compare-and-set against the revision
 * it read; a write that lost a race with another writer (a concurrent batch, a project rename updating the same task)
 * is decided again from a fresh read. Races resolve in a few rounds; {@link #MAX_ROUNDS} bounds a livelock that
 * cannot happen with a sane engine.
 */
public final class VersionedWriter {

    /** Compare-and-set rounds before giving up on a write that keeps losing races. */
    static final int MAX_ROUNDS = 50;

    private final SearchIndex index;

    public VersionedWriter(SearchIndex index) {
        this.index = index;
    }

    /**
     * Stores each document unless the index holds the same or a newer version of it, and says which happened.
     *
     * @param documents at most one per id
     * @return the outcome per id, in the order of {@code documents}
     */
    public Map<String, Outcome> write(DocumentType type, Collection<IndexedDocument> documents) {
        Map<String, IndexedDocument> pending = new LinkedHashMap<>();
        documents.forEach(d -> {
            if (pending.put(d.id(), d) != null) {
                throw new IllegalArgumentException("two documents for " + type.table() + " " + d.id());
            }
        });
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        documents.forEach(d -> outcomes.put(d.id(), null));
        for (int round = 0; round < MAX_ROUNDS && !pending.isEmpty(); round++) {
            Map<String, StoredDocument> stored = index.get(type, pending.keySet());
            List<ConditionalWrite> writes = new ArrayList<>(pending.size());
            for (IndexedDocument document : List.copyOf(pending.values())) {
                StoredDocument current = stored.get(document.id());
                if (current != null && !document.isNewerThan(current.document().version())) {
                    outcomes.put(document.id(),
                            current.document().version() == document.version() ? Outcome.DUPLICATE : Outcome.STALE);
                    pending.remove(document.id());
                } else {
                    writes.add(new ConditionalWrite(type, document, current == null ? null : current.revision()));
                }
            }
            if (writes.isEmpty()) {
                break;
            }
            List<Boolean> applied = index.write(writes);
            for (int i = 0; i < writes.size(); i++) {
                if (applied.get(i)) {
                    String id = writes.get(i).document().id();
                    outcomes.put(id, Outcome.APPLIED);
                    pending.remove(id);
                }
            }
        }
        if (!pending.isEmpty()) {
            throw new IllegalStateException("Gave up writing " + pending.size() + " " + type.table()
                    + " documents after " + MAX_ROUNDS + " rounds of conflicting writes, for example "
                    + pending.keySet().iterator().next());
        }
        return outcomes;
    }

    /**
     * Sets the project name on every live task document of {@code projectId} that carries an older project version,
     * keeping each task's own version. Re-reads and retries tasks that another writer changed in between.
     *
     * @param name the project's name, null if the project is deleted
     * @param projectVersion the version of the project row the name comes from
     * @return how many task documents were updated
     */
    public int propagateProjectName(String projectId, String name, long projectVersion) {
        int updated = 0;
        for (int round = 0; round < MAX_ROUNDS; round++) {
            List<ConditionalWrite> writes = new ArrayList<>();
            for (StoredDocument task : index.tasksOfProject(projectId)) {
                IndexedDocument document = task.document();
                if (Long.compareUnsigned(projectVersionOf(document), projectVersion) < 0) {
                    Map<String, Object> fields = new LinkedHashMap<>(document.fields());
                    fields.put(DocumentType.PROJECT_NAME, name);
                    fields.put(DocumentType.PROJECT_VERSION, projectVersion);
                    writes.add(new ConditionalWrite(DocumentType.TASKS,
                            IndexedDocument.live(document.id(), document.version(), fields), task.revision()));
                }
            }
            if (writes.isEmpty()) {
                return updated;
            }
            List<Boolean> applied = index.write(writes);
            int ok = (int) applied.stream().filter(Boolean::booleanValue).count();
            updated += ok;
            if (ok == writes.size()) {
                return updated;
            }
        }
        throw new IllegalStateException("Gave up updating the project name on the tasks of project " + projectId
                + " after " + MAX_ROUNDS + " rounds of conflicting writes");
    }

    /** The version of the project row a task document's project name comes from; 0 if none. */
    static long projectVersionOf(IndexedDocument task) {
        Object value = task.field(DocumentType.PROJECT_VERSION);
        return value instanceof Number n ? n.longValue() : 0L;
    }
}
