package org.deepfever.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.deepfever.api.ModelFiles;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.ExecutionPlan;
import org.deepfever.core.graph.Node;

/**
 * Where the time goes: runs a model many times and prints, per node, the median time, its share
 * GFLOP/s and output layout (NCHW, or NHWC for a channels-last buffer), slowest first. {@code java -cp fever-bench.jar org.deepfever.bench.LayerProfile
 * MODEL [batch] [threads] [runs]}.
 */
public final class LayerProfile {
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: LayerProfile MODEL [batch] [threads] [runs] [rows shown (40)]");
            System.exit(2);
        }
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 200;
        try (ModelFiles.Loaded model = ModelFiles.load(Path.of(args[0]));
             CompiledGraph graph = CompiledGraph.compile(model.graph(), threads)) {
            String input = model.graph().inputs().keySet().iterator().next();
            float[] data = BenchData.uniformFaces(batch);
            Map<String, Tensor> in = Map.of(input, Tensor.of(data, batch, 3, 140, 140));
            ExecutionPlan plan = graph.plan(batch);
            Shape[] shapes = model.graph().inferShapes(batch);
            int n = model.graph().nodes().size();
            long[][] times = new long[n][runs];
            Map<Node, Integer> index = new HashMap<>();
            for (int i = 0; i < n; i++) index.put(model.graph().nodes().get(i), i);
            for (int w = 0; w < Math.max(20, runs / 5); w++) plan.execute(in, null);
            boolean[] outCl = new boolean[n];
            plan.execute(in, (node, t) -> outCl[index.get(node)] = t.isChannelsLast());
            long[] total = new long[runs];
            for (int run = 0; run < runs; run++) {
                final int rr = run;
                long[] last = {System.nanoTime()};
                long start = last[0];
                plan.execute(in, (node, t) -> {
                    long now = System.nanoTime();
                    times[index.get(node)][rr] = now - last[0];
                    last[0] = now;
                });
                total[run] = System.nanoTime() - start;
            }
            java.util.Arrays.sort(total);
            double totalMs = total[runs / 2] / 1e6;
            record Row(String name, String kind, double ms, double gflops, String layout) {}
            java.util.List<Row> rows = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                Node node = model.graph().nodes().get(i);
                long[] t = times[i].clone();
                java.util.Arrays.sort(t);
                double ms = t[runs / 2] / 1e6;
                Shape[] ins = new Shape[node.inputCount()];
                for (int k = 0; k < ins.length; k++) ins[k] = shapes[node.input(k)];
                double flop = 2.0 * node.op().macs(ins) * batch;
                rows.add(new Row(node.name(), node.op().kind() + " " + shapes[node.output()], ms, flop / (ms * 1e6), outCl[i] ? "NHWC" : "NCHW"));
            }
            rows.sort((a, b) -> Double.compare(b.ms, a.ms));
            System.out.printf("median total %.2f ms, p10 %.2f ms (batch %d, %d threads); per node medians below%n", totalMs, total[runs / 10] / 1e6, batch, threads);
            double sum = 0;
            for (Row row : rows) sum += row.ms;
            int shown = args.length > 4 ? Integer.parseInt(args[4]) : 40;
            for (Row row : rows.subList(0, Math.min(shown, rows.size()))) {
                System.out.printf("%8.3f ms %5.1f%% %7.1f GFLOP/s  %-40s %s %s%n", row.ms, 100 * row.ms / sum, row.gflops, row.name, row.kind, row.layout);
            }
            Map<String, Double> byKind = new java.util.TreeMap<>();
            for (Row row : rows) byKind.merge(row.kind.split(" ")[0], row.ms, Double::sum);
            System.out.println("by op kind (ms): " + byKind);
        }
    }
}
