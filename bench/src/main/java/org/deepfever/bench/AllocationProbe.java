package org.deepfever.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Map;
import org.deepfever.api.ModelFiles;
import org.deepfever.core.Tensor;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.ExecutionPlan;

/**
 * Heap allocated per inference in steady state, summed over every live thread (the caller and the
 * pool's workers): {@code java -cp fever-bench.jar org.deepfever.bench.AllocationProbe MODEL [batch]
 * [threads] [warm-up runs] [measured runs]}. Runs one plan directly (no output copies by the API), so
 * what it reports is the executor's and the kernels' own allocation.
 */
public final class AllocationProbe {
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: AllocationProbe MODEL [batch] [threads] [warm-up runs] [measured runs]");
            System.exit(2);
        }
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int warm = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
        int runs = args.length > 4 ? Integer.parseInt(args[4]) : 500;
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (ModelFiles.Loaded model = ModelFiles.load(Path.of(args[0]));
             CompiledGraph graph = CompiledGraph.compile(model.graph(), threads)) {
            String input = model.graph().inputs().keySet().iterator().next();
            float[] data = BenchData.uniformFaces(batch);
            Map<String, Tensor> in = Map.of(input, Tensor.of(data, batch, 3, 140, 140));
            ExecutionPlan plan = graph.plan(batch);
            for (int i = 0; i < warm; i++) plan.execute(in, null);
            long[] ids = bean.getAllThreadIds();
            long before = sum(bean.getThreadAllocatedBytes(ids));
            for (int i = 0; i < runs; i++) plan.execute(in, null);
            long after = sum(bean.getThreadAllocatedBytes(ids));
            System.out.printf("batch %d, %d threads: %.0f bytes allocated per inference (all threads, %d runs after %d of warm-up)%n",
                    batch, threads, (after - before) / (double) runs, runs, warm);
        }
    }

    private static long sum(long[] a) {
        long s = 0;
        for (long v : a) if (v > 0) s += v;
        return s;
    }
}
