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
 * ({@link #SPIN_NS}) waiting for the next loop before they park, so back-to-back loops start at once.
 *
 * <p>Each thread has a home range of a loop's slots: thread p of P (the caller is 0) the p-th
 * contiguous P-th. It runs its own range front to back, then takes slots from the back of the
 * others' ranges. So when consecutive layers split alike (batch 8 on two threads: four images
 * each), each thread keeps working on the same images, whose activations are in its own core's
 * caches, and a thread that is late (woken from a park, slowed by a neighbour on a shared host)
 * still gets its work taken over. Against slots taken in order by whoever came first (the earlier
 * design: an image's next layer then ran on either core), DeepFEVER batch 8 on two threads,
 * LayerProfile, four alternations on a noisy host: median 90.7-95.0 against
 * 91.1-103.9 ms, each pair won (0.4-9%); the big stem convs gain most (conv2d_4a 10.4 against
 * 11.0 ms), too big for L2, so the locality that pays is likely the L3 of each core's CCX.
 *
 * <p>A loop allocates nothing: its state lives in the pool. The loop's generation is published in
 * {@code ticket}; each home range is one 64-bit cursor (generation 32 bits | end 16 | next 16).
 * A thread claims a slot by a compare-and-set of a whole cursor (next + 1 by its owner, end - 1 by
 * a thief), so a worker still finishing an old loop can never take a slot of the next one (its
 * generation no longer matches), and a claim that succeeds proves the body it read belongs to
 * that loop (the next body is written only after every slot of this loop has finished). More
 * than {@link #MAX_SLOTS} tasks are grouped into consecutive runs, one per slot.
 *
 * <p>A call made while another is running (a second thread using the same model, or a nested
 * loop) runs serially on its caller instead of waiting.
 */
public final class ThreadPool implements AutoCloseable {
    /**
     * How long an idle worker spins for the next loop before it parks: 200 us, longer than the gap
     * between two layers' loops, so a network's ~150 loops per face start without a wake-up (parked
     * wake-ups cost about 5 ms per face at batch 1 when workers parked at once).
     */
    private static final long SPIN_NS = 200_000;
    /** Slots per loop that a cursor can count (16 bits each for its end and its next slot). */
    static final int MAX_SLOTS = 0xFFFF;

    private final int threads;
    private final Thread[] workers;
    private final boolean[] parked;
    private final ReentrantLock lock = new ReentrantLock();
    /** The current loop's generation (in the high 32 bits); published after the loop's fields below. */
    private final AtomicLong ticket = new AtomicLong();
    /** Per thread (0: the caller), its home range of the current loop: generation | end slot | next slot. */
    private final AtomicLong[] cursors;
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
        this.cursors = new AtomicLong[threads];
        for (int i = 0; i < threads; i++) cursors[i] = new AtomicLong();
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
                drain(gen, id + 1);
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

    /**
     * Runs slots of loop {@code gen} for thread {@code who}: its home range front to back, then the
     * others' from their backs, until none is left (or a newer loop has started).
     */
    private void drain(int gen, int who) {
        // read before any claim; a successful claim below proves they are loop gen's (class comment)
        IntConsumer b = body;
        int n = tasks, chunk = perSlot;
        for (int k = 0; k < threads; k++) {
            AtomicLong cursor = cursors[(who + k) % threads];
            boolean own = k == 0;
            while (true) {
                long c = cursor.get();
                int end = (int) (c >>> 16) & 0xFFFF, next = (int) c & 0xFFFF;
                if (generation(c) != gen || next >= end) break;
                // the owner takes its next slot, a thief the owner's last
                int slot = own ? next : end - 1;
                if (!cursor.compareAndSet(c, own ? c + 1 : c - (1L << 16))) continue;
                try {
                    for (int i = slot * chunk, e = Math.min(n, i + chunk); i < e; i++) b.accept(i);
                } catch (Throwable e) {
                    if (failure == null) failure = e;
                }
                finished.incrementAndGet();
            }
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
            for (int p = 0; p < threads; p++) {
                long lo = (long) slots * p / threads, hi = (long) slots * (p + 1) / threads;
                cursors[p].set((long) gen << 32 | hi << 16 | lo);
            }
            ticket.set((long) gen << 32); // publishes the fields above
            synchronized (parked) {
                for (int i = 0; i < workers.length; i++) if (parked[i]) LockSupport.unpark(workers[i]);
            }
            drain(gen, 0);
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

    /**
     * Stops the workers and waits until they have ended, so that no thread of this pool outlives the
     * call (a worker still running slots of a loop finishes them first; a worker closing its own pool
     * does not wait for itself). Later loops run on their caller. Idempotent; an interrupt while
     * waiting is kept, not thrown.
     */
    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
        boolean interrupted = false;
        for (Thread t : workers) {
            if (t == Thread.currentThread()) continue;
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true; // closing must finish: the flag is restored below
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
