package org.deepfever.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime's side of {@link LayerProfile}: runs the model with ORT's own profiler
 * ({@code SessionOptions.enableProfiling}) and prints, per node, the median kernel time over the
 * measured runs, slowest first, with the sum. Node names are ORT's after graph optimisation (a
 * fused or NCHWc-converted node keeps its source name with a suffix), so compare by layer.
 * {@code java -cp fever-bench.jar org.deepfever.bench.OrtLayerProfile MODEL.onnx [batch] [threads] [runs] [rows]}
 * (rows: how many nodes are shown, default 40).
 */
public final class OrtLayerProfile {

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: OrtLayerProfile MODEL.onnx [batch] [threads] [runs] [rows shown (40)]");
            System.exit(2);
        }
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 200;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Path prefix = Files.createTempDirectory("ort-profile").resolve("ort");
        String file;
        float[] data = BenchData.uniformFaces(batch);
        long[] shape = {batch, 3, 140, 140};
        int warm = Math.max(20, runs / 5);
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.enableProfiling(prefix.toString());
            try (OrtSession session = env.createSession(Path.of(args[0]).toAbsolutePath().toString(), so);
                 OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape)) {
                String name = session.getInputNames().iterator().next();
                long[] total = new long[runs];
                for (int i = 0; i < warm + runs; i++) {
                    long t = System.nanoTime();
                    try (OrtSession.Result ignored = session.run(Map.of(name, input))) {
                        if (i >= warm) total[i - warm] = System.nanoTime() - t;
                    }
                }
                file = session.endProfiling();
                java.util.Arrays.sort(total);
                System.out.printf("onnxruntime median total %.2f ms, p10 %.2f ms (batch %d, %d threads); per node medians of the last %d runs below%n",
                        total[runs / 2] / 1e6, total[runs / 10] / 1e6, batch, threads, runs);
            }
        }
        // One event per node and run, in run order: keep each node's last `runs` durations.
        // The profile is a JSON array of trace events; node runs are {"cat":"Node","name":"X_kernel_time","dur":us}.
        JsonNode events = new ObjectMapper().readTree(Path.of(file).toFile());
        Map<String, List<Long>> durations = new HashMap<>();
        for (JsonNode event : events) {
            String name = event.path("name").asText();
            if (!event.path("cat").asText().equals("Node") || !name.endsWith("_kernel_time") || !event.path("dur").isIntegralNumber()) continue;
            String node = name.substring(0, name.length() - "_kernel_time".length());
            durations.computeIfAbsent(node, k -> new ArrayList<>()).add(event.get("dur").longValue());
        }
        record Row(String name, double ms) {}
        List<Row> rows = new ArrayList<>();
        double sum = 0;
        for (var e : durations.entrySet()) {
            List<Long> all = e.getValue();
            long[] last = all.subList(Math.max(0, all.size() - runs), all.size()).stream().mapToLong(Long::longValue).sorted().toArray();
            double ms = last[last.length / 2] / 1e3;
            rows.add(new Row(e.getKey(), ms));
            sum += ms;
        }
        rows.sort((a, b) -> Double.compare(b.ms, a.ms));
        System.out.printf("sum of node medians %.2f ms over %d nodes%n", sum, rows.size());
        int shown = args.length > 4 ? Integer.parseInt(args[4]) : 40;
        for (Row row : rows.subList(0, Math.min(shown, rows.size()))) {
            System.out.printf("%8.3f ms %5.1f%%  %s%n", row.ms, 100 * row.ms / sum, row.name);
        }
        Files.deleteIfExists(Path.of(file));
    }
}
