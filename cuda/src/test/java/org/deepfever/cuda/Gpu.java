package org.deepfever.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.graph.Graph;

/**
 * For tests that need a GPU: skips them (a JUnit assumption) with the probe's reason, printed once,
 * where there is none; and the reference the device's results are compared with.
 */
final class Gpu {
    private static boolean told;

    private Gpu() {}

    /** Skips the calling test unless the cuda device can run here; the reason is printed. */
    static CudaLibraries libraries() {
        CudaDevice.Status s = CudaDevice.status();
        if (s.reason() != null) {
            synchronized (Gpu.class) {
                if (!told) System.out.println("[fever-cuda] GPU tests skipped: " + s.reason());
                told = true;
            }
        }
        assumeTrue(s.reason() == null, () -> "no usable GPU: " + s.reason());
        return s.probe().libraries();
    }

    /** A device executor with these settings (default: in-place residuals off, 256 MiB workspace). */
    static CudaGraphExecutor compile(Graph g, boolean inPlace) {
        return new CudaGraphExecutor(libraries(), CudaDevice.deviceIndex(), g, 2, new CudaConfig(256, 8, inPlace));
    }

    /** The scalar reference backend's outputs for {@code inputs}. */
    static Map<String, Tensor> reference(Graph g, Map<String, Tensor> inputs) {
        try (CompiledGraph cpu = new CompiledGraph(g, Backends.reference(), null, new ThreadPool(1), true)) {
            return cpu.run(inputs);
        }
    }

    /** max |a - b| over two tensors of one shape. */
    static double maxAbsDiff(Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) throw new AssertionError("shapes differ: " + a.shape() + " vs " + b.shape());
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((double) x[i] - y[i]));
        return Double.isNaN(worst) ? Double.POSITIVE_INFINITY : worst;
    }

    static double maxAbs(Tensor t) {
        double m = 0;
        for (float v : t.toFloatArray()) m = Math.max(m, Math.abs(v));
        return m;
    }
}
