package dev.changeflow.indexer;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changeflow.config.ConfigException;
import dev.changeflow.config.Settings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A bad setting fails at creation, naming the key, the value and what is allowed; nothing is connected. */
class IndexerSettingsTest {

    @Test
    void anUnknownEngineNamesTheKeyTheValueAndTheEngines() {
        assertThatThrownBy(() -> create(Map.of("CHANGEFLOW_INDEXER_ENGINE", "elastic")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("changeflow.indexer.engine")
                .hasMessageContaining("elastic")
                .hasMessageContaining("lucene, opensearch");
    }

    @Test
    void openSearchWithoutAUrlNamesTheMissingSetting() {
        assertThatThrownBy(() -> create(Map.of("CHANGEFLOW_INDEXER_ENGINE", "opensearch")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("changeflow.opensearch.url");
    }

    @Test
    void anUppercaseIndexPrefixIsRefusedBecauseOpenSearchIndexNamesAreLowercase() {
        assertThatThrownBy(() -> create(Map.of("CHANGEFLOW_INDEXER_INDEX_PREFIX", "Changeflow-")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("changeflow.indexer.index-prefix")
                .hasMessageContaining("lowercase");
    }

    @Test
    void aRefreshIntervalThatOpenSearchWouldNotReadIsRefused() {
        assertThatThrownBy(() -> create(Map.of("CHANGEFLOW_INDEXER_OPENSEARCH_REFRESH_INTERVAL", "-1")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("changeflow.indexer.opensearch-refresh-interval");
    }

    @Test
    void thePasswordNeverAppearsInTheMessage() {
        assertThatThrownBy(() -> create(Map.of("CHANGEFLOW_INDEXER_ENGINE", "opensearch",
                "CHANGEFLOW_OPENSEARCH_URL", "ftp://search:9200", "CHANGEFLOW_OPENSEARCH_PASSWORD", "hunter2")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("changeflow.opensearch.url")
                .hasMessageNotContaining("hunter2");
    }

    private static IndexerService create(Map<String, String> values) {
        Map<String, String> all = new HashMap<>(values);
        all.putIfAbsent("CHANGEFLOW_KAFKA_BOOTSTRAP", "localhost:9092");
        return IndexerService.create(Settings.of(all), new SimpleMeterRegistry());
    }
}
