package org.deepfever.core.backend;

import java.util.List;
import org.deepfever.core.exec.GraphExecutor;
import org.deepfever.core.graph.Graph;

/**
 * An accelerator that runs whole graphs in its own memory (the CUDA device of the fever-cuda
 * module). Unlike a {@link Backend}, whose kernels each run one op on heap tensors, a device takes
 * the whole graph at once: it uploads the weights once, plans activation buffers in device memory and
 * copies only the inputs in and the outputs out. Devices are found with {@link java.util.ServiceLoader}
 * ({@link Devices}); the engine needs none of them, the CPU is always there.
 */
public interface Device {
    /** Stable name used by {@code --device} and {@code DeepFever.Options.withDevice}, e.g. "cuda". */
    String name();

    /** Whether this device can run here: its libraries found and loaded and at least one device present. */
    boolean available();

    /** Why {@link #available} is false, naming what is missing and where it was looked for; null when available. */
    String unavailableReason();

    /**
     * Prepares {@code graph} to run on this device: weights uploaded, kernels and plans chosen.
     * {@code threads} is the number of CPU threads the device may use for any part it leaves on the host.
     *
     * @throws IllegalStateException when the device is not available or fails while preparing
     * @throws UnsupportedOperationException when the graph holds ops this device cannot run, each named
     */
    GraphExecutor compile(Graph graph, int threads);

    /**
     * What this device found, for {@code fever info --devices}: one line per fact (libraries and
     * their versions and paths, each GPU's name, memory and compute capability), or the lines that say
     * what is missing and where it was looked for. Never throws.
     */
    List<String> describe();
}
