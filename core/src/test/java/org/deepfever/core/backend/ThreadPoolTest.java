package org.deepfever.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ThreadPoolTest {
    @Test
    void everyTaskRunsExactlyOnceAcrossManyBackToBackLoops() {
        try (ThreadPool pool = new ThreadPool(3)) {
            for (int round = 0; round < 20_000; round++) {
                int tasks = 1 + round % 7;
                AtomicIntegerArray hits = new AtomicIntegerArray(tasks);
                int r = round;
                pool.parallelFor(tasks, i -> hits.addAndGet(i, 1 + r % 3));
                for (int i = 0; i < tasks; i++) assertEquals(1 + round % 3, hits.get(i), "round " + round + " task " + i);
            }
        }
    }

    @Test
    void failuresReachTheCallerAndThePoolStaysUsable() {
        try (ThreadPool pool = new ThreadPool(2)) {
            assertThrows(IllegalStateException.class, () -> pool.parallelFor(8, i -> {
                if (i == 5) throw new IllegalStateException("boom");
            }));
            AtomicLong sum = new AtomicLong();
            pool.parallelFor(100, sum::addAndGet);
            assertEquals(4950, sum.get());
        }
    }

    @Test
    void concurrentAndNestedCallsStillRunEveryTask() throws Exception {
        try (ThreadPool pool = new ThreadPool(2)) {
            AtomicLong total = new AtomicLong();
            Thread[] callers = new Thread[4];
            for (int c = 0; c < callers.length; c++) {
                callers[c] = new Thread(() -> {
                    for (int k = 0; k < 500; k++) pool.parallelFor(4, i -> pool.parallelFor(3, j -> total.incrementAndGet()));
                });
                callers[c].start();
            }
            for (Thread t : callers) t.join();
            assertEquals(4L * 500 * 4 * 3, total.get());
        }
    }
}
