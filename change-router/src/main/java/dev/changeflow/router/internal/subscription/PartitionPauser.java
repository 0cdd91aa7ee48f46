package dev.changeflow.router.internal.subscription;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.kafka.receiver.KafkaReceiver;

/**
 * Keeps one partition's backlog from filling the whole in-flight budget. Records come from the consumer partition by
 * partition, so without this a partition with a long backlog behind a slow lane would hold every buffered slot and
 * leave the other lanes idle (head-of-line blocking). A partition with {@code limit} records in flight is paused;
 * it is resumed when it is down to half of that.
 *
 * <p>The receiver also pauses every partition while nothing downstream asks for records (back-pressure), and a real
 * {@code resume} during that pause would let records in without demand. So a partition is resumed only while some
 * partition not paused here is fetching, which shows the receiver's own pause is off; for that, one partition is never
 * paused here. The checks run on the consumer's thread, after each poll that returned records, after records finish,
 * and on a timer. Thread-safe.
 */
final class PartitionPauser {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionPauser.class);

    private final KafkaReceiver<?, ?> receiver;
    private final InFlightCounter counter;
    private final IntSupplier limit;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Partitions paused here; touched only on the consumer's thread. */
    private final Set<TopicPartition> paused = new HashSet<>();
    private volatile boolean anyPaused;

    PartitionPauser(KafkaReceiver<?, ?> receiver, InFlightCounter counter, IntSupplier limit) {
        this.receiver = receiver;
        this.counter = counter;
        this.limit = limit;
    }

    /** Something changed: check the partitions soon, on the consumer's thread. Cheap when nothing is to be done. */
    void check() {
        if (scheduled.compareAndSet(false, true)) {
            receiver.doOnConsumer(this::reconcile)
                    .onErrorResume(e -> {
                        scheduled.set(false);
                        LOG.debug("Partition pause check failed: {}", e.toString());
                        return Mono.empty();
                    })
                    .subscribe();
        }
    }

    /** Whether a finished record of a paused partition might allow a resume. */
    boolean anyPaused() {
        return anyPaused;
    }

    private boolean reconcile(Consumer<?, ?> consumer) {
        scheduled.set(false);
        Set<TopicPartition> assignment = consumer.assignment();
        paused.retainAll(assignment);
        int high = limit.getAsInt();
        int low = high / 2;
        List<TopicPartition> toPause = new ArrayList<>();
        for (TopicPartition tp : assignment) {
            // One partition always stays with the receiver, so its state shows whether the receiver is pausing.
            if (!paused.contains(tp) && counter.current(tp) >= high && paused.size() + toPause.size() + 1 < assignment.size()) {
                toPause.add(tp);
            }
        }
        if (!toPause.isEmpty()) {
            consumer.pause(toPause);
            paused.addAll(toPause);
        }
        List<TopicPartition> toResume = new ArrayList<>();
        for (TopicPartition tp : paused) {
            if (counter.current(tp) <= low) {
                toResume.add(tp);
            }
        }
        if (!toResume.isEmpty() && receiverIsFetching(consumer, assignment)) {
            consumer.resume(toResume);
            toResume.forEach(paused::remove);
        }
        anyPaused = !paused.isEmpty();
        return true;
    }

    private boolean receiverIsFetching(Consumer<?, ?> consumer, Set<TopicPartition> assignment) {
        Set<TopicPartition> pausedNow = consumer.paused();
        for (TopicPartition tp : assignment) {
            if (!paused.contains(tp) && !pausedNow.contains(tp)) {
                return true;
            }
        }
        return false;
    }
}
