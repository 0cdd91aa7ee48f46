package dev.changeflow.indexer;

/** The search behaviour with the embedded Lucene index, the default engine. */
class LuceneSearchIT extends SearchBehaviour {

    @Override
    IndexerHarness harness() throws Exception {
        return IndexerHarness.lucene();
    }

    @Override
    void forgetDeletedVersions(IndexerHarness harness) {
        // Lucene has no versions of its own to forget: tombstones are documents, kept until purged.
    }
}
