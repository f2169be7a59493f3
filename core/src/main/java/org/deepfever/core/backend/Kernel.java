package org.deepfever.core.backend;

import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;

/**
 * An op prepared by a backend (weights packed, parameters resolved), ready to run many times, from
 * many threads at once: a kernel keeps no per-call state of its own.
 *
 * <p>Activation tensors are heap-backed; all dimensions after the first are contiguous, the first
 * (batch) may have a larger stride (a channel slice of a concat buffer). The one exception is a
 * kernel that declares it reads or writes a value channels-last ({@link #acceptsChannelsLast},
 * {@link #writesChannelsLast}): the executor may then hand it that tensor in the layout of
 * {@link Tensor#isChannelsLast()} (NHWC in memory, logical shape still NCHW). A kernel that declares
 * nothing always gets NCHW.
 */
public interface Kernel {
    void run(Tensor[] inputs, Tensor output, ExecContext ctx);

    /** Floats of scratch memory this kernel needs for the given shapes; the executor provides it. */
    default long scratchFloats(Shape[] inputs, Shape output, int threads) { return 0; }

    /**
     * Whether input {@code input} may be given channels-last for these shapes (the kernel must then
     * also still accept NCHW). Must depend on the shapes' C, H, W only, not on the batch size.
     */
    default boolean acceptsChannelsLast(int input, Shape[] inputs, Shape output) { return false; }

    /** Whether the output may be given channels-last for these shapes (same rules as {@link #acceptsChannelsLast}). */
    default boolean writesChannelsLast(Shape[] inputs, Shape output) { return false; }

    /**
     * The input whose memory the output may share, or -1 (the default). A kernel names an input here
     * only when it reads each element of it solely to compute the output element at the same index,
     * before writing that element (the residual of a fused residual conv): the executor may then place
     * the output in that input's buffer when this node is the buffer's last reader, so the kernel
     * reads and writes one buffer instead of two. Must depend on the shapes' C, H, W only.
     */
    default int inPlaceInput(Shape[] inputs, Shape output) { return -1; }

    /**
     * How this kernel runs a call on these tensors with {@code threads} threads, in one line (what
     * {@code fever info --kernels} prints per layer): the algorithm, tiling and split it would choose.
     * The tensors are the executor's planned views (shapes, layouts, buffers shared with an input);
     * their contents are not read. Null (the default) for a kernel that has no choice worth showing.
     */
    default String describe(Tensor[] inputs, Tensor output, int threads) { return null; }
}
