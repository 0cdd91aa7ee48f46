package dev.changeflow.indexer.internal.lucene;

import dev.changeflow.indexer.index.ConditionalWrite;
import dev.changeflow.indexer.index.DocumentType;
import dev.changeflow.indexer.index.DocumentType.FieldKind;
import dev.changeflow.indexer.index.IndexedDocument;
import dev.changeflow.indexer.index.InvalidQueryException;
import dev.changeflow.indexer.index.Revision;
import dev.changeflow.indexer.index.SearchHits;
import dev.changeflow.indexer.index.SearchIndex;
import dev.changeflow.indexer.index.StoredDocument;
import dev.changeflow.indexer.internal.DocumentJson;
import dev.changeflow.router.subscription.FailureKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.MultiFieldQueryParser;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.AlreadyClosedException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.util.ThreadInterruptedException;
import org.apache.lucene.util.BytesRef;

/**
 * The embedded search index: one Lucene index per document type under a directory on disk, near-real-time.
 *
 * <p>Every {@link #write} happens under the type's writer lock, checks each expected revision against the stored
 * document, reopens the near-real-time reader before releasing the lock (so {@link #get}, {@link #tasksOfProject} and
 * {@link #search} see the write at once), and returns after a group commit has made it durable. A revision is a
 * sequence number kept in the document; the counter resumes after the highest stored one when the index is opened.
 *
 * <p>Text fields use the standard analyzer without stop words (as OpenSearch's {@code standard} analyzer does), keyword
 * fields match exactly; every column {@link DocumentType#fields()} does not name is a text field of its values' string
 * forms ({@link DocumentType#isDynamicColumn}); a query is parsed with Lucene's classic query parser, terms ANDed.
 *
 * <p><b>Broken for good.</b> An {@code IndexWriter} closes itself after a tragic failure (an I/O error while
 * flushing, its write lock invalidated, an interrupt inside its I/O), and every later call fails. Such failures are
 * {@link FailureKind#BROKEN} ({@link #classify}); {@link #reopen} then rolls every writer back (discarding only writes
 * no call has returned from, which their callers retry), which releases its write lock, and opens new writers on the
 * same directories. Threads still inside the old writers fail and are retried.
 */
public final class LuceneIndex implements SearchIndex {
    private static final String ID = "id";
    private static final String ID_SORT = "cf_id_sort";
    private static final String SOURCE = "cf_source";
    private static final String SEQ = "cf_seq";
    private static final Query LIVE = new TermQuery(new Term(DocumentJson.DELETED, "false"));

    private final Path directory;
    private final UnaryOperator<Directory> wrapper;
    /** The open indices, replaced whole by {@link #reopen}; empty before {@link #open} and after {@link #close}. */
    private volatile Map<DocumentType, TypeIndex> indices = Map.of();
    private final java.util.concurrent.atomic.AtomicLong reopens = new java.util.concurrent.atomic.AtomicLong();

    /** An index under {@code directory} (created if missing); nothing is opened before {@link #open}. */
    public LuceneIndex(Path directory) {
        this(directory, UnaryOperator.identity());
    }

    /**
     * An index whose Lucene directories are wrapped by {@code wrapper} (a test that stalls or fails I/O), opened anew
     * on each {@link #reopen}.
     */
    public LuceneIndex(Path directory, UnaryOperator<Directory> wrapper) {
        this.directory = Objects.requireNonNull(directory, "directory");
        this.wrapper = Objects.requireNonNull(wrapper, "wrapper");
    }

    @Override
    public synchronized void open() {
        if (!indices.isEmpty()) {
            throw new IllegalStateException("Already open: " + describe());
        }
        indices = openAll();
    }

    /** Opens a writer per type; closes those it opened if one fails. */
    private Map<DocumentType, TypeIndex> openAll() {
        Map<DocumentType, TypeIndex> opened = new EnumMap<>(DocumentType.class);
        try {
            for (DocumentType type : DocumentType.values()) {
                opened.put(type, new TypeIndex(type, directory.resolve(type.table()), wrapper));
            }
            return java.util.Collections.unmodifiableMap(opened);
        } catch (IOException | RuntimeException e) {
            opened.values().forEach(TypeIndex::discard);
            throw new UncheckedIOException("Cannot open the Lucene index in " + directory + ": " + e, e instanceof
                    IOException io ? io : new IOException(e));
        }
    }

    /**
     * Replaces every writer, reader and committer: rolls the old writers back, which releases their write locks
     * (writes no {@link #write} call has returned from are discarded; their callers fail and retry), then opens new
     * ones on the same directories.
     *
     * @throws UncheckedIOException if a directory cannot be opened (the index stays unusable: the caller must fail)
     * @throws IllegalStateException if the index is not open
     */
    @Override
    public synchronized void reopen() {
        Map<DocumentType, TypeIndex> old = indices;
        if (old.isEmpty()) {
            throw new IllegalStateException("The Lucene index is not open: " + describe());
        }
        // First out of sight (readers arriving now wait for this reopen), then closed.
        indices = Map.of();
        reopens.incrementAndGet();
        old.values().forEach(TypeIndex::discard);
        indices = openAll();
    }

    @Override
    public long reopens() {
        return reopens.get();
    }

    @Override
    public void awaitDurable() {
        indices.values().forEach(index -> index.committer.awaitDurableIfPending());
    }

    @Override
    public Map<String, StoredDocument> get(DocumentType type, Collection<String> ids) {
        return read(type, (index, searcher) -> {
            Map<String, StoredDocument> found = new HashMap<>();
            for (String id : ids) {
                StoredDocument document = index.lookup(searcher, id);
                if (document != null) {
                    found.put(id, document);
                }
            }
            return found;
        });
    }

    @Override
    public List<Boolean> write(List<ConditionalWrite> writes) {
        writes.forEach(LuceneIndex::checkFits);
        Boolean[] applied = new Boolean[writes.size()];
        Map<DocumentType, List<Integer>> byType = new EnumMap<>(DocumentType.class);
        for (int i = 0; i < writes.size(); i++) {
            byType.computeIfAbsent(writes.get(i).type(), t -> new ArrayList<>()).add(i);
        }
        List<TypeIndex> written = new ArrayList<>();
        byType.forEach((type, positions) -> {
            TypeIndex index = index(type);
            if (index.write(writes, positions, applied)) {
                written.add(index);
            }
        });
        written.forEach(index -> index.committer.awaitDurable());
        return List.of(applied);
    }

    @Override
    public List<StoredDocument> tasksOfProject(String projectId) {
        Query query = new BooleanQuery.Builder()
                .add(new TermQuery(new Term("project_id", projectId)), Occur.FILTER)
                .add(LIVE, Occur.FILTER)
                .build();
        return read(DocumentType.TASKS, (index, searcher) -> index.all(searcher, query));
    }

    @Override
    public SearchHits search(DocumentType type, String query, int limit) {
        Query parsed = parse(type, query, index(type).analyzer);
        Query live = new BooleanQuery.Builder().add(parsed, Occur.MUST).add(LIVE, Occur.FILTER).build();
        return read(type, (index, searcher) -> {
            int total = searcher.count(live);
            TopDocs top = searcher.search(live, Math.max(1, limit),
                    new Sort(SortField.FIELD_SCORE, new SortField(ID_SORT, SortField.Type.STRING)), true);
            List<SearchHits.Hit> hits = new ArrayList<>();
            var stored = searcher.storedFields();
            for (ScoreDoc hit : top.scoreDocs) {
                if (hits.size() == limit) {
                    break;
                }
                Document document = stored.document(hit.doc);
                hits.add(new SearchHits.Hit(TypeIndex.read(document).document(), hit.score));
            }
            return new SearchHits(total, hits);
        });
    }

    @Override
    public Map<String, IndexedDocument> liveDocuments(DocumentType type) {
        return read(type, (index, searcher) -> {
            Map<String, IndexedDocument> live = new LinkedHashMap<>();
            index.all(searcher, LIVE).forEach(d -> live.put(d.document().id(), d.document()));
            return live;
        });
    }

    @Override
    public boolean isOutage(Throwable error) {
        // The index is a local directory: there is no engine to wait for.
        return false;
    }

    /**
     * {@link FailureKind#FAULT} for a document the index refuses ({@link IllegalArgumentException}: a field of the
     * wrong type, a term too long); {@link FailureKind#BROKEN} for Lucene's own failures (a closed writer or reader,
     * a write lock invalidated or held, an interrupted or closed channel, any I/O error) and whenever a writer has
     * closed itself; {@link FailureKind#FAULT} for anything else. Never an outage: there is no server to wait for.
     */
    @Override
    public FailureKind classify(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof IllegalArgumentException) {
                return FailureKind.FAULT;
            }
            if (t instanceof AlreadyClosedException || t instanceof LockObtainFailedException
                    || t instanceof ThreadInterruptedException || t instanceof IOException) {
                return FailureKind.BROKEN;
            }
        }
        for (TypeIndex index : indices.values()) {
            if (!index.writer.isOpen() || index.writer.getTragicException() != null) {
                return FailureKind.BROKEN;
            }
        }
        return FailureKind.FAULT;
    }

    @Override
    public String describe() {
        return "lucene " + directory.toAbsolutePath();
    }

    @Override
    public synchronized void close() {
        Map<DocumentType, TypeIndex> open = indices;
        indices = Map.of();
        open.values().forEach(TypeIndex::close);
    }

    /**
     * Runs {@code read} on the type's current searcher. A read that meets a reader closed by a {@link #reopen} running
     * meanwhile waits for the reopen and runs once more on the new one, so searches keep answering while the index
     * heals.
     */
    private <T> T read(DocumentType type, TypedSearch<T> read) {
        TypeIndex index = index(type);
        try {
            return index.withSearcher(searcher -> read.apply(index, searcher));
        } catch (AlreadyClosedException e) {
            TypeIndex now = index(type);
            if (now == index) {
                throw e;
            }
            return now.withSearcher(searcher -> read.apply(now, searcher));
        }
    }

    @FunctionalInterface
    private interface TypedSearch<T> {
        T apply(TypeIndex index, IndexSearcher searcher) throws IOException;
    }

    /** The type's open index; while a {@link #reopen} runs, waits for it. */
    private TypeIndex index(DocumentType type) {
        TypeIndex index = indices.get(type);
        if (index == null) {
            synchronized (this) {
                index = indices.get(type);
            }
        }
        if (index == null) {
            throw new IllegalStateException("The Lucene index is not open: " + describe());
        }
        return index;
    }

    /**
     * Refuses, before anything of the call is written, a document whose typed field has a value of the wrong type
     * (the fields OpenSearch maps as numbers), so both engines refuse the same documents.
     */
    private static void checkFits(ConditionalWrite write) {
        Object projectVersion = write.document().field(DocumentType.PROJECT_VERSION);
        if (projectVersion != null && !(projectVersion instanceof Long || projectVersion instanceof Integer)) {
            throw new IllegalArgumentException("Cannot index " + write.type().table() + " document "
                    + write.document().id() + ": " + DocumentType.PROJECT_VERSION + " must be a whole number, not '"
                    + projectVersion + "'");
        }
    }

    private static Query parse(DocumentType type, String query, Analyzer analyzer) {
        MultiFieldQueryParser parser = new MultiFieldQueryParser(type.defaultFields().toArray(String[]::new),
                analyzer);
        parser.setDefaultOperator(QueryParser.Operator.AND);
        try {
            return parser.parse(query);
        } catch (ParseException | IllegalArgumentException e) {
            throw new InvalidQueryException("Cannot parse the query '" + query + "': " + firstLine(e.getMessage()), e);
        }
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }

    /** The Lucene index of one document type. */
    private static final class TypeIndex {
        private final DocumentType type;
        private final Directory directory;
        private final Analyzer analyzer;
        private final IndexWriter writer;
        private final SearcherManager searchers;
        private final GroupCommitter committer;
        private final Object writeLock = new Object();
        private long lastSeq;

        TypeIndex(DocumentType type, Path path, UnaryOperator<Directory> wrapper) throws IOException {
            this.type = type;
            Files.createDirectories(path);
            this.directory = wrapper.apply(FSDirectory.open(path));
            Map<String, Analyzer> perField = new HashMap<>();
            type.fields().forEach((field, kind) -> {
                if (kind == FieldKind.KEYWORD) {
                    perField.put(field, new KeywordAnalyzer());
                }
            });
            perField.put(DocumentJson.DELETED, new KeywordAnalyzer());
            this.analyzer = new PerFieldAnalyzerWrapper(new StandardAnalyzer(CharArraySet.EMPTY_SET), perField);
            IndexWriterConfig config = new IndexWriterConfig(analyzer)
                    .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND);
            IndexWriter opened = null;
            SearcherManager readers = null;
            try {
                opened = new IndexWriter(directory, config);
                readers = new SearcherManager(opened, null);
            } catch (IOException | RuntimeException e) {
                // Nothing half-open may keep the write lock: a later reopen must be able to take it.
                closeQuietly(readers);
                if (opened != null) {
                    closeQuietly(opened::rollback);
                }
                closeQuietly(directory);
                throw e;
            }
            this.writer = opened;
            this.searchers = readers;
            this.committer = new GroupCommitter(writer, type.table());
            try {
                this.lastSeq = highestSeq();
            } catch (IOException | RuntimeException e) {
                discard();
                throw e;
            }
        }

        private long highestSeq() throws IOException {
            IndexSearcher searcher = searchers.acquire();
            try {
                long max = 0;
                for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
                    NumericDocValues values = leaf.reader().getNumericDocValues(SEQ);
                    while (values != null && values.nextDoc() != NumericDocValues.NO_MORE_DOCS) {
                        max = Math.max(max, values.longValue());
                    }
                }
                return max;
            } finally {
                searchers.release(searcher);
            }
        }

        /** Applies the writes at {@code positions}; fills {@code applied}; returns whether anything was written. */
        boolean write(List<ConditionalWrite> writes, List<Integer> positions, Boolean[] applied) {
            synchronized (writeLock) {
                try {
                    Map<String, Long> writtenNow = new HashMap<>();
                    IndexSearcher searcher = searchers.acquire();
                    try {
                        for (int position : positions) {
                            ConditionalWrite write = writes.get(position);
                            String id = write.document().id();
                            Long current = writtenNow.containsKey(id) ? writtenNow.get(id) : seqOf(lookup(searcher, id));
                            boolean matches = write.expected() == null ? current == null
                                    : current != null && current == write.expected().seqNo();
                            applied[position] = matches;
                            if (matches) {
                                long seq = ++lastSeq;
                                writer.updateDocument(new Term(ID, id), toLucene(write.document(), seq));
                                writtenNow.put(id, seq);
                            }
                        }
                    } finally {
                        searchers.release(searcher);
                    }
                    if (writtenNow.isEmpty()) {
                        return false;
                    }
                    searchers.maybeRefreshBlocking();
                    return true;
                } catch (IOException e) {
                    throw new UncheckedIOException("Lucene write to " + type.table() + " failed: " + e.getMessage(), e);
                }
            }
        }

        private static Long seqOf(StoredDocument document) {
            return document == null ? null : document.revision().seqNo();
        }

        StoredDocument lookup(IndexSearcher searcher, String id) throws IOException {
            TopDocs top = searcher.search(new TermQuery(new Term(ID, id)), 1);
            if (top.scoreDocs.length == 0) {
                return null;
            }
            return read(searcher.storedFields().document(top.scoreDocs[0].doc));
        }

        List<StoredDocument> all(IndexSearcher searcher, Query query) throws IOException {
            int count = searcher.count(query);
            if (count == 0) {
                return List.of();
            }
            TopDocs top = searcher.search(query, count, new Sort(new SortField(ID_SORT, SortField.Type.STRING)));
            List<StoredDocument> documents = new ArrayList<>(top.scoreDocs.length);
            var stored = searcher.storedFields();
            for (ScoreDoc hit : top.scoreDocs) {
                documents.add(read(stored.document(hit.doc)));
            }
            return documents;
        }

        static StoredDocument read(Document document) {
            String id = document.get(ID);
            BytesRef source = document.getBinaryValue(SOURCE);
            long seq = document.getField(SEQ).numericValue().longValue();
            IndexedDocument indexed = DocumentJson.fromBytes(id,
                    java.util.Arrays.copyOfRange(source.bytes, source.offset, source.offset + source.length));
            return new StoredDocument(indexed, new Revision(seq, 0));
        }

        private Document toLucene(IndexedDocument document, long seq) {
            Document lucene = new Document();
            lucene.add(new StringField(ID, document.id(), Field.Store.YES));
            lucene.add(new SortedDocValuesField(ID_SORT, new BytesRef(document.id())));
            lucene.add(new StringField(DocumentJson.DELETED, Boolean.toString(document.deleted()), Field.Store.NO));
            lucene.add(new StoredField(SOURCE, new BytesRef(DocumentJson.toBytes(document))));
            lucene.add(new NumericDocValuesField(SEQ, seq));
            lucene.add(new StoredField(SEQ, seq));
            type.fields().forEach((field, kind) -> {
                if (!field.equals(ID)) {
                    for (String text : texts(document.field(field))) {
                        lucene.add(kind == FieldKind.TEXT ? new TextField(field, text, Field.Store.NO)
                                : new StringField(field, text, Field.Store.NO));
                    }
                }
            });
            // Every other column, known or added by a migration since, as text of its string form: the same field type
            // whatever its values' type, so a retyped column can never clash with what is already indexed.
            document.fields().forEach((field, value) -> {
                if (type.isDynamicColumn(field)) {
                    for (String text : texts(value)) {
                        lucene.add(new TextField(field, text, Field.Store.NO));
                    }
                }
            });
            return lucene;
        }

        private static List<String> texts(Object value) {
            if (value == null) {
                return List.of();
            }
            if (value instanceof List<?> list) {
                List<String> texts = new ArrayList<>();
                list.forEach(v -> texts.addAll(texts(v)));
                return texts;
            }
            return List.of(value instanceof BigDecimal d ? d.toPlainString() : value.toString());
        }

        <T> T withSearcher(SearcherFunction<T> function) {
            try {
                IndexSearcher searcher = searchers.acquire();
                try {
                    return function.apply(searcher);
                } finally {
                    searchers.release(searcher);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Lucene read of " + type.table() + " failed: " + e.getMessage(), e);
            }
        }

        /**
         * Rolls the writer back (releasing its write lock, discarding what is not committed) and closes the rest,
         * whatever state they are in; never throws.
         */
        void discard() {
            // A writer that closed itself after a tragedy has released its lock already: rollback is then a no-op.
            closeQuietly(writer::rollback);
            committer.close();
            closeQuietly(searchers);
            closeQuietly(directory);
        }

        private static void closeQuietly(java.io.Closeable closeable) {
            if (closeable == null) {
                return;
            }
            try {
                closeable.close();
            } catch (IOException | RuntimeException e) {
                // Releasing what a broken index held; its failure changes nothing for the caller.
            }
        }

        void close() {
            try {
                committer.close();
                searchers.close();
                if (writer.isOpen()) {
                    writer.commit();
                }
                writer.close();
                directory.close();
            } catch (IOException e) {
                throw new UncheckedIOException("Closing the Lucene index of " + type.table() + " failed", e);
            }
        }
    }

    @FunctionalInterface
    private interface SearcherFunction<T> {
        T apply(IndexSearcher searcher) throws IOException;
    }
}
