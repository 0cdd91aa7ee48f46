package dev.changeflow.router.ops;

import dev.changeflow.config.Mode;
import dev.changeflow.router.topics.TopicProvisioner;
import dev.changeflow.router.topics.TopicProvisioner.TopicSpec;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;

/**
 * The record of what was replayed: the compacted topic {@value DeadLetters#LEDGER_TOPIC}, one entry per replayed
 * dead letter, keyed {@code <dlt topic>/<partition>/<offset>}. An entry is written in the same transaction as the
 * record it stands for, so the two exist together or not at all. A tombstone (null value) under a key forgets that
 * replay, for an operator who deliberately wants a record replayed again.
 */
final class ReplayLedger {
    private ReplayLedger() {
    }

    /** Creates the ledger topic if it is missing: 1 partition, compacted, min.insync.replicas = min(2, RF). */
    static void ensure(Admin admin, int replicationFactor) throws InterruptedException, ExecutionException {
        // Dev mode: an existing, weaker ledger is logged, not fatal; replays must work wherever the topic came from.
        new TopicProvisioner(admin, Mode.DEV).provision(List.of(TopicSpec.offsetsTopic(DeadLetters.LEDGER_TOPIC,
                replicationFactor, Math.min(2, replicationFactor))));
    }

    /**
     * The keys of the committed ledger entries whose key starts with {@code prefix} ({@code ""} for all), read up to
     * the ledger's last stable offset. Call it only after the transactional producer's {@code initTransactions()},
     * which settles any transaction an earlier replayer of the same DLT left open.
     */
    static Set<String> replayed(Map<String, Object> clientProperties, String prefix) {
        Set<String> keys = new HashSet<>();
        try (DeadLetterScan scan = new DeadLetterScan(clientProperties, DeadLetters.LEDGER_TOPIC,
                "changeflow-dlt-ledger-reader")) {
            scan.forEach(record -> {
                if (record.key() != null && record.key().startsWith(prefix)) {
                    if (record.value() == null) {
                        keys.remove(record.key());
                    } else {
                        keys.add(record.key());
                    }
                }
            });
        }
        return keys;
    }

    /** The value of an entry: where the record went and when, as a small JSON object. Never the record's value. */
    static String entry(String originalTopic, Instant replayedAt) {
        // Topic names are [a-zA-Z0-9._-]: nothing to escape.
        return "{\"to\":\"" + originalTopic + "\",\"replayedAt\":\"" + replayedAt + "\"}";
    }
}
