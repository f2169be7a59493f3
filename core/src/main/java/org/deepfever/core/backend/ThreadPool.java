package org.deepfever.core.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed pool of platform threads for data-parallel loops. The calling thread takes part, so a
 * pool of {@code n} threads keeps {@code n - 1} workers.
 *
 * <p>Why not an ExecutorService: a network runs ~150 parallel loops per face, many of 50-150 us,
 * and waking a parked thread costs ~50 us on a VM. Workers here spin for a short while
 * ({@code -Dfever.pool.spinNs}, default 200 us) waiting for the next loop before they park, so
 * back-to-back loops start at once. Each loop is its own {@link Job} with its own counters, so a
 * worker still finishing an old loop can never take a task of the next one.
 *
 * <p>A call made while another is running (a second thread using the same model, or a nested
 * loop) runs serially on its caller instead of waiting.
 */
public final class ThreadPool implements AutoCloseable {
    private static final long SPIN_NS = Long.getLong("fever.pool.spinNs", 200_000);

    private final int threads;
    private final Thread[] workers;
    private final boolean[] parked;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Job job;
    private volatile boolean closed;

    /** One parallel loop: the body, the task count and the loop's own progress counters. */
    private static final class Job {
        final IntConsumer body;
        final int tasks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        volatile Throwable failure;

        Job(IntConsumer body, int tasks) {
            this.body = body;
            this.tasks = tasks;
        }

        void drain() {
            for (int i; (i = next.getAndIncrement()) < tasks; ) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                }
                finished.incrementAndGet();
            }
        }
    }

    public ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new boolean[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            final int id = i;
            workers[i] = new Thread(() -> work(id), "fever-worker-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    public static int defaultThreads() { return Runtime.getRuntime().availableProcessors(); }

    public int threads() { return threads; }

    private void work(int id) {
        Job seen = null;
        while (!closed) {
            Job j = job;
            if (j != seen) {
                seen = j;
                if (j != null) j.drain();
                continue;
            }
            long spinEnd = System.nanoTime() + SPIN_NS;
            while (job == seen && !closed && System.nanoTime() < spinEnd) Thread.onSpinWait();
            if (job == seen && !closed) {
                synchronized (parked) { parked[id] = true; }
                if (job == seen && !closed) LockSupport.park(this);
                synchronized (parked) { parked[id] = false; }
            }
        }
    }

    /** Runs {@code body(i)} for i in [0, tasks), spread over the pool; returns when all are done. */
    public void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (threads == 1 || tasks == 1 || closed || !lock.tryLock()) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        try {
            Job j = new Job(body, tasks);
            job = j;
            synchronized (parked) {
                for (int i = 0; i < workers.length; i++) if (parked[i]) LockSupport.unpark(workers[i]);
            }
            j.drain();
            for (int spins = 0; j.finished.get() < tasks; spins++) {
                if (spins < 1 << 16) Thread.onSpinWait(); else Thread.yield();
            }
            Throwable f = j.failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error err) throw err;
            if (f != null) throw new RuntimeException(f);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
