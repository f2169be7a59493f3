package org.deepfever.core.backend;

import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;

/**
 * An op prepared by a backend (weights packed, parameters resolved), ready to run many times, from
 * many threads at once: a kernel keeps no per-call state of its own.
 *
 * <p>Activation tensors are heap-backed; all dimensions after the first are contiguous, the first
 * (batch) may have a larger stride (a channel slice of a concat buffer).
 */
public interface Kernel {
    void run(Tensor[] inputs, Tensor output, ExecContext ctx);

    /** Floats of scratch memory this kernel needs for the given shapes; the executor provides it. */
    default long scratchFloats(Shape[] inputs, Shape output, int threads) { return 0; }
}
