package dev.changeflow.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changeflow.router.subscription.Outages;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The behaviour every {@link SearchIndex} adapter must have, whatever the engine. A subclass per adapter provides
 * {@link #newIndex(String)}; each test opens an index of its own, so tests never see each other's documents.
 *
 * <p>Searches are near-real-time in some engines: tests wait for what they expect to become searchable (never a fixed
 * sleep), and check that something is <em>not</em> found only after something written with it or after it was found.
 * Everything else ({@code get}, {@code tasksOfProject}, {@code liveDocuments}) must be right at once.
 */
public abstract class SearchIndexContract {
    /** How long a write may take to become searchable; generous for a busy 2-core machine. */
    protected static final Duration SEARCHABLE_WITHIN = Duration.ofSeconds(15);

    private static final AtomicInteger COUNTER = new AtomicInteger();

    /** The index of the running test, opened. */
    protected SearchIndex index;
    private String name;

    /** The name the running test's index was created with (see {@link #newIndex}). */
    protected String name() {
        return name;
    }

    /**
     * A new, not yet opened index named after {@code name}: a lowercase string of letters, digits and dashes, unique
     * to the test, usable as an index-name prefix or a directory name. Two calls with the same name must give indices
     * over the same data (one closed before the other opens).
     */
    protected abstract SearchIndex newIndex(String name);

    @BeforeEach
    void openAnIndexOfTheTestsOwn(TestInfo test) {
        String method = test.getTestMethod().map(m -> m.getName()).orElse("test").toLowerCase(Locale.ROOT);
        name = "cf-" + method.substring(0, Math.min(40, method.length())) + "-" + COUNTER.incrementAndGet() + "-"
                + Long.toString(System.nanoTime() % 1_000_000_000L, 36) + "-";
        index = newIndex(name);
        index.open();
    }

    @AfterEach
    void closeTheIndex() {
        if (index != null) {
            index.close();
        }
    }

    // ---- Compare-and-set ------------------------------------------------------------------------------------------

    @Test
    void aCreateWithoutExpectedRevisionSucceedsOnceAndConflictsTheSecondTime() {
        assertThat(index.write(List.of(create(task("t1", 10, "title", "First"))))).containsExactly(true);

        assertThat(index.write(List.of(create(task("t1", 20, "title", "Second"))))).containsExactly(false);

        assertThat(stored("t1").document()).isEqualTo(task("t1", 10, "title", "First"));
    }

    @Test
    void aWriteWithTheCurrentRevisionReplacesTheDocumentAndMovesItsRevision() {
        index.write(List.of(create(task("t1", 10, "title", "First"))));
        StoredDocument first = stored("t1");

        assertThat(index.write(List.of(replace(task("t1", 20, "title", "Second"), first.revision()))))
                .containsExactly(true);

        StoredDocument second = stored("t1");
        assertThat(second.document()).isEqualTo(task("t1", 20, "title", "Second"));
        assertThat(second.revision()).isNotEqualTo(first.revision());
    }

    @Test
    void aWriteWithAStaleRevisionIsRejectedAndLeavesTheDocumentAsItWas() {
        index.write(List.of(create(task("t1", 10, "title", "First"))));
        Revision stale = stored("t1").revision();
        index.write(List.of(replace(task("t1", 20, "title", "Second"), stale)));
        StoredDocument current = stored("t1");

        assertThat(index.write(List.of(replace(task("t1", 30, "title", "Third"), stale)))).containsExactly(false);

        assertThat(stored("t1")).isEqualTo(current);
    }

    @Test
    void aWriteExpectingARevisionOfADocumentThatDoesNotExistIsRejected() {
        index.write(List.of(create(task("t1", 10))));
        Revision ofAnotherDocument = stored("t1").revision();

        assertThat(index.write(List.of(replace(task("t2", 10), ofAnotherDocument)))).containsExactly(false);

        assertThat(index.get(DocumentType.TASKS, List.of("t2"))).isEmpty();
    }

    @Test
    void eachWriteOfACallSucceedsOrFailsOnItsOwnAndResultsComeInOrder() {
        index.write(List.of(create(task("t2", 1))));

        List<Boolean> applied = index.write(List.of(
                create(task("t1", 10)),
                create(task("t2", 10)),
                create(project("p1", 10, "Apollo")),
                create(task("t3", 10))));

        assertThat(applied).containsExactly(true, false, true, true);
        assertThat(index.get(DocumentType.TASKS, List.of("t1", "t2", "t3")).values())
                .extracting(s -> s.document().version()).containsExactlyInAnyOrder(10L, 1L, 10L);
        assertThat(index.get(DocumentType.PROJECTS, List.of("p1"))).containsOnlyKeys("p1");
    }

    @Test
    void anEmptyWriteAppliesNothingAndReturnsNoResults() {
        assertThat(index.write(List.of())).isEmpty();
    }

    @Test
    void documentsOfDifferentTypesWithTheSameIdAreDistinct() {
        index.write(List.of(create(task("x1", 10)), create(project("x1", 20, "Apollo"))));

        assertThat(index.get(DocumentType.TASKS, List.of("x1")).get("x1").document().version()).isEqualTo(10L);
        assertThat(index.get(DocumentType.PROJECTS, List.of("x1")).get("x1").document().version()).isEqualTo(20L);
    }

    // ---- Real-time reads ------------------------------------------------------------------------------------------

    @Test
    void getSeesAWriteAtOnceWithTheRevisionToReplaceIt() {
        index.write(List.of(create(task("t1", 10, "title", "First"))));

        StoredDocument read = stored("t1");

        assertThat(read.document()).isEqualTo(task("t1", 10, "title", "First"));
        assertThat(index.write(List.of(replace(task("t1", 11, "title", "Again"), read.revision()))))
                .containsExactly(true);
        assertThat(stored("t1").document().field("title")).isEqualTo("Again");
    }

    @Test
    void getReturnsOnlyTheIdsThatHaveADocument() {
        index.write(List.of(create(task("t1", 10)), create(task("t3", 30))));

        Map<String, StoredDocument> found = index.get(DocumentType.TASKS, List.of("t1", "t2", "t3", "t1"));

        assertThat(found).containsOnlyKeys("t1", "t3");
        assertThat(found.get("t3").document().id()).isEqualTo("t3");
        assertThat(index.get(DocumentType.TASKS, List.of())).isEmpty();
        assertThat(index.get(DocumentType.PROJECTS, List.of("t1"))).isEmpty();
    }

    @Test
    void tasksOfProjectSeesEveryReturnedWriteAtOnceAndSkipsTombstonesAndOtherProjects() {
        index.write(List.of(
                create(task("t1", 10, "project_id", "p1")),
                create(task("t2", 10, "project_id", "p1")),
                create(task("t3", 10, "project_id", "p2")),
                create(IndexedDocument.tombstone("t4", 10))));
        Revision t2 = stored("t2").revision();
        index.write(List.of(replace(IndexedDocument.tombstone("t2", 20), t2)));

        List<StoredDocument> tasks = index.tasksOfProject("p1");

        assertThat(tasks).extracting(s -> s.document().id()).containsExactly("t1");
        assertThat(tasks.get(0)).isEqualTo(stored("t1"));
        assertThat(index.tasksOfProject("p2")).extracting(s -> s.document().id()).containsExactly("t3");
        assertThat(index.tasksOfProject("p3")).isEmpty();
    }

    @Test
    void tasksOfProjectRevisionsReplaceTheTasks() {
        index.write(List.of(create(task("t1", 10, "project_id", "p1", "project_name", "Apollo"))));
        StoredDocument read = index.tasksOfProject("p1").get(0);

        IndexedDocument renamed = task("t1", 10, "project_id", "p1", "project_name", "Artemis");
        assertThat(index.write(List.of(replace(renamed, read.revision())))).containsExactly(true);

        assertThat(index.tasksOfProject("p1")).extracting(StoredDocument::document).containsExactly(renamed);
    }

    @Test
    void tasksOfProjectAndLiveDocumentsReturnEveryDocumentOfALargeSet() {
        List<ConditionalWrite> writes = new ArrayList<>();
        for (int i = 0; i < 2_345; i++) {
            writes.add(create(task(String.format("t%05d", i), i + 1, "project_id", i % 2 == 0 ? "p1" : "p2")));
        }
        assertThat(index.write(writes)).hasSize(2_345).containsOnly(true);

        assertThat(index.tasksOfProject("p1")).hasSize(1_173)
                .extracting(s -> s.document().id()).doesNotHaveDuplicates();
        Map<String, IndexedDocument> live = index.liveDocuments(DocumentType.TASKS);
        assertThat(live).hasSize(2_345);
        assertThat(live.get("t01234").version()).isEqualTo(1_235L);
    }

    // ---- Tombstones -----------------------------------------------------------------------------------------------

    @Test
    void aTombstoneIsReturnedByGetButNeitherBySearchNorByLiveDocuments() {
        index.write(List.of(create(task("t1", 10, "title", "Quarterly report")),
                create(task("t2", 10, "title", "Quarterly report"))));
        awaitSearch(DocumentType.TASKS, "quarterly", "t1", "t2");
        Revision t1 = stored("t1").revision();

        assertThat(index.write(List.of(replace(IndexedDocument.tombstone("t1", 20), t1)))).containsExactly(true);

        assertThat(stored("t1").document()).isEqualTo(IndexedDocument.tombstone("t1", 20));
        assertThat(index.liveDocuments(DocumentType.TASKS)).containsOnlyKeys("t2");
        awaitSearch(DocumentType.TASKS, "quarterly", "t2");
    }

    @Test
    void aTombstoneIsADocumentSoACreateOverItConflicts() {
        index.write(List.of(create(IndexedDocument.tombstone("t1", 20))));

        assertThat(index.write(List.of(create(task("t1", 10))))).containsExactly(false);

        StoredDocument tombstone = stored("t1");
        assertThat(tombstone.document().deleted()).isTrue();
        assertThat(index.write(List.of(replace(task("t1", 30), tombstone.revision())))).containsExactly(true);
        assertThat(index.liveDocuments(DocumentType.TASKS)).containsOnlyKeys("t1");
    }

    // ---- Search ---------------------------------------------------------------------------------------------------

    @Test
    void aQueryNamingNoFieldSearchesTheDefaultFieldsOnly() {
        index.write(List.of(
                create(task("t1", 10, "title", "Fix the login page")),
                create(task("t2", 10, "description", "The login page is broken")),
                create(task("t3", 10, "project_name", "Login revamp")),
                create(task("t4", 10, "title", "Unrelated", "assignee", "login")),
                create(project("p1", 10, "Login revamp"))));

        awaitSearch(DocumentType.TASKS, "login", "t1", "t2", "t3");
        awaitSearch(DocumentType.PROJECTS, "revamp", "p1");
        assertThat(ids(index.search(DocumentType.TASKS, "LOGIN", 10))).as("text is lowercased")
                .containsExactlyInAnyOrder("t1", "t2", "t3");
    }

    @Test
    void aQueryCanNameKeywordAndTextFields() {
        index.write(List.of(
                create(task("t1", 10, "status", "done", "project_name", "Apollo Program")),
                create(task("t2", 10, "status", "open", "project_name", "Apollo Program")),
                create(task("t3", 10, "status", "done", "project_name", "Gemini"))));

        awaitSearch(DocumentType.TASKS, "status:done", "t1", "t3");
        awaitSearch(DocumentType.TASKS, "project_name:apollo", "t1", "t2");
        awaitSearch(DocumentType.TASKS, "project_name:apollo AND status:done", "t1");
        assertThat(ids(index.search(DocumentType.TASKS, "status:Done", 10))).as("keywords match exactly").isEmpty();
    }

    @Test
    void termsOfAQueryAreAnded() {
        index.write(List.of(
                create(task("t1", 10, "title", "Quarterly report", "description", "for the board")),
                create(task("t2", 10, "title", "Quarterly planning")),
                create(task("t3", 10, "title", "Annual report"))));

        awaitSearch(DocumentType.TASKS, "quarterly report", "t1");
        awaitSearch(DocumentType.TASKS, "report board", "t1");
        awaitSearch(DocumentType.TASKS, "quarterly OR annual", "t1", "t2", "t3");
    }

    @Test
    void aSearchReturnsAtMostLimitHitsByIdAmongEqualsAndCountsEveryMatch() {
        List<ConditionalWrite> writes = new ArrayList<>();
        for (String id : List.of("t5", "t3", "t1", "t4", "t2")) {
            writes.add(create(task(id, 10, "title", "Weekly sync")));
        }
        writes.add(create(task("t6", 10, "title", "Something else")));
        index.write(writes);
        awaitSearch(DocumentType.TASKS, "weekly", "t1", "t2", "t3", "t4", "t5");

        SearchHits hits = index.search(DocumentType.TASKS, "weekly", 2);

        assertThat(hits.total()).isEqualTo(5);
        assertThat(ids(hits)).containsExactly("t1", "t2");
        assertThat(index.search(DocumentType.TASKS, "weekly", 0).total()).isEqualTo(5);
    }

    @Test
    void betterMatchesComeFirst() {
        index.write(List.of(
                create(task("t1", 10, "title", "Report", "description", "some other words about many things")),
                create(task("t2", 10, "title", "Report report report"))));
        awaitSearch(DocumentType.TASKS, "report", "t1", "t2");

        SearchHits hits = index.search(DocumentType.TASKS, "report", 10);

        assertThat(ids(hits)).containsExactly("t2", "t1");
        assertThat(hits.hits().get(0).score()).isGreaterThan(hits.hits().get(1).score());
        assertThat(hits.hits().get(0).document()).isEqualTo(task("t2", 10, "title", "Report report report"));
    }

    @Test
    void aQueryThatDoesNotParseThrowsInvalidQueryExceptionNeverAnOutage() {
        index.write(List.of(create(task("t1", 10, "title", "Report"))));

        assertThatThrownBy(() -> index.search(DocumentType.TASKS, "title:(unclosed", 10))
                .isInstanceOf(InvalidQueryException.class)
                .hasMessageContaining("title:(unclosed")
                .satisfies(e -> assertThat(index.isOutage(e)).isFalse())
                .satisfies(e -> assertThat(Outages.isOutage(e)).isFalse());
    }

    // ---- Values ---------------------------------------------------------------------------------------------------

    @Test
    void valuesReadBackExactlyAsWritten() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("id", "t1");
        fields.put("project_id", "p1");
        fields.put("title", "Zürich – «quotes» \"and\" \\ back\nslash");
        fields.put("estimate", new BigDecimal("12.50"));
        fields.put("ratio", new BigDecimal("-0.000001"));
        fields.put("huge", new BigDecimal("123456789012345678901234567890.123456789"));
        fields.put("count", 42L);
        fields.put("big", Long.MAX_VALUE);
        fields.put("negative", Long.MIN_VALUE);
        fields.put("done", true);
        fields.put("assignee", null);
        fields.put("labels", List.of("b", "a", "c"));
        fields.put("mixed", Arrays.asList(3L, null, "x", new BigDecimal("1.10"), false));
        fields.put("empty", List.of());
        fields.put("due_date", "2024-02-29");
        fields.put("project_name", "Apollo");
        fields.put(DocumentType.PROJECT_VERSION, 7L);
        fields.put("aardvark", "written last, read last");
        IndexedDocument written = IndexedDocument.live("t1", -2L, fields); // an LSN above Long.MAX_VALUE

        index.write(List.of(create(written)));

        IndexedDocument read = stored("t1").document();
        assertThat(read).isEqualTo(written);
        assertThat(read.fields().keySet()).as("field order").containsExactlyElementsOf(fields.keySet());
        assertThat(read.field("estimate")).isInstanceOf(BigDecimal.class).hasToString("12.50");
        assertThat(read.field("count")).isInstanceOf(Long.class);
        assertThat(read.version()).isEqualTo(-2L);
        assertThat(index.tasksOfProject("p1")).extracting(StoredDocument::document).containsExactly(written);
        assertThat(index.liveDocuments(DocumentType.TASKS)).containsEntry("t1", written);
    }

    @Test
    void aWriteThatDoesNotFitTheIndexIsRefusedPermanentlyNamingTheDocument() {
        IndexedDocument misfit = task("t-misfit", 10, DocumentType.PROJECT_VERSION, "not a number");

        assertThatThrownBy(() -> index.write(List.of(create(task("t1", 10)), create(misfit))))
                .isInstanceOf(RuntimeException.class)
                .isNotInstanceOf(InvalidQueryException.class)
                .hasMessageContaining("t-misfit")
                .satisfies(e -> assertThat(index.isOutage(e)).as("outage: %s", e).isFalse())
                .satisfies(e -> assertThat(Outages.isOutage(e)).as("outage: %s", e).isFalse());

        assertThat(index.get(DocumentType.TASKS, List.of("t-misfit"))).isEmpty();
    }

    @Test
    void isOutageIsFalseForErrorsThatAreNotAboutTheEngine() {
        assertThat(index.isOutage(null)).isFalse();
        assertThat(index.isOutage(new IllegalArgumentException("bad"))).isFalse();
        assertThat(index.isOutage(new InvalidQueryException("bad query", null))).isFalse();
    }

    // ---- Columns added later --------------------------------------------------------------------------------------

    @Test
    void aColumnTheDocumentTypeDoesNotNameIsSearchableAsTextOfItsValue() {
        index.write(List.of(
                create(task("t1", 10, "notes", "URGENT: call the client", "estimate", 42L, "billable", true,
                        "labels", List.of("Backend", "q3"), "ratio", new BigDecimal("0.50"))),
                create(task("t2", 10, "notes", "whenever", "estimate", 7L, "billable", false)),
                create(project("p1", 10, "Apollo", "region", "North Europe"))));

        awaitSearch(DocumentType.TASKS, "notes:urgent", "t1");
        awaitSearch(DocumentType.TASKS, "estimate:42", "t1");
        awaitSearch(DocumentType.TASKS, "billable:true", "t1");
        awaitSearch(DocumentType.TASKS, "billable:false", "t2");
        awaitSearch(DocumentType.TASKS, "labels:backend AND labels:q3", "t1");
        awaitSearch(DocumentType.TASKS, "ratio:0.50", "t1");
        awaitSearch(DocumentType.PROJECTS, "region:europe", "p1");
        assertThat(index.search(DocumentType.TASKS, "urgent", 10).total())
                .as("a query naming no field still searches the default fields only").isZero();
        assertThat(stored("t1").document().field("estimate")).as("the value reads back as written").isEqualTo(42L);
    }

    @Test
    void aColumnWhoseValuesChangeTypeIndexesEveryValueAsText() {
        index.write(List.of(
                create(task("t1", 10, "estimate", 3L, "effort", "large")),
                create(task("t2", 10, "estimate", new BigDecimal("2.50"), "effort", "small"))));
        awaitSearch(DocumentType.TASKS, "estimate:3", "t1");

        // ALTER COLUMN estimate TYPE text, effort TYPE int, and later values of every other kind.
        List<Boolean> applied = index.write(List.of(
                create(task("t3", 20, "estimate", "about 3", "effort", 5L)),
                create(task("t4", 20, "estimate", true, "effort", new BigDecimal("1.25"))),
                create(task("t5", 20, "estimate", Arrays.asList("x", 7L, null, false), "effort", List.of()))));
        IndexedDocument retyped = task("t1", 30, "estimate", "three days", "effort", false);
        List<Boolean> replaced = index.write(List.of(replace(retyped, stored("t1").revision())));

        assertThat(applied).containsExactly(true, true, true);
        assertThat(replaced).containsExactly(true);
        awaitSearch(DocumentType.TASKS, "estimate:3", "t3");
        awaitSearch(DocumentType.TASKS, "estimate:about", "t3");
        awaitSearch(DocumentType.TASKS, "estimate:three", "t1");
        awaitSearch(DocumentType.TASKS, "estimate:2.50", "t2");
        awaitSearch(DocumentType.TASKS, "estimate:true", "t4");
        awaitSearch(DocumentType.TASKS, "estimate:7 AND estimate:x AND estimate:false", "t5");
        awaitSearch(DocumentType.TASKS, "effort:small", "t2");
        awaitSearch(DocumentType.TASKS, "effort:5", "t3");
        awaitSearch(DocumentType.TASKS, "effort:1.25", "t4");
        awaitSearch(DocumentType.TASKS, "effort:false", "t1");
        assertThat(stored("t4").document().field("estimate")).isEqualTo(true);
        assertThat(stored("t5").document().field("estimate")).isEqualTo(Arrays.asList("x", 7L, null, false));
        assertThat(stored("t1").document()).isEqualTo(retyped);
    }

    @Test
    void columnsNamedWithTheReservedPrefixAreKeptButNotIndexed() {
        IndexedDocument written = task("t1", 10, "notes", "marker", "cf_notes", "secret", "cf_seq", "not a number",
                "cf_source", 12L, "cf_id_sort", List.of("a", "b"));

        assertThat(index.write(List.of(create(written)))).containsExactly(true);

        awaitSearch(DocumentType.TASKS, "notes:marker", "t1");
        assertThat(index.search(DocumentType.TASKS, "cf_notes:secret", 10).total()).isZero();
        assertThat(stored("t1").document()).isEqualTo(written);
    }

    // ---- Lifecycle ------------------------------------------------------------------------------------------------

    @Test
    void reopeningAnIndexKeepsEveryDocument() {
        index.write(List.of(create(task("t1", 10, "title", "Kept")), create(IndexedDocument.tombstone("t2", 20)),
                create(project("p1", 30, "Apollo"))));
        StoredDocument before = stored("t1");
        index.close();

        index = newIndex(name);
        index.open();

        assertThat(stored("t1")).isEqualTo(before);
        assertThat(stored("t2").document()).isEqualTo(IndexedDocument.tombstone("t2", 20));
        assertThat(index.liveDocuments(DocumentType.PROJECTS)).containsOnlyKeys("p1");
        assertThat(index.describe()).isNotBlank();
    }

    // ---- Helpers --------------------------------------------------------------------------------------------------

    /**
     * A task with every column, in column order; {@code overrides} are name, value pairs replacing or adding fields.
     */
    protected static IndexedDocument task(String id, long version, Object... overrides) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("id", id);
        fields.put("project_id", "p1");
        fields.put("title", "Task " + id);
        fields.put("description", null);
        fields.put("status", "open");
        fields.put("priority", "normal");
        fields.put("assignee", null);
        fields.put("due_date", null);
        fields.put(DocumentType.PROJECT_NAME, "Project one");
        fields.put(DocumentType.PROJECT_VERSION, 5L);
        for (int i = 0; i < overrides.length; i += 2) {
            fields.put((String) overrides[i], overrides[i + 1]);
        }
        return IndexedDocument.live(id, version, fields);
    }

    /** A project row; {@code extra} are name, value pairs of further columns. */
    protected static IndexedDocument project(String id, long version, String name, Object... extra) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("id", id);
        fields.put("organization_id", "o1");
        fields.put("name", name);
        for (int i = 0; i < extra.length; i += 2) {
            fields.put((String) extra[i], extra[i + 1]);
        }
        return IndexedDocument.live(id, version, fields);
    }

    /** Create {@code document} (a task or a project, by its fields) only if it does not exist. */
    protected static ConditionalWrite create(IndexedDocument document) {
        return new ConditionalWrite(typeOf(document), document, null);
    }

    /** Replace the document with {@code document} only if it is still at {@code expected}. */
    protected static ConditionalWrite replace(IndexedDocument document, Revision expected) {
        return new ConditionalWrite(typeOf(document), document, expected);
    }

    private static DocumentType typeOf(IndexedDocument document) {
        return document.fields().containsKey("organization_id") ? DocumentType.PROJECTS : DocumentType.TASKS;
    }

    /** The stored task {@code id}, which must exist. */
    protected StoredDocument stored(String id) {
        StoredDocument stored = index.get(DocumentType.TASKS, List.of(id)).get(id);
        assertThat(stored).as("task %s", id).isNotNull();
        return stored;
    }

    /** Waits until {@code query} finds exactly the documents {@code ids} (in any order). */
    protected void awaitSearch(DocumentType type, String query, String... ids) {
        await("search for '" + query + "' in " + type.table() + " to find " + List.of(ids))
                .atMost(SEARCHABLE_WITHIN)
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> {
                    SearchHits hits = index.search(type, query, 100);
                    assertThat(ids(hits)).containsExactlyInAnyOrder(ids);
                    assertThat(hits.total()).isEqualTo(ids.length);
                });
    }

    protected static List<String> ids(SearchHits hits) {
        return hits.hits().stream().map(h -> h.document().id()).toList();
    }
}
