package org.deepfever.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
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

    /**
     * Two threads, four tasks: the caller's home range is [0, 2), the worker's [2, 4). The worker's
     * first task waits for its last one, so only a thief taking slots from the back of the worker's
     * range (the caller, once its own range is done) lets the loop finish.
     */
    @Test
    void theBackOfALateThreadsRangeIsTakenOver() throws Exception {
        try (ThreadPool pool = new ThreadPool(2)) {
            for (int round = 0; round < 200; round++) {
                java.util.concurrent.CountDownLatch last = new java.util.concurrent.CountDownLatch(1);
                AtomicIntegerArray hits = new AtomicIntegerArray(4);
                Thread caller = Thread.currentThread();
                Thread[] ranBy = new Thread[4];
                boolean[] timedOut = {false};
                pool.parallelFor(4, i -> {
                    ranBy[i] = Thread.currentThread();
                    if (i == 3) last.countDown();
                    if (i == 2) {
                        try {
                            if (!last.await(10, java.util.concurrent.TimeUnit.SECONDS)) timedOut[0] = true;
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    hits.incrementAndGet(i);
                });
                assertEquals(false, timedOut[0], "round " + round + ": task 3 was never taken over");
                for (int i = 0; i < 4; i++) assertEquals(1, hits.get(i), "round " + round + " task " + i);
                assertEquals(caller, ranBy[3], "round " + round + ": task 3 (the back of the worker's range) ran on the caller");
            }
        }
    }

    @Test
    void moreTasksThanSlotsAreGroupedAndEachRunsOnce() {
        try (ThreadPool pool = new ThreadPool(3)) {
            for (int tasks : new int[] {ThreadPool.MAX_SLOTS - 1, ThreadPool.MAX_SLOTS, ThreadPool.MAX_SLOTS + 1, 3 * ThreadPool.MAX_SLOTS + 17}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(tasks);
                pool.parallelFor(tasks, i -> hits.incrementAndGet(i));
                for (int i = 0; i < tasks; i++) assertEquals(1, hits.get(i), tasks + " tasks, task " + i);
            }
        }
    }

    @Test
    void steadyStateLoopsAllocateNothingOnTheCaller() {
        var bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (ThreadPool pool = new ThreadPool(2)) {
            long[] sink = new long[64];
            java.util.function.IntConsumer body = i -> sink[i] += i; // one body, reused: only the pool's own allocation is measured
            for (int i = 0; i < 20_000; i++) pool.parallelFor(64, body);
            long before = bean.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 10_000; i++) pool.parallelFor(64, body);
            long perLoop = (bean.getCurrentThreadAllocatedBytes() - before) / 10_000;
            // the previous pool allocated a job and two counters per loop (~80 bytes)
            assertEquals(0, perLoop, "bytes allocated per parallel loop");
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

    /** The pool's own workers, told apart from other pools' by comparing with the threads alive before it. */
    private static Set<Thread> workersSince(Set<Thread> before) {
        Set<Thread> now = new HashSet<>(Thread.getAllStackTraces().keySet());
        now.removeAll(before);
        now.removeIf(t -> !t.getName().startsWith("fever-worker-"));
        return now;
    }

    @Test
    void closeReturnsOnlyWhenEveryWorkerHasEndedAndLaterLoopsRunOnTheCaller() {
        Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        ThreadPool pool = new ThreadPool(4);
        Set<Thread> workers = workersSince(before);
        assertEquals(3, workers.size(), "a pool of 4 threads keeps 3 workers: " + workers);
        pool.parallelFor(64, i -> { }); // the workers have run and are now spinning or parked
        Thread.currentThread().interrupt();
        pool.close();
        assertTrue(Thread.interrupted(), "an interrupt during close is kept");
        for (Thread t : workers) assertFalse(t.isAlive(), t.getName() + " outlived close()");
        pool.close(); // idempotent
        Thread caller = Thread.currentThread();
        AtomicLong elsewhere = new AtomicLong();
        pool.parallelFor(16, i -> { if (Thread.currentThread() != caller) elsewhere.incrementAndGet(); });
        assertEquals(0, elsewhere.get(), "after close every task runs on the caller");
    }
}
