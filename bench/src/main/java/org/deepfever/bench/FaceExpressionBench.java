package org.deepfever.bench;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.deepfever.core.Tensor;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.ExecutionPlan;
import org.deepfever.core.graph.Node;
import org.deepfever.model.FaceExpressionNet;
import org.deepfever.model.FaceExpressionPreprocess;

/**
 * Speed of the built-in face expression model (face-api's FaceExpressionNet): per batch size, the
 * median and 10th percentile of the time per batch of {@link FaceExpressionNet#run} (the network
 * only: inputs already prepared), per face and in GMAC/s, the process CPU time per face (robust to
 * a busy host, where wall time includes waiting for a core), and the time {@link
 * FaceExpressionPreprocess} takes per face. Faces: the PNG crops of a folder (default
 * src-test/reference/face-api/crops, the golden crops), repeated to fill a batch.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/fever-bench.jar org.deepfever.bench.FaceExpressionBench \
 *     [threads (2)] [seconds (5)] [crops-dir] [batch sizes (1,8)] [profile]
 *   profile: also per node, the median time at the last batch size, slowest first
 * </pre>
 */
public final class FaceExpressionBench {
    private FaceExpressionBench() {}

    /** Entry point; see the class comment for the arguments. */
    public static void main(String[] args) throws IOException {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 5;
        Path dir = Path.of(args.length > 2 ? args[2] : "src-test/reference/face-api/crops");
        int[] batches = Arrays.stream((args.length > 3 ? args[3] : "1,8").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        List<int[]> images = new ArrayList<>();
        List<int[]> sizes = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".png")).sorted().toList()) {
                BufferedImage img = ImageIO.read(p.toFile());
                images.add(img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth()));
                sizes.add(new int[] {img.getWidth(), img.getHeight()});
            }
        }
        if (images.isEmpty()) throw new IOException("no .png crops in " + dir.toAbsolutePath());
        System.out.printf("FaceExpressionNet, %d threads, %d crops from %s, %s%n", threads, images.size(), dir, System.getProperty("java.vm.version"));
        List<float[]> prepared = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) prepared.add(FaceExpressionPreprocess.fromRgbInts(images.get(i), sizes.get(i)[0], sizes.get(i)[1]));
        for (int w = 0; w < 300; w++) FaceExpressionPreprocess.fromRgbInts(images.get(w % images.size()), sizes.get(w % images.size())[0], sizes.get(w % images.size())[1]);
        long t0 = System.nanoTime();
        int preps = 0;
        while (System.nanoTime() - t0 < 1_000_000_000L) {
            for (int i = 0; i < images.size(); i++, preps++) FaceExpressionPreprocess.fromRgbInts(images.get(i), sizes.get(i)[0], sizes.get(i)[1]);
        }
        System.out.printf("preprocess (pad, resize, normalise): %.3f ms per face%n", (System.nanoTime() - t0) / 1e6 / preps);
        try (FaceExpressionNet net = FaceExpressionNet.load(threads)) {
            double gmac = net.macsPerFace() / 1e9;
            for (int batch : batches) {
                List<float[]> faces = new ArrayList<>();
                for (int i = 0; i < batch; i++) faces.add(prepared.get(i % prepared.size()));
                // warm up: at least 40% of the measuring time and 200 runs (the JIT compiles the kernels meanwhile)
                long warmEnd = System.nanoTime() + (long) (seconds * 0.4e9);
                for (int w = 0; System.nanoTime() < warmEnd || w < 200; w++) net.run(faces);
                List<Long> times = new ArrayList<>();
                long cpu0 = processCpuNanos();
                long end = System.nanoTime() + (long) (seconds * 1e9);
                while (System.nanoTime() < end || times.size() < 20) {
                    long s = System.nanoTime();
                    net.run(faces);
                    times.add(System.nanoTime() - s);
                }
                double cpuPerFace = (processCpuNanos() - cpu0) / 1e6 / ((double) times.size() * batch);
                long[] t = times.stream().mapToLong(Long::longValue).sorted().toArray();
                double median = t[t.length / 2] / 1e6, p10 = t[t.length / 10] / 1e6;
                System.out.printf("batch %d: median %.3f ms (p10 %.3f), %.3f ms per face, %.1f GMAC/s, %d runs; CPU time %.3f ms per face (all threads)%n",
                        batch, median, p10, median / batch, gmac * batch / (median / 1e3), t.length, cpuPerFace);
            }
            if (args.length > 4 && args[4].equals("profile")) profile(net, prepared, batches[batches.length - 1], threads);
        }
    }

    /**
     * CPU time of the whole process so far (all threads: the pool's, plus the JIT's and GC's, small
     * once warm): on a shared host, the compute a run really took, where wall time also counts
     * waiting for a core.
     */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Per node median time over many runs of one plan (the observer's clock: kernel time plus a little dispatch). */
    private static void profile(FaceExpressionNet net, List<float[]> prepared, int batch, int threads) {
        int per = 3 * 112 * 112;
        float[] data = new float[batch * per];
        for (int i = 0; i < batch; i++) System.arraycopy(prepared.get(i % prepared.size()), 0, data, i * per, per);
        Map<String, Tensor> in = Map.of("input", Tensor.of(data, batch, 3, 112, 112));
        try (CompiledGraph cg = CompiledGraph.compile(net.graph(), threads)) {
            ExecutionPlan plan = cg.plan(batch);
            List<Node> nodes = cg.graph().nodes();
            Map<Node, Integer> index = new HashMap<>();
            for (int i = 0; i < nodes.size(); i++) index.put(nodes.get(i), i);
            int runs = 300;
            long[][] times = new long[nodes.size()][runs];
            boolean[] cl = new boolean[nodes.size()];
            for (int w = 0; w < 200; w++) plan.execute(in, null);
            plan.execute(in, (node, t) -> cl[index.get(node)] = t.isChannelsLast());
            for (int r = 0; r < runs; r++) {
                final int rr = r;
                long[] last = {System.nanoTime()};
                plan.execute(in, (node, t) -> {
                    long now = System.nanoTime();
                    times[index.get(node)][rr] = now - last[0];
                    last[0] = now;
                });
            }
            Integer[] order = new Integer[nodes.size()];
            double[] med = new double[nodes.size()];
            double sum = 0;
            for (int i = 0; i < nodes.size(); i++) {
                order[i] = i;
                long[] t = times[i].clone();
                Arrays.sort(t);
                med[i] = t[runs / 2] / 1e3;
                sum += med[i];
            }
            Arrays.sort(order, (a, b) -> Double.compare(med[b], med[a]));
            System.out.printf("per node, batch %d, %d threads (sum of medians %.3f ms):%n", batch, threads, sum / 1e3);
            for (int i : order) {
                Node n = nodes.get(i);
                System.out.printf("  %-28s %-16s %8.1f us  %4.1f%%  %s%n", n.name(), n.op().kind(), med[i], 100 * med[i] / sum, cl[i] ? "NHWC" : "NCHW");
            }
        }
    }
}
