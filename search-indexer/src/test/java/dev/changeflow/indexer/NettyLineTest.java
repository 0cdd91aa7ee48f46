package dev.changeflow.indexer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.util.Version;
import org.junit.jupiter.api.Test;

/**
 * This module's tests run an OpenSearch 2.19 node, which needs Netty 4.1; Lettuce needs Netty 4.2. The two must never
 * meet in this JVM.
 */
class NettyLineTest {

    @Test
    void lettuceIsNotOnThisModulesClasspath() {
        assertThatThrownBy(() -> Class.forName("io.lettuce.core.RedisClient"))
                .isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void nettyIsTheLineTheOpenSearchNodeNeeds() {
        assertThat(Version.identify().get("netty-common").artifactVersion()).startsWith("4.1.");
    }
}
