package org.deepfever.core.backend;

import org.deepfever.core.op.Op;

/**
 * A set of kernels. Backends are found with {@link java.util.ServiceLoader}; each answers
 * {@link #supports} per op, and ops it does not support run on the reference backend (chosen
 * explicitly by the executor, never by catching exceptions).
 */
public interface Backend {
    /** Stable name used by the {@code fever.backend} system property, e.g. "reference", "simd". */
    String name();

    /** Higher is preferred when no backend is forced. */
    int priority();

    /** False when this backend cannot run on this machine (e.g. no GPU). */
    default boolean available() { return true; }

    /** Why {@link #available} is false, in words a user can act on (null when available). */
    default String unavailableReason() { return available() ? null : "it cannot run on this machine"; }

    boolean supports(Op op);

    /** Prepares a kernel for {@code op}; only called when {@link #supports} returned true. */
    Kernel prepare(Op op);

    /**
     * Loads and initialises the classes {@link #prepare} will need, so that a model load can do it
     * on another thread while it reads the file (in a fresh JVM the SIMD backend's take tens of
     * milliseconds). Optional: {@code prepare} works without it.
     */
    default void preload() {}
}
