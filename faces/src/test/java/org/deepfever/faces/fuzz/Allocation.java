package org.deepfever.faces.fuzz;

import java.lang.management.ManagementFactory;

/** The current thread's allocation, to catch allocations sized by what an input merely claims. */
final class Allocation {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Allocation() {}

    static long current() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Fails when more than {@code allowed} bytes were allocated since {@code before}. */
    static void check(long before, long allowed, int inputLength) {
        long used = current() - before;
        if (used > allowed) {
            throw new AssertionError("a " + inputLength + "-byte input allocated " + used + " bytes (allowed " + allowed
                    + "): an allocation sized by a number the input claims?");
        }
    }
}
