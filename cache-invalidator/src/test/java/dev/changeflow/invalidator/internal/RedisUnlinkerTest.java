package dev.changeflow.invalidator.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RedisUnlinkerTest {

    private static Set<String> keys(int count) {
        Set<String> keys = new LinkedHashSet<>();
        IntStream.range(0, count).forEach(i -> keys.add("k" + i));
        return keys;
    }

    @Test
    void keysAreCutIntoChunksOfAtMostTheChunkSizeInOrder() {
        List<List<String>> chunks = RedisUnlinker.chunks(keys(1001), 500);

        assertThat(chunks).extracting(List::size).containsExactly(500, 500, 1);
        assertThat(chunks.get(0).get(0)).isEqualTo("k0");
        assertThat(chunks.get(2)).containsExactly("k1000");
    }

    @Test
    void fewerKeysThanTheChunkSizeMakeOneChunk() {
        assertThat(RedisUnlinker.chunks(keys(3), 500)).containsExactly(List.of("k0", "k1", "k2"));
    }

    @Test
    void anExactMultipleLeavesNoEmptyChunk() {
        assertThat(RedisUnlinker.chunks(keys(4), 2)).extracting(List::size).containsExactly(2, 2);
    }
}
