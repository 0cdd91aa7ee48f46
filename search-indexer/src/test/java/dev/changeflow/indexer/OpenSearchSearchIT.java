package dev.changeflow.indexer;

import java.util.concurrent.TimeUnit;

/** The search behaviour against a real OpenSearch 2.19 node in this JVM. */
class OpenSearchSearchIT extends SearchBehaviour {

    @Override
    IndexerHarness harness() throws Exception {
        return IndexerHarness.openSearch(OpenSearchNode.shared());
    }

    /**
     * Sets {@code index.gc_deletes} to 0 s on this test's indices, so OpenSearch keeps no version of a deleted
     * document at all, and lets a few seconds pass: a tombstone that relied on the engine's delete would be gone.
     */
    @Override
    void forgetDeletedVersions(IndexerHarness harness) throws Exception {
        for (String table : new String[] {"tasks", "projects"}) {
            OpenSearchNode.shared().updateIndexSetting(harness.id + "-" + table, "index.gc_deletes", "0s");
        }
        // Time passing is the point: with gc_deletes at 0 s, any delete's version is gone after this.
        TimeUnit.SECONDS.sleep(3);
    }
}
