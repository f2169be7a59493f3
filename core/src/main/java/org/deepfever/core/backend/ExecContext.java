package org.deepfever.core.backend;

/** What a running kernel gets from the executor: the thread pool and a pre-planned scratch array. */
public interface ExecContext {
    ThreadPool pool();

    /** Scratch array of at least the size the kernel asked for in {@link Kernel#scratchFloats}. */
    float[] scratch();
}
