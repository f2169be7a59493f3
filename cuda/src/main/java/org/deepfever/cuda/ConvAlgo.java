package org.deepfever.cuda;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Choosing a cuDNN forward-convolution algorithm from cudnnFindConvolutionForwardAlgorithmEx's
 * timings, once per layer shape ({@link Key}): the fastest that succeeded within the workspace limit.
 */
final class ConvAlgo {
    private ConvAlgo() {}

    /** One row of cudnnConvolutionFwdAlgoPerf_t. */
    record Perf(int algo, int status, float timeMs, long memory, int mathType) {}

    /** What an algorithm's choice depends on: the tensors' dims and strides, the convolution, whether ReLU is fused. */
    record Key(TensorLayout x, ConvGeometry geometry, TensorLayout y, boolean fusedRelu) {
        Key {
            x = x.atZero();
            y = y.atZero();
        }
    }

    /** A choice: the algorithm and the workspace it needs (bytes). */
    record Choice(int algo, long workspaceBytes, float timeMs) {}

    /**
     * The fastest successful result needing at most {@code workspaceLimit} bytes (ties: less
     * workspace, then the lower algorithm number), or empty when none qualifies.
     */
    static Optional<Perf> choose(List<Perf> results, long workspaceLimit) {
        return results.stream()
                .filter(p -> p.status() == 0 && p.memory() <= workspaceLimit && p.timeMs() >= 0)
                .min(Comparator.comparingDouble(Perf::timeMs).thenComparingLong(Perf::memory).thenComparingInt(Perf::algo));
    }
}
