package org.deepfever.core.backend;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fixed pool of platform threads for data-parallel loops. The calling thread takes part, so a
 * pool of {@code n} threads keeps {@code n - 1} workers.
 */
public final class ThreadPool implements AutoCloseable {
    private final int threads;
    private final ExecutorService workers;

    public ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        AtomicInteger id = new AtomicInteger();
        this.workers = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "fever-worker-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public static int defaultThreads() { return Runtime.getRuntime().availableProcessors(); }

    public int threads() { return threads; }

    /** Runs {@code body(i)} for i in [0, tasks), spread over the pool; returns when all are done. */
    public void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (threads == 1 || tasks == 1) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            for (int i; (i = next.getAndIncrement()) < tasks; ) body.accept(i);
        };
        int helpers = Math.min(threads, tasks) - 1;
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[helpers];
        for (int h = 0; h < helpers; h++) futures[h] = workers.submit(drain);
        Throwable failure = null;
        try {
            drain.run();
        } catch (Throwable t) {
            failure = t;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new RuntimeException(failure);
    }

    @Override
    public void close() {
        if (workers != null) workers.shutdownNow();
    }
}
