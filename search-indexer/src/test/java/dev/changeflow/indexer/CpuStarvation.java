package dev.changeflow.indexer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** Threads spinning on every core until closed: a saturated machine, for the indexer's self-healing tests. */
final class CpuStarvation implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> burners = new ArrayList<>();

    private CpuStarvation(int threads) {
        for (int i = 0; i < threads; i++) {
            Thread thread = new Thread(() -> {
                long x = 0;
                while (running.get()) {
                    x += System.nanoTime() % 7;
                }
                if (x == 42) {
                    System.out.print("");
                }
            }, "cpu-burner-" + i);
            thread.setDaemon(true);
            thread.start();
            burners.add(thread);
        }
    }

    /** As many spinning threads as the machine has cores. */
    static CpuStarvation onEveryCore() {
        return new CpuStarvation(Runtime.getRuntime().availableProcessors());
    }

    /** Stops the threads and waits for them. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread burner : burners) {
            burner.join();
        }
    }
}
