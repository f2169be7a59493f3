package org.deepfever.core.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * back-to-back loops start at once.
 *
 * <p>A loop allocates nothing: its state lives in the pool, and one 64-bit ticket holds the loop's
 * generation, its slot count and the next free slot. A worker claims a slot by a compare-and-set
 * of the whole ticket, so a worker still finishing an old loop can never take a slot of the next
 * one (its generation no longer matches), and a claim that succeeds proves the body it read
 * belongs to that loop (the next body is written only after every slot of this loop has finished).
 * More than {@link #MAX_SLOTS} tasks are grouped into consecutive runs, one per slot.
 *
 * <p>A call made while another is running (a second thread using the same model, or a nested
 * loop) runs serially on its caller instead of waiting.
 */
public final class ThreadPool implements AutoCloseable {
    private static final long SPIN_NS = Long.getLong("fever.pool.spinNs", 200_000);
    /** Slots per loop that a ticket can count (16 bits each for the slot count and the next slot). */
    static final int MAX_SLOTS = 0xFFFF;

    private final int threads;
    private final Thread[] workers;
    private final boolean[] parked;
    private final ReentrantLock lock = new ReentrantLock();
    /** generation (32 bits) | slots (16) | next slot (16); published after the loop's fields below. */
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicInteger finished = new AtomicInteger();
    private IntConsumer body;
    private int tasks, perSlot;
    private volatile Throwable failure;
    private volatile boolean closed;

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

    private static int generation(long t) { return (int) (t >>> 32); }

    private void work(int id) {
        int seen = 0;
        while (!closed) {
            int gen = generation(ticket.get());
            if (gen != seen) {
                seen = gen;
                drain(gen);
                continue;
            }
            long spinEnd = System.nanoTime() + SPIN_NS;
            while (generation(ticket.get()) == seen && !closed && System.nanoTime() < spinEnd) Thread.onSpinWait();
            if (generation(ticket.get()) == seen && !closed) {
                synchronized (parked) { parked[id] = true; }
                if (generation(ticket.get()) == seen && !closed) LockSupport.park(this);
                synchronized (parked) { parked[id] = false; }
            }
        }
    }

    /** Claims and runs slots of loop {@code gen} until none is left (or a newer loop has started). */
    private void drain(int gen) {
        // read before any claim; a successful claim below proves they are loop gen's (class comment)
        IntConsumer b = body;
        int n = tasks, chunk = perSlot;
        while (true) {
            long t = ticket.get();
            int slots = (int) (t >>> 16) & 0xFFFF, slot = (int) t & 0xFFFF;
            if (generation(t) != gen || slot >= slots) return;
            if (!ticket.compareAndSet(t, t + 1)) continue;
            try {
                for (int i = slot * chunk, end = Math.min(n, i + chunk); i < end; i++) b.accept(i);
            } catch (Throwable e) {
                if (failure == null) failure = e;
            }
            finished.incrementAndGet();
        }
    }

    /** Runs {@code body(i)} for i in [0, tasks), spread over the pool; returns when all are done. */
    public void parallelFor(int tasks, IntConsumer body) {
        // kept small so that it inlines into its callers: on one thread a kernel's task lambda then
        // never escapes, and escape analysis removes its allocation
        if (threads == 1 || tasks <= 1 || closed) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        runParallel(tasks, body);
    }

    private void runParallel(int tasks, IntConsumer body) {
        // nested (the caller already runs a loop: the lock is reentrant, the loop state is not) or
        // concurrent calls run serially on their caller
        if (lock.isHeldByCurrentThread() || !lock.tryLock()) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        try {
            int chunk = (tasks + MAX_SLOTS - 1) / MAX_SLOTS;
            int slots = (tasks + chunk - 1) / chunk;
            this.body = body;
            this.tasks = tasks;
            this.perSlot = chunk;
            failure = null;
            finished.set(0);
            int gen = generation(ticket.get()) + 1;
            if (gen == 0) gen = 1; // 0 is the workers' "nothing seen yet"
            ticket.set((long) gen << 32 | (long) slots << 16); // publishes the fields above
            synchronized (parked) {
                for (int i = 0; i < workers.length; i++) if (parked[i]) LockSupport.unpark(workers[i]);
            }
            drain(gen);
            for (int spins = 0; finished.get() < slots; spins++) {
                if (spins < 1 << 16) Thread.onSpinWait(); else Thread.yield();
            }
            this.body = null; // keep no reference to the caller's lambda
            Throwable f = failure;
            failure = null;
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
