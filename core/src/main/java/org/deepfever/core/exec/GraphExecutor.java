package org.deepfever.core.exec;

import java.util.Map;
import org.deepfever.core.Tensor;

/**
 * A graph made ready to run on one device: the CPU ({@link CompiledGraph}, per-op kernels on heap
 * tensors) or an accelerator ({@link org.deepfever.core.backend.Device}, which plans and runs the
 * whole graph in its own memory). Callers hand in and get back host tensors either way.
 */
public interface GraphExecutor extends AutoCloseable {
    /**
     * Runs the graph on a batch. Inputs by name (the batch is the first dimension of the first
     * input); outputs by name, as fresh contiguous heap tensors owned by the caller.
     *
     * @throws IllegalArgumentException when an input is missing or has the wrong shape
     * @throws IllegalStateException when the executor is closed or the device fails
     */
    Map<String, Tensor> run(Map<String, Tensor> inputs);

    /** Which backend or device runs each node, by node name (for {@code fever info}). */
    Map<String, String> backendByNode();

    /**
     * Activation memory, in bytes, that a run of {@code batch} items plans to use (on the device
     * for an accelerator, on the heap for the CPU), known before anything runs.
     *
     * @throws IllegalArgumentException when the graph's shapes do not work out for {@code batch}
     */
    long peakActivationBytes(int batch);

    /** Releases threads, device memory and handles; idempotent. */
    @Override
    void close();
}
