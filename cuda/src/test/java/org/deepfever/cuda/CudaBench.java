package org.deepfever.cuda;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deepfever.api.DeepFever;
import org.deepfever.core.Tensor;

/**
 * Latency and throughput of the cuda device, for scripts/gpu-check.sh (a program, not a test):
 * {@code CudaBench MODEL|default BATCHES [RUNS]}, e.g. {@code model.pth 1,64,256 20}. Each batch
 * size is warmed up (plan built, algorithms found) and then timed end to end as a caller sees it:
 * host input in, host results out. Prints one line per batch: median and best milliseconds per run
 * and faces per second at the median.
 */
public final class CudaBench {
    private CudaBench() {}

    /**
     * Runs the benchmark.
     *
     * @param args model file (or "default" for the untrained full-size network), comma-separated batch sizes, runs per size
     * @throws Exception when the model does not load or the device fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: CudaBench MODEL|default BATCHES [RUNS]");
            System.exit(2);
        }
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        DeepFever.Options o = DeepFever.Options.defaults().withDevice("cuda");
        long t0 = System.nanoTime();
        try (DeepFever m = args[0].equals("default") ? DeepFever.untrainedDefault(o) : DeepFever.load(Path.of(args[0]), o)) {
            System.out.printf("fever cuda: load %.0f ms, %s%n", (System.nanoTime() - t0) / 1e6, m.info().backendNodeCounts());
            for (String b : args[1].split(",")) {
                int batch = Integer.parseInt(b.trim());
                Tensor x = Graphs.random(batch, batch, 3, DeepFever.SIZE, DeepFever.SIZE);
                long w0 = System.nanoTime();
                m.run(x);
                double firstMs = (System.nanoTime() - w0) / 1e6;
                for (int i = 0; i < 3; i++) m.run(x);
                List<Double> ms = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    long s = System.nanoTime();
                    m.run(x);
                    ms.add((System.nanoTime() - s) / 1e6);
                }
                double[] sorted = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                double median = sorted[sorted.length / 2];
                System.out.printf("fever cuda batch %d: median %.2f ms, best %.2f ms, %.0f faces/s (first run with planning %.0f ms)%n",
                        batch, median, sorted[0], batch * 1000 / median, firstMs);
            }
        }
    }
}
